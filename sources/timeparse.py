"""Timestamps as the providers send them: RFC 3339 (Square, PredictHQ `updated`) and zone-less
local date-times (PredictHQ `*_local`, PredictHQ `start` when the event has no time zone).

One regex decides what is accepted, so `datetime.fromisoformat`'s wider ISO 8601 dialect (week
dates, basic format, a bare date) cannot slip through and be read as something it is not.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_DATETIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<hm>\d{2}:\d{2})(?P<sec>:\d{2})?"
    r"(?:\.(?P<frac>\d+))?(?P<offset>[Zz]|[+-]\d{2}:\d{2})?"
)


def _parse(text: object) -> tuple[datetime, bool]:
    if not isinstance(text, str):
        raise ValueError(f"expected a date-time string, got {text!r}")
    match = _DATETIME.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not an RFC 3339 / ISO 8601 date-time")
    # Python keeps microseconds: longer fractions (some APIs send nanoseconds) are truncated.
    frac = (match["frac"] or "")[:6].ljust(6, "0")
    offset = match["offset"] or ""
    iso = f"{match['date']}T{match['hm']}{match['sec'] or ':00'}.{frac}"
    iso += "+00:00" if offset in ("Z", "z") else offset
    try:
        return datetime.fromisoformat(iso), bool(offset)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid date-time: {exc}") from None


def parse_rfc3339(text: object) -> datetime:
    """An instant with an explicit offset (`Z` or `±hh:mm`, fractional seconds optional), in UTC."""
    value, has_offset = _parse(text)
    if not has_offset:
        raise ValueError(f"{text!r} has no UTC offset, so it does not name an instant")
    return value.astimezone(UTC)


def parse_local(text: object) -> datetime:
    """A wall-clock date-time without a zone (naive); an offset, if present, is an error."""
    value, has_offset = _parse(text)
    if has_offset:
        raise ValueError(f"{text!r} has a UTC offset where a local wall-clock time was expected")
    return value


def format_rfc3339(moment: datetime) -> str:
    """`2025-06-01T00:00:00Z`-style UTC text for request parameters; rejects naive datetimes."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} is naive: pass a timezone-aware datetime")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + (
        f".{moment.microsecond:06d}Z" if moment.microsecond else "Z"
    )
