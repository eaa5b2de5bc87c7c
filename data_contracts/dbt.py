"""The dbt YAML of every contracted table, generated: `uv run python -m data_contracts.dbt`.

`--check` writes nothing and exits 1 naming each file that differs from what it would write;
tests/unit/test_dbt_contracts.py runs it, so a contract and its dbt YAML never drift apart.

What it writes, all from data_contracts/tables/*.yaml:

- for each contract with a `dbt_model`, the model's whole property file beside its SQL
  (dbt_project/models/<layer>/<model>.yml): the contract's description, `contract: {enforced:
  true}`, every column with its description and `data_type`, a `not_null` constraint for each
  column that may not be null, and the data tests the contract implies: `unique` or
  `unique_combination_of_columns` for the primary key and the natural keys, `not_null` where
  `required_when` says, `relationships` for `references`, `accepted_values` for `values`,
  `non_negative` or `accepted_range` for `min`/`max`, `non_decreasing_columns` for `ordered`,
  and `row_count_not_dropped` for `max_row_drop` (with the post-hook that records each build's
  row count in <model>__row_counts, which that test compares).
- dbt_project/models/staging/__sources.yml: the raw tables marked `dbt_source`, with their
  columns, and for those whose contract audits freshness the same limit as dbt source freshness
  (`error_after` max_age_hours, on the table's newest row: dbt has no per-vendor freshness, the
  blocking `matches_contract` checks keep that).

The `data_type`s are the SQL types the warehouse creates contracted tables with
(marketprep.warehouse.SQL_TYPES): `text`, `bigint`, `double precision`, `timestamptz`, ...
dbt-duckdb and dbt-postgres both accept them and compare them with the model's output at build
time. Not-null is a constraint, not a test: an enforced contract makes the database refuse the
null, so the build fails where the row is written.

A rule dbt cannot check (a JSON Schema) on a dbt model is an error here, not silently dropped;
freshness and the per-vendor audit stay with the Dagster checks. Whatever else one model needs
lives outside its generated file: singular tests in dbt_project/tests/assert_<condition>.sql,
dbt unit tests in the models' _unit_tests.yml files. Source tables get no dbt tests: their rows
are audited by the Great Expectations suites when they load.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from data_contracts import Column, Contract, all_contracts, contract
from marketprep.warehouse import SQL_TYPES

DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"
MODELS_DIR = DBT_PROJECT / "models"
SOURCES_FILE = MODELS_DIR / "staging" / "__sources.yml"
SOURCE_NAME = "raw"
SOURCE_DESCRIPTION = (
    "Tables written by the ingest assets, one per external feed. Their columns, types, keys and "
    "freshness are declared once in data_contracts/tables/raw.<table>.yaml and audited by the "
    "Great Expectations suites when they load."
)
GENERATED = "# Generated from {sources} by `uv run python -m data_contracts.dbt`: edit the contract, not this file."
ROW_COUNTS_SUFFIX = "__row_counts"
# Run after the model is built, in its transaction: a table of the model's row count per build,
# which row_count_not_dropped reads. One table per model, so that models built at the same time
# never race to create it.
_ROW_COUNTS = "{{ this.schema }}.{{ this.identifier }}" + ROW_COUNTS_SUFFIX
RECORD_ROW_COUNT = [
    f"create table if not exists {_ROW_COUNTS}"
    " (built_at timestamptz, invocation_id text, row_count bigint)",
    f"insert into {_ROW_COUNTS}"
    " select current_timestamp, {{ dbt.string_literal(invocation_id) }}, count(*) from {{ this }}",
]


class _Flow(list):
    """A short list written on one line: [vendor_id, market_id]."""


class _Dumper(yaml.SafeDumper):
    """Block lists indented under their key, as the hand-written dbt YAML has them."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


_Dumper.add_representer(
    _Flow, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, True)
)


def model_sql(model: str) -> Path:
    """The SQL file of a dbt model; its property file goes beside it."""
    found = sorted(MODELS_DIR.rglob(f"{model}.sql"))
    if len(found) != 1:
        raise ValueError(
            f"dbt model {model!r} has {len(found)} SQL files under {MODELS_DIR} (expected one)"
        )
    return found[0]


def _sql_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _referenced(owner: Contract, column: Column) -> tuple[str, str]:
    """The ref() and the column a `references` names: the table must be a contracted dbt model."""
    schema, table, field = column.references.split(".")
    try:
        target = contract(f"{schema}.{table}")
    except KeyError:
        raise ValueError(
            f"{owner.table}.{column.name} references {column.references}, which has no contract"
        ) from None
    if target.dbt_model is None:
        raise ValueError(
            f"{owner.table}.{column.name} references {target.table}, which is not a dbt model"
        )
    if field not in target.column_names:
        raise ValueError(
            f"{owner.table}.{column.name} references {column.references}: no such column"
        )
    return f"ref('{target.dbt_model}')", field


def _column_tests(owner: Contract, column: Column) -> list[Any]:
    tests: list[Any] = []
    if column.required_when:
        where = " and ".join(f"{name} = {_sql_literal(v)}" for name, v in column.required_when)
        tests.append({"not_null": {"config": {"where": where}}})
    if (column.name,) in [owner.primary_key, *owner.unique]:
        tests.append("unique")
    if column.references is not None:
        to, field = _referenced(owner, column)
        tests.append({"relationships": {"arguments": {"to": to, "field": field}}})
    if column.values is not None:
        arguments: dict[str, Any] = {"values": _Flow(column.values)}
        if not all(isinstance(v, str) for v in column.values):
            arguments["quote"] = False
        tests.append({"accepted_values": {"arguments": arguments}})
    if column.min == 0 and column.max is None:
        tests.append("non_negative")
    elif column.min is not None or column.max is not None:
        bounds = {"min_value": column.min, "max_value": column.max}
        tests.append(
            {"accepted_range": {"arguments": {k: v for k, v in bounds.items() if v is not None}}}
        )
    return tests


def _column(owner: Contract, column: Column) -> dict[str, Any]:
    if column.json_schema is not None:
        raise ValueError(
            f"{owner.table}.{column.name}: dbt cannot check a JSON Schema; a dbt model's "
            "contract may not declare one"
        )
    entry: dict[str, Any] = {
        "name": column.name,
        "description": column.description,
        "data_type": SQL_TYPES[column.type],
    }
    if not column.nullable:
        entry["constraints"] = [{"type": "not_null"}]
    tests = _column_tests(owner, column)
    if tests:
        entry["data_tests"] = tests
    return entry


def _model_tests(owner: Contract) -> list[Any]:
    tests: list[Any] = []
    keys = [owner.primary_key] if owner.primary_key else []
    for key in [*keys, *owner.unique]:
        if len(key) < 2:
            continue  # a one-column key is the column's unique test
        test: dict[str, Any] = {"arguments": {"combination_of_columns": _Flow(key)}}
        nullable = [name for name in key if owner.column(name).nullable]
        if nullable:  # a key with a null part identifies nothing, as in the GX suites
            test["config"] = {"where": " and ".join(f"{name} is not null" for name in nullable)}
        tests.append({"unique_combination_of_columns": test})
    for chain in owner.ordered:
        tests.append({"non_decreasing_columns": {"arguments": {"columns": _Flow(chain)}}})
    if owner.max_row_drop is not None:
        tests.append(
            {
                "row_count_not_dropped": {
                    "name": f"row_count_not_dropped_{owner.dbt_model}",
                    "arguments": {
                        "counted": f"ref('{owner.dbt_model}')",
                        "max_drop": owner.max_row_drop,
                    },
                }
            }
        )
    return tests


def model_properties(owner: Contract) -> dict[str, Any]:
    """The property file of the contract's dbt model, as YAML data."""
    config: dict[str, Any] = {"contract": {"enforced": True}, "meta": {"owner": owner.owner}}
    if owner.max_row_drop is not None:
        config["post_hook"] = RECORD_ROW_COUNT
    model: dict[str, Any] = {
        "name": owner.dbt_model,
        "description": owner.description,
        "config": config,
    }
    tests = _model_tests(owner)
    if tests:
        model["data_tests"] = tests
    model["columns"] = [_column(owner, c) for c in owner.columns]
    return {"models": [model]}


def _source_table(raw: Contract) -> dict[str, Any]:
    table: dict[str, Any] = {"name": raw.name, "description": raw.description}
    freshness = raw.audit.freshness if raw.audit else None
    if freshness is not None:
        hours = freshness.max_age_hours
        limit = (
            {"count": int(hours), "period": "hour"}
            if hours == int(hours)
            else {"count": round(hours * 60), "period": "minute"}
        )
        table["config"] = {
            "loaded_at_field": freshness.column,
            "freshness": {"error_after": limit},
        }
    table["columns"] = [
        {"name": c.name, "description": c.description, "data_type": SQL_TYPES[c.type]}
        for c in raw.columns
    ]
    return table


def sources_properties(contracts: list[Contract]) -> dict[str, Any]:
    return {
        "sources": [
            {
                "name": SOURCE_NAME,
                "description": SOURCE_DESCRIPTION,
                "schema": SOURCE_NAME,
                "tables": [_source_table(raw) for raw in contracts],
            }
        ]
    }


def _dump(data: dict[str, Any], sources: str) -> str:
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return GENERATED.format(sources=sources) + "\n" + body


def render() -> dict[Path, str]:
    """Every generated file and what it should hold."""
    contracts = sorted(all_contracts().values(), key=lambda c: c.table)
    files: dict[Path, str] = {}
    for owner in contracts:
        if owner.dbt_model is not None:
            path = model_sql(owner.dbt_model).with_suffix(".yml")
            files[path] = _dump(
                model_properties(owner), f"data_contracts/tables/{owner.table}.yaml"
            )
    raw = [c for c in contracts if c.dbt_source]
    not_raw = [c.table for c in raw if c.schema != SOURCE_NAME]
    if not_raw:
        raise ValueError(f"dbt_source is for raw tables only: {not_raw}")
    files[SOURCES_FILE] = _dump(
        sources_properties(raw), "data_contracts/tables/raw.*.yaml (those with dbt_source)"
    )
    return files


def stale_files(expected: dict[Path, str]) -> list[Path]:
    """Generated files whose contract no longer names them (a removed contract or dbt_model)."""
    marker = GENERATED.split("{sources}")[0]
    return [
        path
        for path in sorted(MODELS_DIR.rglob("*.yml"))
        if path not in expected and path.read_text().startswith(marker)
    ]


def drift() -> list[str]:
    """What --check reports: each generated file that is missing, differs or is stale."""
    expected = render()
    problems = [
        f"{path.relative_to(DBT_PROJECT.parent)} is out of date"
        for path, text in expected.items()
        if not path.exists() or path.read_text() != text
    ]
    problems += [
        f"{path.relative_to(DBT_PROJECT.parent)} was generated from a contract that is gone"
        for path in stale_files(expected)
    ]
    return problems


def create_empty_sources(path: Path) -> None:
    """A DuckDB file holding every dbt source table, empty: enough for `dbt run --empty`, which
    gives `dbt docs generate` a catalog with each model's column types (`make docs`)."""
    import duckdb

    with duckdb.connect(str(path)) as con:
        con.execute(f"create schema if not exists {SOURCE_NAME}")
        for raw in all_contracts().values():
            if raw.dbt_source:
                columns = ", ".join(f"{c.name} {SQL_TYPES[c.type]}" for c in raw.columns)
                con.execute(f"create table if not exists {raw.table} ({columns})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m data_contracts.dbt",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a file would change"
    )
    action.add_argument(
        "--empty-sources",
        type=Path,
        metavar="DUCKDB_FILE",
        help="instead, create the dbt source tables, empty, in this DuckDB file (for make docs)",
    )
    args = parser.parse_args(argv)
    if args.empty_sources is not None:
        create_empty_sources(args.empty_sources)
        return 0
    if args.check:
        problems = drift()
        for problem in problems:
            print(problem)
        if problems:
            print("run `uv run python -m data_contracts.dbt` to regenerate")
        return 1 if problems else 0
    expected = render()
    for path in stale_files(expected):
        path.unlink()
        print(f"removed {path}")
    for path, text in expected.items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
