"""Worlds and fake servers shared by the sandbox tests.

Tests use a small world (8 weeks ending mid-June, so the seasonal market is open) unless they
check the defaults; servers are started once per module and their logs and faults reset per test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from sandbox.fake_http import FakeServer
from sandbox.servers import start_open_meteo, start_predicthq, start_square
from sandbox.simulator import SimConfig, build_world
from sandbox.world import Vendor, World

END = dt.date(2025, 6, 15)
SMALL = SimConfig(end=END, history_days=56)
DEFAULT = SimConfig(end=END)


@pytest.fixture(scope="session")
def small_world() -> World:
    return build_world(SMALL)


@pytest.fixture(scope="session")
def default_world() -> World:
    return build_world(DEFAULT)


def _serve(server: FakeServer) -> Iterator[FakeServer]:
    with server:
        yield server


@pytest.fixture(scope="module")
def square_server(small_world: World) -> Iterator[FakeServer]:
    yield from _serve(start_square(small_world))


@pytest.fixture(scope="module")
def open_meteo_server(small_world: World) -> Iterator[FakeServer]:
    yield from _serve(start_open_meteo(small_world))


@pytest.fixture(scope="module")
def predicthq_server(small_world: World) -> Iterator[FakeServer]:
    yield from _serve(start_predicthq(small_world))


@pytest.fixture(autouse=True)
def _fresh_servers(request: pytest.FixtureRequest) -> None:
    """Each test starts with empty request logs and no queued faults."""
    for name in ("square_server", "open_meteo_server", "predicthq_server"):
        if name in request.fixturenames:
            server = request.getfixturevalue(name)
            server.requests.clear()
            server.faults.clear()


@pytest.fixture(scope="session")
def vendor(small_world: World) -> Vendor:
    """The small world's busiest vendor (most orders), attending several markets."""
    return max(small_world.vendors, key=lambda v: len(v.orders))


@pytest.fixture(scope="session")
def square_headers(vendor: Vendor) -> dict[str, str]:
    return {"Authorization": f"Bearer {vendor.access_token}", "Square-Version": "2025-08-20"}
