"""Incidents operators act on: one alert when one opens, one message when it clears, rate-limited.

The sensors observe what is wrong now (failed blocking checks, held-back vendors, failed runs) and
call `notify` with it. ops.alerts holds one row per incident: an incident already open is not
announced again, an open incident no longer observed is resolved, and both messages go through
every configured channel (webhook, email). Rate limits:

- flapping: an incident that comes back within MARKETPREP_ALERT_MIN_INTERVAL_MINUTES of the last
  message about the same thing is announced only once that interval has passed;
- volume: at most MARKETPREP_ALERT_MAX_PER_HOUR messages in any hour; the rest wait for a later
  evaluation, and an incident that clears before its alert went out is never announced.

Text is redacted of every secret setting and anything shaped like a credential before it is
stored or sent.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import pandas as pd

from data_contracts import contract
from marketprep.alert_channels import Channel, DeliveryError, Message, redact
from marketprep.warehouse import Warehouse

ALERTS = contract("ops.alerts")
STATUS = contract("serving.vendor_status")
HOUR = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Incident:
    key: str  # stable identity: the same key observed again is the same incident
    kind: str  # check_failed, held_back or run_failed: the sensor that owns it
    summary: str
    detail: str


@dataclass
class Outcome:
    """What one `notify` call did, for the sensor's log."""

    opened: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)  # "open <key>" / "resolve <key>"
    waiting: int = 0  # messages still owed: held by the rate limit or not delivered
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Limits:
    min_interval: dt.timedelta
    max_per_hour: int


def _read(warehouse: Warehouse) -> pd.DataFrame:
    warehouse.ensure_tables([ALERTS])
    rows = warehouse.query("select * from ops.alerts")
    for column in ("opened_at", "last_seen_at", "resolved_at", "open_sent_at", "resolve_sent_at"):
        # microseconds, as stored: PostgreSQL rows come as objects, and pandas makes an empty or
        # all-null column whole seconds, which then refuses a `now` with microseconds
        rows[column] = pd.to_datetime(rows[column], utc=True).dt.as_unit("us")
    return rows


def _write(warehouse: Warehouse, kind: str, rows: pd.DataFrame) -> None:
    warehouse.replace(ALERTS, rows[rows["kind"] == kind], where="kind = ?", params=[kind])


def reconcile(
    rows: pd.DataFrame,
    kind: str,
    observed: Sequence[Incident],
    now: dt.datetime,
    unknown: Collection[str] = (),
) -> tuple[pd.DataFrame, Outcome]:
    """Open what is newly observed, refresh what is still observed, resolve what is not.

    unknown: keys whose state cannot be told now (a check still running); they stay as they are.
    """
    outcome = Outcome()
    rows = rows.copy()
    open_mask = (rows["kind"] == kind) & (rows["status"] == "open")
    open_keys = dict(zip(rows.loc[open_mask, "incident_key"], rows.index[open_mask], strict=True))
    new = []
    for incident in {i.key: i for i in observed}.values():
        if incident.key in open_keys:
            index = open_keys[incident.key]
            rows.loc[index, ["last_seen_at", "summary", "detail"]] = [
                now,
                incident.summary,
                incident.detail,
            ]
        else:
            outcome.opened.append(incident.key)
            new.append(
                {
                    "incident_key": incident.key,
                    "kind": kind,
                    "opened_at": now,
                    "status": "open",
                    "summary": incident.summary,
                    "detail": incident.detail,
                    "last_seen_at": now,
                }
            )
    gone = set(open_keys) - {i.key for i in observed} - set(unknown)
    for key in sorted(gone):
        rows.loc[open_keys[key], ["status", "resolved_at"]] = ["resolved", now]
        outcome.resolved.append(key)
    if new:
        rows = pd.concat([rows, pd.DataFrame(new)], ignore_index=True)
    return rows, outcome


def due(rows: pd.DataFrame, kind: str, now: dt.datetime, limits: Limits) -> list[tuple[int, str]]:
    """(row index, "open" or "resolve") of the messages of `kind` that may go out now."""
    sent_times = pd.concat([rows["open_sent_at"], rows["resolve_sent_at"]]).dropna()
    budget = limits.max_per_hour - int((sent_times > now - HOUR).sum())
    mine = rows[rows["kind"] == kind]
    resolves = mine[
        (mine["status"] == "resolved")
        & mine["open_sent_at"].notna()
        & mine["resolve_sent_at"].isna()
    ].sort_values("resolved_at")
    opens = mine[(mine["status"] == "open") & mine["open_sent_at"].isna()].sort_values("opened_at")
    wanted = [(i, "resolve") for i in resolves.index]
    for index, row in opens.iterrows():
        # the last message about the same thing, from an earlier incident with this key
        earlier = rows[(rows["incident_key"] == row["incident_key"]) & (rows.index != index)]
        last = pd.concat([earlier["open_sent_at"], earlier["resolve_sent_at"]]).dropna()
        if last.empty or now - last.max() >= limits.min_interval:
            wanted.append((index, "open"))
    return wanted[: max(budget, 0)]


def _message(row: pd.Series, action: str, now: dt.datetime) -> Message:
    key, opened = row["incident_key"], row["opened_at"]
    if action == "open":
        return Message(
            f"[MarketPrep] {row['summary']}",
            f"{row['detail']}\n\nIncident {key}, open since {opened:%Y-%m-%d %H:%M} UTC.",
        )
    minutes = int((now - opened).total_seconds() // 60)
    return Message(
        f"[MarketPrep] Resolved: {row['summary']}",
        f"Cleared at {now:%Y-%m-%d %H:%M} UTC, {minutes} min after it opened.\n\nIncident {key}.",
    )


def notify(
    warehouse: Warehouse,
    kind: str,
    observed: Sequence[Incident] | None,
    now: dt.datetime,
    channels: Sequence[Channel],
    limits: Limits,
    *,
    unknown: Collection[str] = (),
    secrets: Sequence[str] = (),
) -> Outcome:
    """Reconcile `kind`'s incidents with what is observed now and send what is due.

    observed=None: nothing new was observed; only messages owed from earlier go out, if now due.
    """
    rows = _read(warehouse)
    if observed is None:
        observed, unknown = [], set(rows.loc[rows["kind"] == kind, "incident_key"])
    observed = [
        Incident(i.key, kind, redact(i.summary, secrets), redact(i.detail, secrets))
        for i in observed
    ]
    rows, outcome = reconcile(rows, kind, observed, now, unknown)
    _write(warehouse, kind, rows)  # recorded before anything is sent
    wanted = due(rows, kind, now, limits)
    for index, action in wanted:
        message = _message(rows.loc[index], action, now)
        message = Message(redact(message.subject, secrets), redact(message.text, secrets))
        took, failed = [], []
        for channel in channels:
            try:
                channel.send(message)
                took.append(channel.name)
            except DeliveryError as exc:
                failed.append(redact(str(exc), secrets))
        outcome.errors += failed
        if channels and not took:
            rows.loc[index, "delivery"] = "; ".join(failed)
            continue  # nothing took it: try again at the next evaluation
        rows.loc[index, f"{action}_sent_at"] = now
        rows.loc[index, "delivery"] = "; ".join(
            [", ".join(took) or "recorded only (no channel configured)", *failed]
        )
        outcome.sent.append(f"{action} {rows.loc[index, 'incident_key']}")
    if wanted:
        _write(warehouse, kind, rows)
    outcome.waiting = owed(rows, kind)
    return outcome


def owed(rows: pd.DataFrame, kind: str) -> int:
    """Messages of `kind` not sent yet: alerts of open incidents, resolves of announced ones."""
    mine = rows[rows["kind"] == kind]
    opens = (mine["status"] == "open") & mine["open_sent_at"].isna()
    announced = mine["open_sent_at"].notna() & mine["resolve_sent_at"].isna()
    return int(opens.sum() + ((mine["status"] == "resolved") & announced).sum())


def held_back_incidents(warehouse: Warehouse) -> list[Incident]:
    """One incident per failing subject (a vendor's own data, or a market's) among the vendors the
    last publication held back, naming every vendor it holds back and why."""
    if not warehouse.table_exists(STATUS.table):
        return []
    held = warehouse.query(
        "select vendor_id, causes, stale_since from serving.vendor_status "
        "where status = 'held_back' order by vendor_id"
    )
    subjects: dict[str, dict] = {}
    for row in held.itertuples():
        for cause in json.loads(row.causes or "[]"):
            entry = subjects.setdefault(cause["subject"], {"vendors": [], "reasons": {}})
            if row.vendor_id not in entry["vendors"]:
                entry["vendors"].append(row.vendor_id)
            entry["reasons"].setdefault(f"{cause['check']}: {cause['reason']}", None)
    incidents = []
    for subject, entry in sorted(subjects.items()):
        what, name = subject.split(":", 1)
        vendors = ", ".join(entry["vendors"])
        summary = (
            f"Vendor {name} held back: its last published recommendations stay, marked stale"
            if what == "vendor"
            else f"Market {name}: vendor(s) {vendors} held back, last published recommendations stay, marked stale"
        )
        detail = (
            "\n".join(f"- {reason}" for reason in entry["reasons"])
            + f"\nVendors held back: {vendors}. Fix the input; the next run that passes publishes "
            "them again and this alert resolves."
        )
        incidents.append(Incident(f"held_back:{subject}", "held_back", summary, detail))
    return incidents
