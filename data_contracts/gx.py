"""Great Expectations 1.x suites built from the contracts, run on pandas frames.

`expectation_suite(contract)` turns one contract into a suite: the exact column set, not-null
(always, or only on the rows `required_when` names), ranges, allowed values, the
primary key and natural keys unique, `ordered` columns never decreasing. JSON columns are checked
against their JSON Schema beside the suite (see `_json_schema_problems`).
`validate(contract, frame)` runs it in an in-memory (ephemeral) context with analytics off, and
attributes every failing row to the contract's audit subject (a vendor or a market), so one
vendor's bad rows hold back that vendor only. Nothing here touches a database or the network.

Importing great_expectations takes seconds, so callers import this module where they use it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from decimal import Decimal

import jsonschema
import pandas as pd

from data_contracts import NUMERIC_TYPES, Contract

# GX 1.24 sends no usage statistics, but older 1.x releases read this; keep it off either way.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import great_expectations as gx  # noqa: E402
import great_expectations.expectations as gxe  # noqa: E402
from great_expectations.data_context.types.base import (  # noqa: E402
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)
from great_expectations.expectations.row_conditions import Column as GxColumn  # noqa: E402

EXAMPLES = 3  # failing values quoted per problem


@dataclass(frozen=True)
class Problem:
    """One failed expectation: what it says, how many rows break it, whose rows they are."""

    says: str
    rows: int
    subjects: tuple[str, ...] = ()  # empty when the problem is the table's, not some rows'
    examples: tuple[str, ...] = ()

    def describe(self) -> str:
        shown = f" (e.g. {', '.join(self.examples)})" if self.examples else ""
        return f"{self.says}: {self.rows} row(s){shown}" if self.rows else self.says


@dataclass
class Validation:
    table: str
    rows: int
    expectations: int
    problems: list[Problem] = field(default_factory=list)

    @property
    def table_problems(self) -> list[Problem]:
        return [p for p in self.problems if not p.subjects]

    def by_subject(self) -> dict[str, list[str]]:
        """Subject value -> what is wrong with its rows, in the suite's order."""
        found: dict[str, list[str]] = {}
        for problem in self.problems:
            for subject in problem.subjects:
                found.setdefault(subject, []).append(problem.describe())
        return found


def _column_expectations(
    contract: Contract, present: set[str]
) -> list[tuple[gxe.Expectation, str]]:
    expectations: list[tuple[gxe.Expectation, str]] = []
    for column in contract.columns:
        if column.name not in present:
            continue  # the column-set expectation reports it; the others could not run
        name = column.name
        if not column.nullable:
            expectations.append((gxe.ExpectColumnValuesToNotBeNull(column=name), f"{name} is null"))
        if column.required_when:
            condition = None
            for other, value in column.required_when:
                term = GxColumn(other) == value
                condition = term if condition is None else condition & term
            said = " and ".join(f"{other} = {value}" for other, value in column.required_when)
            expectations.append(
                (
                    gxe.ExpectColumnValuesToNotBeNull(column=name, row_condition=condition),
                    f"{name} is null where {said}",
                )
            )
        if column.min is not None or column.max is not None:
            if column.max is None:
                says = f"{name} below {column.min:g}"
            elif column.min is None:
                says = f"{name} above {column.max:g}"
            else:
                says = f"{name} outside [{column.min:g}, {column.max:g}]"
            expectations.append(
                (
                    gxe.ExpectColumnValuesToBeBetween(
                        column=name, min_value=column.min, max_value=column.max
                    ),
                    says,
                )
            )
        if column.values is not None:
            expectations.append(
                (
                    gxe.ExpectColumnValuesToBeInSet(column=name, value_set=list(column.values)),
                    f"{name} not one of {list(column.values)}",
                )
            )
    return expectations


def _key_expectations(contract: Contract, present: set[str]) -> list[tuple[gxe.Expectation, str]]:
    expectations: list[tuple[gxe.Expectation, str]] = []
    keys = [contract.primary_key] if contract.primary_key else []
    for key in [*keys, *contract.unique]:
        if not set(key) <= present:
            continue
        if len(key) == 1:
            expectation = gxe.ExpectColumnValuesToBeUnique(column=key[0])
        else:
            # A key with a null part identifies nothing (an open order has no closed_at yet).
            expectation = gxe.ExpectCompoundColumnsToBeUnique(
                column_list=list(key), ignore_row_if="any_value_is_missing"
            )
        expectations.append((expectation, f"({', '.join(key)}) not unique"))
    for chain in contract.ordered:
        for low, high in zip(chain, chain[1:], strict=False):
            if {low, high} <= present:
                expectations.append(
                    (
                        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                            column_A=high,
                            column_B=low,
                            or_equal=True,
                            ignore_row_if="either_value_is_missing",
                        ),
                        f"{low} > {high}",
                    )
                )
    return expectations


def expectation_suite(contract: Contract, present: set[str] | None = None) -> gx.ExpectationSuite:
    """The contract as a suite; `present` limits column expectations to the columns a frame has.

    GX attaches a suite to the active data context, so one must exist (`validate` makes it).
    """
    present = set(contract.column_names) if present is None else present
    suite = gx.ExpectationSuite(name=contract.table)
    suite.add_expectation(
        gxe.ExpectTableColumnsToMatchSet(
            column_set=contract.column_names,
            exact_match=True,
            meta={"says": "columns differ from the contract"},
        )
    )
    for expectation, says in [
        *_column_expectations(contract, present),
        *_key_expectations(contract, present),
    ]:
        expectation.meta = {"says": says}
        suite.add_expectation(expectation)
    return suite


def _context() -> gx.data_context.AbstractDataContext:
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _comparable(contract: Contract, frame: pd.DataFrame) -> pd.DataFrame:
    """Numbers as floats: PostgreSQL hands back Decimal and None where DuckDB has float and NaN."""
    frame = frame.reset_index(drop=True)  # GX reports failing rows by index
    for column in contract.columns:
        if column.type in NUMERIC_TYPES and column.name in frame.columns:
            values = frame[column.name]
            if values.dtype == object:
                frame[column.name] = pd.to_numeric(
                    values.map(lambda v: float(v) if isinstance(v, Decimal) else v)
                )
    return frame


def _difference(contract: Contract, frame: pd.DataFrame) -> str:
    missing = [c for c in contract.column_names if c not in frame.columns]
    extra = [c for c in frame.columns if c not in contract.column_names]
    parts = [
        f"missing {missing}" if missing else "",
        f"not in the contract {extra}" if extra else "",
    ]
    return "columns differ from the contract: " + "; ".join(p for p in parts if p)


def validate(contract: Contract, frame: pd.DataFrame) -> Validation:
    """Run the contract's suite on `frame`; failing rows are attributed to the audit subject."""
    subject = contract.audit.subject if contract.audit else None
    present = set(frame.columns)
    context = _context()  # GX binds a suite to the current context: create it first
    suite = expectation_suite(contract, present)
    batch = (
        context.data_sources.add_pandas(name="warehouse")
        .add_dataframe_asset(name=contract.table)
        .add_batch_definition_whole_dataframe(name="audited rows")
        .get_batch(batch_parameters={"dataframe": _comparable(contract, frame)})
    )
    result_format: dict = {"result_format": "COMPLETE", "partial_unexpected_count": EXAMPLES}
    if subject in present:
        result_format["unexpected_index_column_names"] = [subject]
    results = batch.validate(suite, result_format=result_format)
    validation = Validation(contract.table, len(frame), len(suite.expectations))
    for result in results.results:
        if result.success:
            continue
        says = result.expectation_config.meta["says"]
        if result.exception_info and result.exception_info.get("raised_exception"):
            message = result.exception_info.get("exception_message") or "error"
            validation.problems.append(Problem(f"{says}: could not evaluate ({message})", 0))
            continue
        details = result.result
        if result.expectation_config.type == "expect_table_columns_to_match_set":
            validation.problems.append(Problem(_difference(contract, frame), 0))
            continue
        indexed = details.get("unexpected_index_list") or []
        subjects = tuple(sorted({str(row[subject]) for row in indexed if subject in row}))
        examples = tuple(
            str(v)[:40]
            for v in (details.get("partial_unexpected_list") or [])[:EXAMPLES]
            if not isinstance(v, dict | list | tuple)
        )
        validation.problems.append(
            Problem(says, int(details.get("unexpected_count") or 0), subjects, examples)
        )
    validation.problems += _json_schema_problems(contract, frame, subject)
    return validation


def _json_schema_problems(
    contract: Contract, frame: pd.DataFrame, subject: str | None
) -> list[Problem]:
    """JSON columns against their schemas, with each schema compiled once.

    GX's ExpectColumnValuesToMatchJsonSchema calls jsonschema.validate per row, which re-checks
    the schema every time (about 3 ms a row, half a minute for a year of orders); a compiled
    validator runs the same test in microseconds.
    """
    problems = []
    for column in contract.columns:
        if column.json_schema is None or column.name not in frame.columns:
            continue
        validator = jsonschema.Draft202012Validator(column.json_schema)
        values = frame[column.name]
        parsed = values.map(_loads)
        failing = values.notna() & ~parsed.map(validator.is_valid).astype(bool)
        if not failing.any():
            continue
        first = next(validator.iter_errors(parsed[failing].iloc[0]), None)
        subjects = (
            tuple(sorted(frame.loc[failing, subject].astype(str).unique()))
            if subject in frame.columns
            else ()
        )
        problems.append(
            Problem(
                f"{column.name} does not match its JSON schema (a changed payload)",
                int(failing.sum()),
                subjects,
                (first.message[:120],) if first is not None else (),
            )
        )
    return problems


def _loads(value: object) -> object:
    """The JSON value of a json column's text; text that is not JSON stays a string (and fails)."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value
