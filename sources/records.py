"""What the parsers share: the error for one bad record, and how raw payloads are stored."""

from __future__ import annotations

import json
from typing import Any


class MalformedRecord(ValueError):
    """One provider record cannot become a row; the caller quarantines its payload and goes on."""

    def __init__(self, kind: str, record_id: object, problem: str) -> None:
        super().__init__(f"{kind} {record_id if record_id is not None else '<no id>'}: {problem}")
        self.kind = kind
        self.record_id = record_id
        self.problem = problem


def to_json(payload: Any) -> str:
    """The payload as JSON text for a `json` column, keys in the order the provider sent them."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
