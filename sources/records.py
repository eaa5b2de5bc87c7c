"""What the parsers share: the error for one bad record, and how raw payloads are stored."""

from __future__ import annotations

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
