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
