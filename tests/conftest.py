"""Shared fixtures: a fresh PostgreSQL database per test session that needs one."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from sandbox.scratch_db import PG_ADMIN, scratch_database


def _postgres_or_skip() -> None:
    import psycopg

    try:
        psycopg.connect(PG_ADMIN, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(
                f"PostgreSQL on 127.0.0.1:5432 is required in CI and is not reachable: {exc}"
            )
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 is not reachable: {exc}")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A new, empty database on the local server, dropped afterwards."""
    _postgres_or_skip()
    with scratch_database("marketprep_test") as url:
        yield url


# `make test` runs the suite on one worker per core (pytest-xdist, `--dist loadgroup`). Each
# module's tests stay on one worker, so a module-scoped fixture (a pipeline run, a fake server)
# is built once; the tests of the session-built dbt warehouses stay together for the same
# reason. Workers take groups in the order below, slowest first, so that the long ones do not
# start last; the seconds are each group's share of a serial run on the 2-core machine.
_SHARED_WAREHOUSE_FIXTURES = {"built_duckdb", "built_postgres", "built_warehouse"}
_SLOWEST_FIRST = [
    "tests/integration/test_pipeline.py",  # ~290 s
    "dbt-warehouses",  # ~200 s
    "tests/dbt/test_dbt_incremental.py",  # ~185 s
    "tests/integration/test_fallbacks_to_features.py",  # ~135 s
    "tests/integration/test_quality_gates.py",  # ~120 s
    "tests/dbt/test_dbt_unit_tests.py",  # ~60 s
    "tests/dbt/test_bench_dbt_incremental.py",  # ~60 s
]


def _xdist_group(item: pytest.Item) -> str:
    if _SHARED_WAREHOUSE_FIXTURES & set(item.fixturenames):
        return "dbt-warehouses"
    return item.nodeid.split("::")[0]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {group: index for index, group in enumerate(_SLOWEST_FIRST)}
    groups = {item: _xdist_group(item) for item in items}
    for item, group in groups.items():
        item.add_marker(pytest.mark.xdist_group(group))
    # stable: within a group, and among the groups not listed, collection order is kept
    items.sort(key=lambda item: rank.get(groups[item], len(rank)))
