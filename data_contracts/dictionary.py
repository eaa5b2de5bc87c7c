"""docs/data_dictionary.md, generated from the contracts: `uv run python -m data_contracts.dictionary`.

tests/unit/test_data_dictionary.py fails when the committed file differs from what this writes.
"""

from __future__ import annotations

import json
from pathlib import Path

from data_contracts import Column, Contract, all_contracts

DICTIONARY = Path(__file__).resolve().parents[1] / "docs" / "data_dictionary.md"
LAYERS = {
    "raw": "Raw inputs (loaded by the ingest assets)",
    "marts": "Marts and feature tables (built by dbt)",
    "forecast": "Forecasts and staged recommendations",
    "serving": "Serving (what vendors read)",
    "ops": "Operations",
}


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _rules(column: Column) -> str:
    rules = []
    if column.min is not None and column.max is not None:
        rules.append(f"in [{column.min:g}, {column.max:g}]")
    elif column.min is not None:
        rules.append(f"≥ {column.min:g}")
    elif column.max is not None:
        rules.append(f"≤ {column.max:g}")
    if column.values is not None:
        rules.append("one of " + ", ".join(f"`{v}`" for v in column.values))
    if column.required_when:
        rules.append(
            "required where " + " and ".join(f"{c} = {v}" for c, v in column.required_when)
        )
    if column.references is not None:
        rules.append(f"in `{column.references}`")
    if column.json_schema is not None:
        rules.append(f"JSON Schema `{json.dumps(column.json_schema, separators=(',', ':'))}`")
    return "; ".join(rules)


def _table(contract: Contract) -> list[str]:
    lines = [f"### `{contract.table}`", "", _cell(contract.description), ""]
    facts = [f"Owner: {contract.owner or 'unassigned'}"]
    if contract.primary_key:
        facts.append(f"key: ({', '.join(contract.primary_key)})")
    facts += [f"unique: ({', '.join(u)})" for u in contract.unique]
    facts += [f"non-decreasing: {' ≤ '.join(o)}" for o in contract.ordered]
    if contract.partition_column:
        facts.append(f"partitioned by {contract.partition_column}")
    if contract.dbt_model:
        facts.append(f"dbt model `{contract.dbt_model}` (enforced contract)")
    if contract.dbt_source:
        facts.append(f"dbt source `raw.{contract.name}`")
    if contract.max_row_drop is not None:
        facts.append(
            f"a build loses at most {contract.max_row_drop:.0%} of the rows of the one before"
        )
    audit = contract.audit
    if audit is not None:
        scope = "the run's partitions" if audit.window == "partition" else "the whole table"
        facts.append(
            f"audited by `matches_contract` over {scope}; a failing row holds back its {audit.subject}"
        )
        if audit.freshness is not None:
            rule = audit.freshness
            fresh = f"fresh: newest {rule.column} per {audit.subject} under {rule.max_age_hours:g} h old"
            if rule.max_lag_hours is not None:
                fresh += f" and within {rule.max_lag_hours:g} h of the freshest"
            facts.append(fresh)
    lines += ["; ".join(facts) + ".", ""]
    lines += ["| Column | Type | Null | Rules | Meaning |", "|---|---|---|---|---|"]
    lines += [
        f"| `{c.name}` | {c.type} | {'yes' if c.nullable else 'no'} | {_cell(_rules(c))} | "
        f"{_cell(c.description)} |"
        for c in contract.columns
    ]
    return [*lines, ""]


def render() -> str:
    contracts = all_contracts()
    lines = [
        "# Data dictionary",
        "",
        "Generated from `data_contracts/tables/*.yaml` by `uv run python -m data_contracts.dictionary`;",
        "edit the contracts, not this file. Types are the contracts' logical types (see",
        "`marketprep/warehouse.py` for their SQL). Null: whether the column may be null.",
        "",
    ]
    for schema, title in LAYERS.items():
        tables = [c for c in contracts.values() if c.schema == schema]
        if tables:
            lines += [f"## {title}", ""]
            for contract in sorted(tables, key=lambda c: c.table):
                lines += _table(contract)
    others = sorted(c.table for c in contracts.values() if c.schema not in LAYERS)
    if others:
        raise ValueError(f"no section of the data dictionary for {others}: add it to LAYERS")
    return "\n".join(lines).rstrip("\n") + "\n"


def main() -> None:
    DICTIONARY.write_text(render())
    print(f"wrote {DICTIONARY}")


if __name__ == "__main__":
    main()
