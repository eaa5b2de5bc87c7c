"""Declarative contracts for the tables that cross a boundary (one YAML file per table).

A contract names the table's columns with logical types, nullability and meaning. The warehouse
creates raw tables from them, so the schema is written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

CONTRACTS_DIR = Path(__file__).parent / "tables"
LOGICAL_TYPES = (
    "string",
    "int64",
    "int32",
    "float64",
    "bool",
    "date",
    "timestamp_tz",
    "decimal",
    "json",
)


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool
    description: str


@dataclass(frozen=True)
class Contract:
    table: str  # schema-qualified, e.g. "raw.square_orders"
    description: str
    owner: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    partition_column: str | None = None

    @property
    def schema(self) -> str:
        return self.table.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.table.split(".", 1)[1]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _parse(path: Path) -> Contract:
    doc = yaml.safe_load(path.read_text())
    if (
        "columns_from" in doc
    ):  # a table that holds the same rows as another declares no columns of its own
        doc["columns"] = yaml.safe_load(
            (CONTRACTS_DIR / f"{doc['columns_from']}.yaml").read_text()
        )["columns"]
    columns = tuple(
        Column(c["name"], c["type"], bool(c["nullable"]), c.get("description", ""))
        for c in doc["columns"]
    )
    for column in columns:
        if column.type not in LOGICAL_TYPES:
            raise ValueError(f"{path.name}: column {column.name} has unknown type {column.type!r}")
    names = {c.name for c in columns}
    for key in doc.get("primary_key", []):
        if key not in names:
            raise ValueError(f"{path.name}: primary key column {key!r} is not declared")
    return Contract(
        table=doc["table"],
        description=doc.get("description", ""),
        owner=doc.get("owner", ""),
        columns=columns,
        primary_key=tuple(doc.get("primary_key", [])),
        partition_column=doc.get("partition_column"),
    )


@cache
def all_contracts() -> dict[str, Contract]:
    contracts = (_parse(p) for p in sorted(CONTRACTS_DIR.glob("*.yaml")))
    return {c.table: c for c in contracts}


def contract(table: str) -> Contract:
    try:
        return all_contracts()[table]
    except KeyError:
        raise KeyError(
            f"no contract for table {table!r}; known: {sorted(all_contracts())}"
        ) from None
