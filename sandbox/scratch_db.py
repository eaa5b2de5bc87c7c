"""Throw-away PostgreSQL databases on the local server, for tests and benchmarks.

The machines MarketPrep develops on run PostgreSQL on 127.0.0.1:5432 with trust auth; every test
or benchmark that needs it makes its own database and drops it afterwards, so runs never see
each other's tables.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def database_url(name: str) -> str:
    """The warehouse URL of database `name` on the local server."""
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def admin_execute(*statements: str) -> None:
    """Run statements on the server's maintenance database, outside a transaction (CREATE and
    DROP DATABASE cannot run inside one)."""
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        for statement in statements:
            admin.execute(statement)


@contextmanager
def scratch_database(prefix: str, keep: bool = False) -> Iterator[str]:
    """A new, empty database named `prefix` plus a random suffix; yields its warehouse URL and
    drops it afterwards, disconnecting whoever is still connected (unless `keep`)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin_execute(f'create database "{name}"')
    try:
        yield database_url(name)
    finally:
        if keep:
            print(f"  kept PostgreSQL database {name}")
        else:
            admin_execute(f'drop database if exists "{name}" with (force)')
