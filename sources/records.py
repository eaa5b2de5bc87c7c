"""What the parsers share: the error for one bad record, and how raw payloads are stored."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import orjson


class MalformedRecord(ValueError):
    """One provider record cannot become a row; the caller quarantines its payload and goes on.

    `payload` is the record as the provider sent it, when the parser had it, so the quarantine
    keeps exactly what failed.
    """

    def __init__(self, kind: str, record_id: object, problem: str, payload: Any = None) -> None:
        super().__init__(f"{kind} {record_id if record_id is not None else '<no id>'}: {problem}")
        self.kind = kind
        self.record_id = record_id
        self.problem = problem
        self.payload = payload


def to_json(payload: Any) -> str:
    """The payload as JSON text for a `json` column, keys in the order the provider sent them.

    orjson, because every ingested order is serialised once: the stdlib encoder is the largest
    single cost of a history load.
    """
    return orjson.dumps(payload).decode()


def rows_by_key(
    records: Iterable[dict],
    to_row: Callable[[dict], dict],
    key: str,
    on_malformed: Callable[[MalformedRecord], None] | None,
) -> list[dict]:
    """One row per `key` (the last record wins). A malformed record raises MalformedRecord, or,
    when `on_malformed` is given, is reported there and skipped so the others still load."""
    rows: dict[object, dict] = {}
    for record in records:
        try:
            row = to_row(record)
        except MalformedRecord as exc:
            if on_malformed is None:
                raise
            on_malformed(exc)
            continue
        rows[row[key]] = row
    return list(rows.values())
