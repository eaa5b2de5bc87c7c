"""Write-audit-publish: the audited staging rows become the served version in one transaction.

The recommendations asset writes forecast.recommendations (write), the blocking checks audit it and
every input it came from, recording per-vendor findings in ops.check_findings (audit), and
`publish` swaps the result into serving.recommendations (publish):

- every vendor with a finding is held back: its previously served rows for the upcoming days stay,
  marked stale with the reason; every other staged vendor gets its new rows;
- serving.recommendations, serving.recommendation_history (the whole new version),
  serving.vendor_status and serving.publications change in a single transaction. PostgreSQL
  readers keep seeing the previous version until it commits (MVCC); on DuckDB the transaction is
  the same guarantee, durable through its write-ahead log. A process killed before the commit
  leaves the previous version on both: nothing of an uncommitted transaction survives.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from data_contracts import Contract, contract
from marketprep.warehouse import Session, Warehouse, to_arrow

STAGING = contract("forecast.recommendations")
SERVING = contract("serving.recommendations")
HISTORY = contract("serving.recommendation_history")
PUBLICATIONS = contract("serving.publications")
STATUS = contract("serving.vendor_status")
FINDINGS = contract("ops.check_findings")


@dataclass(frozen=True)
class HeldBack:
    vendor_id: str
    reason: str
    causes: tuple[dict[str, str], ...]  # {"subject", "check", "reason"}
    rows_kept: int
    stale_since: dt.datetime


@dataclass(frozen=True)
class Publication:
    version: int
    published_at: dt.datetime
    run_id: str
    rows: int
    published: tuple[str, ...]
    held_back: tuple[HeldBack, ...]


def _columns(session: Session, table: str) -> list[str]:
    schema, name = table.split(".", 1)
    found = session.query(
        "select column_name from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, name],
    )
    return list(found["column_name"])


def _ensure(session: Session, table_contract: Contract) -> pd.DataFrame:
    """Create the table if missing and return its rows; a table of an older contract is read,
    then recreated (inside the transaction, so readers never see it half-migrated)."""
    existing = _columns(session, table_contract.table)
    rows = pd.DataFrame(columns=table_contract.column_names)
    if existing:
        rows = session.query(f"select * from {table_contract.table}")
        if existing != table_contract.column_names:
            session.execute(f"drop table {table_contract.table}")
    session.ensure_table(table_contract)
    return rows


def _day(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.date


def plan(
    staged: pd.DataFrame,
    previous: pd.DataFrame,
    findings: pd.DataFrame,
    previous_status: pd.DataFrame,
    planning_date: dt.date,
    now: dt.datetime,
    run_id: str,
) -> tuple[pd.DataFrame, list[str], list[HeldBack]]:
    """The next served version: new rows for clean vendors, the previous upcoming rows of the
    vendors with findings (marked stale). Returns the rows, the vendors published, those held."""
    held_ids = sorted(set(findings["vendor_id"]))
    published = sorted(set(staged["vendor_id"]) - set(held_ids))
    fresh = staged[staged["vendor_id"].isin(published)].assign(
        published_at=now, run_id=run_id, is_stale=False, stale_reason=None
    )
    if "is_stale" not in previous.columns:  # served before the quality gates existed
        previous = previous.assign(is_stale=False, stale_reason=None)
    since = dict(
        zip(
            previous_status.loc[previous_status["status"] == "held_back", "vendor_id"],
            previous_status.loc[previous_status["status"] == "held_back", "stale_since"],
            strict=True,
        )
    )
    kept, held = [], []
    for vendor_id in held_ids:
        mine = findings[findings["vendor_id"] == vendor_id].sort_values(["subject", "check_key"])
        reason = "; ".join(dict.fromkeys(mine["reason"]))
        rows = previous[
            (previous["vendor_id"] == vendor_id) & (_day(previous["market_date"]) >= planning_date)
        ].assign(is_stale=True, stale_reason=reason)
        kept.append(rows)
        stale_since = since.get(vendor_id)
        held.append(
            HeldBack(
                vendor_id=vendor_id,
                reason=reason,
                causes=tuple(
                    {"subject": f.subject, "check": f.check_key, "reason": f.reason}
                    for f in mine.itertuples()
                ),
                rows_kept=len(rows),
                stale_since=now if stale_since is None or pd.isna(stale_since) else stale_since,
            )
        )
    frames = [f for f in [fresh, *kept] if not f.empty]
    rows = (
        pd.concat(frames, ignore_index=True)[SERVING.column_names]
        if frames
        else pd.DataFrame(columns=SERVING.column_names)
    )
    return rows, published, held


def _status_rows(
    rows: pd.DataFrame,
    published: list[str],
    held: list[HeldBack],
    version: int,
    run_id: str,
    now: dt.datetime,
) -> list[dict]:
    served = rows.groupby("vendor_id").size().to_dict() if len(rows) else {}
    base = {"version": version, "run_id": run_id, "updated_at": now}
    return [
        base
        | {
            "vendor_id": vendor_id,
            "status": "published",
            "rows_served": int(served.get(vendor_id, 0)),
            "stale_since": None,
            "reason": None,
            "causes": None,
        }
        for vendor_id in published
    ] + [
        base
        | {
            "vendor_id": h.vendor_id,
            "status": "held_back",
            "rows_served": int(served.get(h.vendor_id, 0)),
            "stale_since": h.stale_since,
            "reason": h.reason,
            "causes": json.dumps(list(h.causes)),
        }
        for h in held
    ]


def publish(
    warehouse: Warehouse,
    run_id: str,
    planning_date: dt.date,
    now: dt.datetime,
    *,
    before_commit: Callable[[], None] | None = None,
) -> Publication:
    """Swap the audited staging rows into serving, holding back vendors with findings.

    before_commit runs inside the transaction after every write, just before the commit (the
    crash tests stop the process there).
    """
    with warehouse.session() as session:
        if not session.table_exists(STAGING.table):
            raise LookupError(
                f"{STAGING.table} does not exist: materialize forecast/recommendations first"
            )
        for table_contract in (PUBLICATIONS, HISTORY, STATUS, FINDINGS):
            session.ensure_table(table_contract)
        if session.kind == "postgres":
            # One publisher at a time (the version number); plain readers are not blocked.
            session.execute(f"lock table {PUBLICATIONS.table} in exclusive mode")
        previous = _ensure(session, SERVING)
        staged = session.query(f"select * from {STAGING.table}")
        findings = session.query(f"select * from {FINDINGS.table}")
        previous_status = session.query(f"select * from {STATUS.table}")
        last = session.query(f"select max(version) as v from {PUBLICATIONS.table}")["v"].iloc[0]
        version = 1 if last is None or pd.isna(last) else int(last) + 1

        rows, published, held = plan(
            staged, previous, findings, previous_status, planning_date, now, run_id
        )
        session.execute(f"delete from {SERVING.table}")
        session.insert(SERVING.table, to_arrow(SERVING, rows))
        session.insert(HISTORY.table, to_arrow(HISTORY, rows.assign(version=version)))
        session.execute(f"delete from {STATUS.table}")
        session.insert(
            STATUS.table,
            to_arrow(STATUS, _status_rows(rows, published, held, version, run_id, now)),
        )
        publication = {
            "version": version,
            "published_at": now,
            "run_id": run_id,
            "planning_date": planning_date,
            "rows": len(rows),
            "vendors_published": json.dumps(published),
            "vendors_held_back": json.dumps(
                [{"vendor_id": h.vendor_id, "reason": h.reason} for h in held]
            ),
        }
        session.insert(PUBLICATIONS.table, to_arrow(PUBLICATIONS, [publication]))
        if before_commit is not None:
            before_commit()
    return Publication(version, now, run_id, len(rows), tuple(published), tuple(held))
