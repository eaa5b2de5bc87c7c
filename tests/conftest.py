"""Shared fixtures: a fresh PostgreSQL database per test session that needs one."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


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
    import psycopg

    _postgres_or_skip()
    name = f"marketprep_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')
