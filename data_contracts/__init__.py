"""Declarative contracts for the tables that cross a boundary (one YAML file per table).

A contract names the table's columns with logical types, nullability, allowed ranges and meaning,
its keys, who owns it and, for the tables the quality gates audit, how fresh it must be and whose
rows are whose. The warehouse creates tables from them, `data_contracts.gx` turns them into Great
Expectations suites, `data_contracts.dictionary` into docs/data_dictionary.md and
`data_contracts.dbt` into the dbt YAML of the contracted dbt models and of the raw sources dbt
reads, so the schema is written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

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
NUMERIC_TYPES = ("int64", "int32", "float64", "decimal")
TABLE_KEYS = {
    "table",
    "description",
    "owner",
    "columns_from",
    "columns",
    "primary_key",
    "partition_column",
    "unique",
    "ordered",
    "audit",
    "dbt_model",
    "dbt_source",
    "max_row_drop",
}
COLUMN_KEYS = {
    "name",
    "type",
    "nullable",
    "description",
    "min",
    "max",
    "values",
    "json_schema",
    "required_when",
    "references",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool
    description: str
    min: float | None = None  # inclusive bounds of a numeric column; nulls are not checked
    max: float | None = None
    values: tuple[Any, ...] | None = None  # the only values allowed
    json_schema: dict | None = None  # JSON Schema every value of a json column must match
    # a nullable column that must not be null on the rows where these columns have these values
    required_when: tuple[tuple[str, Any], ...] | None = None
    # "schema.table.column" of another contracted table every non-null value must appear in;
    # dbt tests it (a relationships test), since one table's audit cannot see another table
    references: str | None = None


@dataclass(frozen=True)
class Freshness:
    """How fresh each subject's rows must be, judged by the newest `column` value of the subject.

    max_age_hours: older than this at audit time means the source stopped delivering.
    max_lag_hours: this far behind the freshest subject means this subject's load failed while
    the others' succeeded (a revoked token, one market's fetch failing), caught the same run.
    """

    column: str
    max_age_hours: float
    max_lag_hours: float | None = None


@dataclass(frozen=True)
class Audit:
    """What the blocking `matches_contract` check of the table's asset checks beyond the columns.

    subject: the column naming whose row it is (vendor_id, or market_id for market-level data);
    a failing row holds back that vendor, or every vendor at that market, instead of everyone.
    window: "partition" audits only the run's partitions (by partition_column), "all" the table.
    """

    subject: str
    window: str = "all"
    freshness: Freshness | None = None


@dataclass(frozen=True)
class Contract:
    table: str  # schema-qualified, e.g. "raw.square_orders"
    description: str
    owner: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    partition_column: str | None = None
    unique: tuple[tuple[str, ...], ...] = ()  # natural keys besides the primary key
    ordered: tuple[tuple[str, ...], ...] = ()  # columns whose values never decrease left to right
    audit: Audit | None = None
    dbt_model: str | None = None  # the dbt model this contract declares, if it is one
    dbt_source: bool = False  # a raw table the dbt project reads as source('raw', <name>)
    # the largest fraction of its rows one dbt build may lose against the build before
    max_row_drop: float | None = None

    @property
    def schema(self) -> str:
        return self.table.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.table.split(".", 1)[1]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def asset_key(self) -> list[str]:
        """The Dagster asset key of the table: asset names are table names."""
        return [self.schema, self.name]

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.table} has no column {name!r}")


def _column(path: Path, raw: dict) -> Column:
    unknown = set(raw) - COLUMN_KEYS
    if unknown:
        raise ValueError(
            f"{path.name}: column {raw.get('name')} has unknown key(s) {sorted(unknown)}"
        )
    column = Column(
        name=raw["name"],
        type=raw["type"],
        nullable=bool(raw["nullable"]),
        description=raw.get("description", ""),
        min=raw.get("min"),
        max=raw.get("max"),
        values=tuple(raw["values"]) if "values" in raw else None,
        json_schema=raw.get("json_schema"),
        required_when=tuple(raw["required_when"].items()) if "required_when" in raw else None,
        references=raw.get("references"),
    )
    if column.type not in LOGICAL_TYPES:
        raise ValueError(f"{path.name}: column {column.name} has unknown type {column.type!r}")
    if (column.min is not None or column.max is not None) and column.type not in NUMERIC_TYPES:
        raise ValueError(f"{path.name}: column {column.name} has a range but type {column.type}")
    if column.json_schema is not None and column.type != "json":
        raise ValueError(
            f"{path.name}: column {column.name} has a json_schema but type {column.type}"
        )
    if column.references is not None and len(column.references.split(".")) != 3:
        raise ValueError(
            f"{path.name}: column {column.name} references {column.references!r}, "
            "not schema.table.column"
        )
    return column


def _audit(path: Path, raw: dict | None, names: set[str]) -> Audit | None:
    if raw is None:
        return None
    if raw["subject"] not in names:
        raise ValueError(f"{path.name}: audit subject {raw['subject']!r} is not a column")
    if raw.get("window", "all") not in ("all", "partition"):
        raise ValueError(f"{path.name}: audit window must be all or partition")
    freshness = raw.get("freshness")
    if freshness is not None:
        if freshness["column"] not in names:
            raise ValueError(
                f"{path.name}: freshness column {freshness['column']!r} is not a column"
            )
        freshness = Freshness(
            freshness["column"], float(freshness["max_age_hours"]), freshness.get("max_lag_hours")
        )
    return Audit(subject=raw["subject"], window=raw.get("window", "all"), freshness=freshness)


def _parse(path: Path) -> Contract:
    doc = yaml.safe_load(path.read_text())
    unknown = set(doc) - TABLE_KEYS
    if unknown:
        raise ValueError(f"{path.name}: unknown key(s) {sorted(unknown)}")
    # A table that holds the same rows as another starts from its columns and may add its own.
    inherited = (
        _parse(CONTRACTS_DIR / f"{doc['columns_from']}.yaml").columns
        if "columns_from" in doc
        else ()
    )
    columns = inherited + tuple(_column(path, c) for c in doc.get("columns", []))
    names = {c.name for c in columns}
    if len(names) != len(columns):
        raise ValueError(f"{path.name}: a column is declared twice")
    for key in doc.get("primary_key", []):
        if key not in names:
            raise ValueError(f"{path.name}: primary key column {key!r} is not declared")
    for group in [*doc.get("unique", []), *doc.get("ordered", [])]:
        for name in group:
            if name not in names:
                raise ValueError(f"{path.name}: column {name!r} in unique/ordered is not declared")
    for column in columns:
        for name, _ in column.required_when or ():
            if name not in names:
                raise ValueError(f"{path.name}: {column.name}.required_when names unknown {name!r}")
    max_row_drop = doc.get("max_row_drop")
    if max_row_drop is not None and not 0 < max_row_drop < 1:
        raise ValueError(f"{path.name}: max_row_drop must be a fraction between 0 and 1")
    if max_row_drop is not None and "dbt_model" not in doc:
        raise ValueError(f"{path.name}: max_row_drop is checked by dbt, so it needs a dbt_model")
    return Contract(
        table=doc["table"],
        description=doc.get("description", ""),
        owner=doc.get("owner", ""),
        columns=columns,
        primary_key=tuple(doc.get("primary_key", [])),
        partition_column=doc.get("partition_column"),
        unique=tuple(tuple(g) for g in doc.get("unique", [])),
        ordered=tuple(tuple(g) for g in doc.get("ordered", [])),
        audit=_audit(path, doc.get("audit"), names),
        dbt_model=doc.get("dbt_model"),
        dbt_source=bool(doc.get("dbt_source", False)),
        max_row_drop=max_row_drop,
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


def audited_contracts() -> list[Contract]:
    """The contracts whose assets get a blocking `matches_contract` check."""
    return [c for c in all_contracts().values() if c.audit is not None]
