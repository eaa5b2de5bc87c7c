"""Fixtures for the core-package unit tests: a throw-away warehouse, settings inside tmp_path."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from marketprep.settings import Settings, load_settings, parse_warehouse_url
from marketprep.warehouse import Warehouse


def duckdb_url(path: Path) -> str:
    return f"duckdb:///{path}"  # tmp_path is absolute, so this is the duckdb://// form


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Warehouse:
    """An empty warehouse on each backend: a DuckDB file in tmp_path, a fresh Postgres database."""
    if request.param == "duckdb":
        return Warehouse(parse_warehouse_url(duckdb_url(tmp_path / "warehouse.duckdb")))
    return Warehouse(parse_warehouse_url(request.getfixturevalue("postgres_url")))


@pytest.fixture
def duckdb_warehouse(tmp_path: Path) -> Warehouse:
    return Warehouse(parse_warehouse_url(duckdb_url(tmp_path / "warehouse.duckdb")))


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings of a local install under tmp_path/home; keywords override MARKETPREP_* values."""

    def make(**overrides: str) -> Settings:
        env = {
            "MARKETPREP_HOME": str(tmp_path / "home"),
            "MARKETPREP_WAREHOUSE_URL": duckdb_url(tmp_path / "warehouse.duckdb"),
        }
        env.update({f"MARKETPREP_{name.upper()}": value for name, value in overrides.items()})
        return load_settings(env)

    return make


@pytest.fixture
def local_timezone() -> Iterator[Callable[[str], None]]:
    """Pretend the machine runs in another time zone (DuckDB reads TZ when it connects)."""
    before = os.environ.get("TZ")

    def set_zone(zone: str) -> None:
        os.environ["TZ"] = zone
        time.tzset()

    yield set_zone
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()
