"""The quality gates behind the blocking checks, as plain functions over the warehouse.

A check finds problems; each problem either belongs to some vendors (their rows, or the rows of a
market they stand at) or to the whole table. `judge` turns them into a verdict: problems that
belong to vendors become findings in ops.check_findings, which hold those vendors back at
publication while the others publish (the check passes with a warning); problems of the whole
table, or problems that hit every active vendor, fail the check at error severity, which stops the
run before publication so serving keeps the last published version for everyone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from data_contracts import Contract, contract
from marketprep.warehouse import Session, Warehouse

FINDINGS = contract("ops.check_findings")
# information_schema.columns.data_type (lower case, no precision) accepted for each logical type,
# as DuckDB and PostgreSQL spell them.
PHYSICAL_TYPES: dict[str, set[str]] = {
    "string": {"varchar", "text", "character varying"},
    "json": {"varchar", "text", "character varying", "json", "jsonb"},
    "int64": {"bigint"},
    "int32": {"integer"},
    "float64": {"double", "double precision"},
    "bool": {"boolean"},
    "date": {"date"},
    "timestamp_tz": {"timestamp with time zone"},
    "decimal": {"decimal", "numeric"},
}


@dataclass(frozen=True)
class Finding:
    """One reason to hold one vendor back. `subject` is what failed: vendor:<id> or market:<id>."""

    vendor_id: str
    subject: str
    reason: str


@dataclass
class Verdict:
    check_key: str  # "asset/key:check_name"
    rows_checked: int
    findings: list[Finding] = field(default_factory=list)
    systemic: list[str] = field(default_factory=list)

    @property
    def vendors_held_back(self) -> list[str]:
        return sorted({f.vendor_id for f in self.findings})

    @property
    def blocks(self) -> bool:
        """An error: the run stops before publication."""
        return bool(self.systemic)

    def describe(self) -> str | None:
        if self.systemic:
            return "; ".join(self.systemic)
        if self.findings:
            return "held back: " + "; ".join(
                f"{vendor} ({', '.join(sorted({f.reason for f in self.findings if f.vendor_id == vendor}))})"
                for vendor in self.vendors_held_back
            )
        return None


@dataclass
class TableAudit:
    """What a contract's audit found in one table: problems per subject value and of the table."""

    rows: int
    by_subject: dict[str, list[str]] = field(default_factory=dict)
    table_problems: list[str] = field(default_factory=list)


def physical_schema_problems(session: Session, table_contract: Contract) -> list[str]:
    """Columns missing, added or of another type than the contract says (a schema drift)."""
    schema, name = table_contract.schema, table_contract.name
    found = session.query(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ?",
        [schema, name],
    )
    if found.empty:
        return [f"{table_contract.table} does not exist"]
    actual = {
        r.column_name: str(r.data_type).lower().split("(")[0].strip() for r in found.itertuples()
    }
    problems = []
    for column in table_contract.columns:
        if column.name not in actual:
            problems.append(f"{table_contract.table}.{column.name} is missing")
        elif actual[column.name] not in PHYSICAL_TYPES[column.type]:
            problems.append(
                f"{table_contract.table}.{column.name} is {actual[column.name]}, "
                f"the contract says {column.type}"
            )
    extra = sorted(set(actual) - set(table_contract.column_names))
    if extra:
        problems.append(
            f"{table_contract.table} has columns its contract lacks: {extra} "
            f"(declare them in data_contracts/tables/{table_contract.table}.yaml)"
        )
    return problems


def _utc(value: object) -> dt.datetime:
    return pd.Timestamp(value).tz_convert("UTC").to_pydatetime()


def freshness_problems(
    session: Session, table_contract: Contract, now: dt.datetime
) -> dict[str, list[str]]:
    """Subjects whose newest row is older than max_age, or further behind the freshest subject
    than max_lag (its load failed while the others' succeeded)."""
    audit = table_contract.audit
    if audit is None or audit.freshness is None:
        return {}
    rule = audit.freshness
    newest = session.query(
        f"select {audit.subject} as subject, max({rule.column}) as newest "
        f"from {table_contract.table} group by {audit.subject}"
    )
    if newest.empty:
        return {}
    newest["newest"] = newest["newest"].map(_utc)
    freshest = newest["newest"].max()
    problems: dict[str, list[str]] = {}
    for row in newest.itertuples():
        age_h = (now - row.newest).total_seconds() / 3600
        lag_h = (freshest - row.newest).total_seconds() / 3600
        if age_h > rule.max_age_hours:
            problems.setdefault(str(row.subject), []).append(
                f"{table_contract.table} not refreshed for {age_h:.0f} h "
                f"(limit {rule.max_age_hours:g} h; newest {rule.column} {row.newest:%Y-%m-%d %H:%M} UTC)"
            )
        elif rule.max_lag_hours is not None and lag_h > rule.max_lag_hours:
            problems.setdefault(str(row.subject), []).append(
                f"{table_contract.table} not refreshed by the last load ({lag_h:.1f} h behind "
                f"the other {audit.subject}s; its fetch failed)"
            )
    return problems


def audit_table(
    warehouse: Warehouse,
    table_contract: Contract,
    now: dt.datetime,
    window: tuple[dt.date, dt.date] | None = None,
) -> TableAudit:
    """The physical schema, then the GX suite and the freshness rule of the contract.

    window: first and last partition day of the run; with `window: partition` only those rows are
    validated (the rows this run loaded), otherwise the whole table.
    """
    from data_contracts.gx import validate  # importing Great Expectations takes seconds

    with warehouse.session() as session:
        schema = physical_schema_problems(session, table_contract)
        if any("does not exist" in p or "is missing" in p for p in schema):
            return TableAudit(rows=0, table_problems=schema)
        sql, params = f"select * from {table_contract.table}", []
        audit = table_contract.audit
        if (
            audit is not None
            and audit.window == "partition"
            and window is not None
            and table_contract.partition_column
        ):
            sql += f" where {table_contract.partition_column} between ? and ?"
            params = [window[0], window[1]]
        frame = session.query(sql, params)
        stale = freshness_problems(session, table_contract, now)
    validation = validate(table_contract, frame)
    by_subject = validation.by_subject()
    for subject, problems in stale.items():
        by_subject.setdefault(subject, []).extend(problems)
    return TableAudit(
        rows=len(frame),
        by_subject=by_subject,
        table_problems=schema + [p.describe() for p in validation.table_problems],
    )


def active_vendors(warehouse: Warehouse) -> set[str]:
    if not warehouse.table_exists("raw.vendors"):
        return set()
    return set(warehouse.query("select vendor_id from raw.vendors where active")["vendor_id"])


def vendors_at_markets(warehouse: Warehouse) -> dict[str, set[str]]:
    """market_id -> vendors with an active Square location there."""
    if not warehouse.table_exists("raw.square_locations"):
        return {}
    rows = warehouse.query(
        "select distinct market_id, vendor_id from raw.square_locations where status = 'ACTIVE'"
    )
    found: dict[str, set[str]] = {}
    for row in rows.itertuples():
        found.setdefault(row.market_id, set()).add(row.vendor_id)
    return found


def findings_for(
    subject_column: str,
    problems: Mapping[str, Sequence[str]],
    markets: Mapping[str, set[str]],
) -> list[Finding]:
    """Problems keyed by vendor_id or market_id as findings per vendor (a market's problem holds
    back every vendor there)."""
    findings = []
    for subject, reasons in problems.items():
        if subject_column == "market_id":
            vendors, label = sorted(markets.get(subject, ())), f"market:{subject}"
        else:
            vendors, label = [subject], f"vendor:{subject}"
        for vendor in vendors:
            findings.extend(Finding(vendor, label, reason) for reason in reasons)
    return findings


def judge(
    check_key: str,
    rows_checked: int,
    findings: Sequence[Finding],
    systemic: Sequence[str],
    vendors: set[str],
) -> Verdict:
    """The verdict: findings of active vendors hold them back unless they cover every active
    vendor, which is an outage or a bug of ours rather than one vendor's data: then it blocks."""
    mine = [f for f in findings if f.vendor_id in vendors] if vendors else list(findings)
    held = {f.vendor_id for f in mine}
    verdict = Verdict(check_key, rows_checked, mine, list(systemic))
    if held and vendors and held >= vendors:
        reasons = sorted({f.reason for f in mine})
        verdict.systemic.append(
            f"every active vendor fails ({len(held)}): " + "; ".join(reasons[:3])
        )
    return verdict


def record(warehouse: Warehouse, verdict: Verdict, run_id: str, now: dt.datetime) -> None:
    """Replace this check's findings: publication reads ops.check_findings to hold vendors back."""
    rows: dict[tuple[str, str], list[str]] = {}
    for finding in verdict.findings:
        rows.setdefault((finding.vendor_id, finding.subject), []).append(finding.reason)
    warehouse.replace(
        FINDINGS,
        [
            {
                "check_key": verdict.check_key,
                "vendor_id": vendor,
                "subject": subject,
                "reason": "; ".join(dict.fromkeys(reasons)),
                "run_id": run_id,
                "checked_at": now,
            }
            for (vendor, subject), reasons in sorted(rows.items())
        ],
        where="check_key = ?",
        params=[verdict.check_key],
    )
