"""Per-vendor Square sync state: the orders watermark, and how each stream's last sync went.

A failure is recorded for its vendor and never touches the vendor's rows, so downstream keeps
the last good data. `vendor_freshness` turns the state into the check's verdict: a failing
vendor is a warning until its data is more than a day old, then an error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from data_contracts import contract
from marketprep.ingest.square_orders import LoadStats
from marketprep.warehouse import Warehouse
from sources.http import SourceError
from sources.records import to_json

SYNC_STATE = contract("raw.square_sync_state")
STATE_KEY = ("vendor_id", "stream")
MAX_STALENESS = dt.timedelta(hours=24)
# Square's codes for a token that no longer works: retrying cannot help, the vendor must
# authorise MarketPrep again.
AUTH_CODES = frozenset(
    {"UNAUTHORIZED", "ACCESS_TOKEN_EXPIRED", "ACCESS_TOKEN_REVOKED", "INSUFFICIENT_SCOPES"}
)


def read_state(warehouse: Warehouse, vendor_id: str, stream: str) -> dict[str, Any] | None:
    """The vendor's state row for `stream`, or None before its first sync."""
    with warehouse.session() as session:
        if not session.table_exists(SYNC_STATE.table):
            return None
        found = session.query(
            "select * from raw.square_sync_state where vendor_id = ? and stream = ?",
            [vendor_id, stream],
        )
    if found.empty:
        return None
    row = found.astype(object).where(found.notna(), None).iloc[0].to_dict()
    for name in ("last_attempt_at", "last_success_at", "watermark", "window_start", "window_end"):
        row[name] = _instant(row[name])
    return row


def _instant(value: Any) -> dt.datetime | None:
    """A timestamptz as read back (pandas or psycopg, NaT for null) as an aware UTC datetime."""
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).to_pydatetime().astimezone(dt.UTC)


def _write(warehouse: Warehouse, row: dict[str, Any]) -> None:
    warehouse.upsert_many([(SYNC_STATE, [row])], key=STATE_KEY)


def success_row(
    vendor_id: str,
    stream: str,
    started_at: dt.datetime,
    *,
    rows: int,
    quarantined: int = 0,
    stats: LoadStats | None = None,
    watermark: dt.datetime | None = None,
    mode: str | None = None,
    window: tuple[dt.datetime, dt.datetime] | None = None,
) -> dict[str, Any]:
    """The state row of a stream that loaded completely: its data is as fresh as `started_at`."""
    return {
        "vendor_id": vendor_id,
        "stream": stream,
        "status": "ok",
        "last_attempt_at": started_at,
        "last_success_at": started_at,
        "error_code": None,
        "error": None,
        "watermark": watermark,
        "mode": mode,
        "window_start": window[0] if window else None,
        "window_end": window[1] if window else None,
        "rows_loaded": rows,
        "quarantined": quarantined,
        "lines_excluded": sum(stats.exclusions.values()) if stats else 0,
        "exclusions": to_json(dict(sorted(stats.exclusions.items()))) if stats else None,
    }


def record_success(
    warehouse: Warehouse, vendor_id: str, stream: str, started_at: dt.datetime, **counts: Any
) -> None:
    """Write `success_row` (same arguments) on its own."""
    _write(warehouse, success_row(vendor_id, stream, started_at, **counts))


def record_failure(
    warehouse: Warehouse, vendor_id: str, stream: str, started_at: dt.datetime, error: Exception
) -> None:
    """The stream failed: keep the previous success, watermark and counts; note what went wrong."""
    previous = read_state(warehouse, vendor_id, stream) or {}
    _write(
        warehouse,
        {
            "vendor_id": vendor_id,
            "stream": stream,
            "status": "failed",
            "last_attempt_at": started_at,
            "last_success_at": previous.get("last_success_at"),
            "error_code": getattr(error, "code", None),
            "error": str(error),
            "watermark": previous.get("watermark"),
            "mode": previous.get("mode"),
            "window_start": previous.get("window_start"),
            "window_end": previous.get("window_end"),
            "rows_loaded": int(previous.get("rows_loaded") or 0),
            "quarantined": int(previous.get("quarantined") or 0),
            "lines_excluded": int(previous.get("lines_excluded") or 0),
            "exclusions": previous.get("exclusions"),
        },
    )


def explain(error: SourceError, vendor_id: str) -> str:
    """The error, plus what the operator should do when retrying cannot help."""
    if error.code in AUTH_CODES:
        return (
            f"{error}; vendor {vendor_id} must authorise MarketPrep again: register the new "
            f"token with `marketprep vendors add --vendor-id {vendor_id} --token-env VAR`"
        )
    return str(error)


@dataclass(frozen=True)
class VendorFreshness:
    """One vendor's verdict: `ok`, `warn` (a stream failed, data still under a day old) or
    `error` (its orders are more than MAX_STALENESS old, or never loaded a day after
    registration)."""

    vendor_id: str
    verdict: str
    failed_streams: tuple[str, ...]
    error_code: str | None
    last_success_at: dt.datetime | None
    age_hours: float

    def describe(self) -> str:
        since = (
            f"last good orders {self.age_hours:.0f} h ago"
            if self.last_success_at
            else f"no orders loaded, registered {self.age_hours:.0f} h ago"
        )
        failing = ", ".join(self.failed_streams) or "none"
        return f"{self.vendor_id}: {since}; failing: {failing} ({self.error_code or 'no code'})"


def vendor_freshness(
    warehouse: Warehouse, now: dt.datetime, max_staleness: dt.timedelta = MAX_STALENESS
) -> list[VendorFreshness]:
    """Every active vendor that has sync state, judged at `now`."""
    if not warehouse.table_exists(SYNC_STATE.table):
        return []
    rows = warehouse.query(
        "select s.vendor_id, s.stream, s.status, s.error_code, s.last_success_at, "
        "v.registered_at from raw.square_sync_state s "
        "join raw.vendors v on v.vendor_id = s.vendor_id where v.active "
        "order by s.vendor_id, s.stream"
    )
    verdicts = []
    for vendor_id, group in rows.groupby("vendor_id", sort=True):
        failed = group[group["status"] == "failed"]
        orders = group[group["stream"] == "orders"]
        last = _instant(orders["last_success_at"].iloc[0]) if len(orders) else None
        since = last or _instant(group["registered_at"].iloc[0])
        age = now - since
        if age > max_staleness:
            verdict = "error"
        elif len(failed):
            verdict = "warn"
        else:
            verdict = "ok"
        codes = [c for c in failed["error_code"] if isinstance(c, str)]
        verdicts.append(
            VendorFreshness(
                vendor_id=vendor_id,
                verdict=verdict,
                failed_streams=tuple(failed["stream"]),
                error_code=codes[0] if codes else None,
                last_success_at=last,
                age_hours=age.total_seconds() / 3600,
            )
        )
    return verdicts


def status_table(warehouse: Warehouse, vendor_ids: list[str], stream: str) -> list[dict]:
    """State rows of these vendors for one stream, as plain dicts for asset metadata."""
    if not vendor_ids or not warehouse.table_exists(SYNC_STATE.table):
        return []
    marks = ", ".join("?" for _ in vendor_ids)
    found = warehouse.query(
        "select vendor_id, status, mode, watermark, last_success_at, rows_loaded, quarantined, "
        "lines_excluded, error_code from raw.square_sync_state "
        f"where stream = ? and vendor_id in ({marks}) order by vendor_id",
        [stream, *vendor_ids],
    )
    return found.astype(object).where(found.notna(), None).to_dict("records")
