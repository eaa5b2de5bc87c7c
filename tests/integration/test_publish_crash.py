"""A publisher killed inside its transaction leaves serving at the previous version, on DuckDB and
on PostgreSQL: a real subprocess pauses after every write of the swap, just before the commit, and
is SIGKILLed there."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys

import pandas as pd
import pytest

from data_contracts import contract
from marketprep.publish import publish
from marketprep.settings import parse_warehouse_url
from marketprep.warehouse import Warehouse

pytestmark = pytest.mark.integration

STAGING = contract("forecast.recommendations")
DAY = dt.date(2026, 6, 6)
NOW = dt.datetime(2026, 6, 5, 11, 0, tzinfo=dt.UTC)

# The child publishes, then from inside the open transaction tells the parent it got there and
# blocks reading a socket the parent never writes to.
CHILD = """
import datetime as dt, socket, sys
from marketprep.publish import publish
from marketprep.settings import parse_warehouse_url
from marketprep.warehouse import Warehouse

url, port = sys.argv[1], int(sys.argv[2])

def pause():
    parent = socket.create_connection(("127.0.0.1", port))
    parent.sendall(b"inside")
    parent.recv(1)

publish(
    Warehouse(parse_warehouse_url(url)),
    "killed-run",
    dt.date(2026, 6, 6),
    dt.datetime(2026, 6, 6, 11, 0, tzinfo=dt.UTC),
    before_commit=pause,
)
"""


def stage(warehouse: Warehouse, units: int) -> None:
    rows = [
        {
            "vendor_id": vendor,
            "market_id": "ballard",
            "market_date": DAY,
            "product_id": f"{vendor}-bread",
            "product_name": "Bread",
            "recommended_units": units,
            "units_low": units - 1,
            "units_high": units + 1,
            "service_level": 0.8,
            "model": "prophet",
            "explanation": "usual Saturday",
            "published_at": NOW,
            "run_id": "staging",
        }
        for vendor in ("ann", "bob")
    ]
    warehouse.replace(STAGING, rows)


def served(warehouse: Warehouse) -> pd.DataFrame:
    return warehouse.query("select * from serving.recommendations order by vendor_id")


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse_url(request, tmp_path) -> str:
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    return request.getfixturevalue("postgres_url")


def test_killed_publisher_leaves_the_previous_version(warehouse_url):
    warehouse = Warehouse(parse_warehouse_url(warehouse_url))
    stage(warehouse, 10)
    publish(warehouse, "run-1", DAY, NOW)
    before = served(warehouse)
    stage(warehouse, 99)

    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(120)  # a guard against a hang, not a measurement
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, warehouse_url, str(listener.getsockname()[1])],
            env=os.environ.copy(),
        )
        try:
            connection, _ = listener.accept()
            with connection:
                assert connection.recv(6) == b"inside"
                if warehouse.kind == "postgres":
                    # Readers keep the previous version while the swap is open.
                    pd.testing.assert_frame_equal(served(warehouse), before)
                os.kill(child.pid, signal.SIGKILL)
                assert child.wait() == -signal.SIGKILL
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()

    pd.testing.assert_frame_equal(served(warehouse), before)
    assert served(warehouse)["recommended_units"].tolist() == [10, 10]
    versions = warehouse.query("select distinct version from serving.recommendation_history")
    assert versions["version"].tolist() == [1]
    assert warehouse.query("select max(version) as v from serving.publications")["v"].iloc[0] == 1

    # Nothing is left locked: the next publication goes through as version 2.
    assert publish(warehouse, "run-2", DAY, NOW).version == 2
    assert served(warehouse)["recommended_units"].tolist() == [99, 99]
