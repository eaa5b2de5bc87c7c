"""What one load did, per vendor or market: one subject's failure is recorded, never fatal."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sources.http import SourceError


@dataclass
class SyncResult:
    """What one vendor's or market's load did: `ok`, or `failed` with the reason; rows written."""

    subject: str
    status: str
    rows: int = 0
    skipped: int = 0
    error: str | None = None


def per_subject(
    subjects: Iterable[str], load: Callable[[str], tuple[int, int]]
) -> list[SyncResult]:
    results = []
    for subject in subjects:
        try:
            rows, skipped = load(subject)
            results.append(SyncResult(subject, "ok", rows, skipped))
        except SourceError as exc:
            results.append(SyncResult(subject, "failed", error=str(exc)))
    return results
