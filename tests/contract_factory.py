"""Small contracts for tests of the warehouse: a table, its columns and its key, nothing else."""

from __future__ import annotations

from data_contracts import Column, Contract


def make_contract(table: str, *columns: tuple[str, str, bool], key: tuple[str, ...]) -> Contract:
    """A contract of `table` with (name, logical type, nullable) columns and primary key `key`."""
    return Contract(
        table=table,
        description="",
        owner="tests",
        columns=tuple(Column(name, kind, nullable, "") for name, kind, nullable in columns),
        primary_key=key,
    )
