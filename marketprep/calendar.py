"""Market schedule overrides: the operator's YAML file, validated, as raw.market_schedule_overrides rows.

dbt infers each market's schedule from its sales (the weekdays it was held in its last eight
weeks of activity, the season when a year of history shows a long break) and builds the market
calendar from it; this file corrects what sales cannot know:

    markets:
      mkt_47.668_-122.385:            # dim_markets.market_id
        weekdays: [wed, sat]          # replaces the inferred weekdays
        season: {start: "05-01", end: "10-31"}   # replaces the inferred season; or: all-year
        closed:                       # days the market is not held
          - 2025-07-04
          - {date: 2025-12-27, note: holiday break}

The file lives with the deployment, not the code, so it is a setting
(MARKETPREP_MARKET_SCHEDULE_FILE) loaded into a raw table that dbt reads like any other source.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml

WEEKDAYS = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}
MARKET_KEYS = frozenset({"weekdays", "season", "closed"})
ALL_YEAR = ("01-01", "12-31")


class ScheduleFileError(ValueError):
    """The schedule file cannot be used; the message names the file, the entry and the fix."""


def load_schedule_overrides(path: str | Path, loaded_at: dt.datetime) -> list[dict]:
    """The file's rules as raw.market_schedule_overrides rows."""
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScheduleFileError(
            f"MARKETPREP_MARKET_SCHEDULE_FILE={path}: no such file; fix the path or unset it"
        ) from None
    except (yaml.YAMLError, ValueError) as exc:  # YAML itself refuses an impossible date
        raise ScheduleFileError(f"{path}: not valid YAML: {exc}") from None
    return schedule_rows(document, str(path), loaded_at)


def schedule_rows(document: Any, name: str, loaded_at: dt.datetime) -> list[dict]:
    """Rows from a parsed schedule document; `name` labels errors (the file path)."""
    if document is None:
        return []
    if not isinstance(document, dict) or set(document) != {"markets"}:
        raise ScheduleFileError(
            f"{name}: the file must hold one key, `markets`, mapping ids to rules"
        )
    markets = document["markets"] or {}
    if not isinstance(markets, dict):
        raise ScheduleFileError(f"{name}: `markets` must map market ids to their rules")
    rows: list[dict] = []
    for market_id, rules in markets.items():
        where = f"{name}: markets.{market_id}"
        if not isinstance(market_id, str) or not market_id.startswith("mkt_"):
            raise ScheduleFileError(
                f"{where}: {market_id!r} is not a market id (they look like mkt_47.668_-122.385; "
                "see dim_markets)"
            )
        if not isinstance(rules, dict) or not rules:
            raise ScheduleFileError(f"{where}: give weekdays, season and/or closed")
        unknown = sorted(set(rules) - MARKET_KEYS)
        if unknown:
            raise ScheduleFileError(
                f"{where}: unknown key(s) {unknown}; use {', '.join(sorted(MARKET_KEYS))}"
            )

        if "weekdays" in rules:
            for day in sorted(set(_weekdays(rules["weekdays"], f"{where}.weekdays"))):
                rows.append(
                    _row(market_id, f"weekday:{day}", "weekday", loaded_at, day_of_week=day)
                )
        if "season" in rules:
            start, end = _season(rules["season"], f"{where}.season")
            rows.append(
                _row(market_id, "season", "season", loaded_at, season_start=start, season_end=end)
            )
        closed = rules.get("closed") or []
        if not isinstance(closed, list):
            raise ScheduleFileError(f"{where}.closed: give a list of dates (YYYY-MM-DD)")
        for index, entry in enumerate(closed):
            day, note = _closure(entry, f"{where}.closed[{index}]")
            rows.append(
                _row(market_id, f"closed:{day}", "closed", loaded_at, closed_on=day, note=note)
            )
    keys = [(r["market_id"], r["rule_key"]) for r in rows]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ScheduleFileError(f"{name}: closed day listed twice: {duplicates[0]}")
    return rows


def _row(market_id: str, rule_key: str, rule: str, loaded_at: dt.datetime, **values: Any) -> dict:
    base = {
        "market_id": market_id,
        "rule_key": rule_key,
        "rule": rule,
        "day_of_week": None,
        "season_start": None,
        "season_end": None,
        "closed_on": None,
        "note": None,
        "loaded_at": loaded_at,
    }
    return base | values


def _weekdays(value: Any, where: str) -> list[int]:
    if not isinstance(value, list) or not value:
        raise ScheduleFileError(f"{where}: give a list of weekdays, e.g. [wed, sat]")
    days = []
    for index, day in enumerate(value):
        number = WEEKDAYS.get(str(day).strip().lower()[:3]) if isinstance(day, str) else None
        if number is None:
            raise ScheduleFileError(f"{where}[{index}] is {day!r}: use {', '.join(WEEKDAYS)}")
        days.append(number)
    return days


def _season(value: Any, where: str) -> tuple[str, str]:
    if value == "all-year":
        return ALL_YEAR
    if not isinstance(value, dict) or set(value) != {"start", "end"}:
        raise ScheduleFileError(
            f'{where}: give {{start: "MM-DD", end: "MM-DD"}} (quoted), or all-year'
        )
    return _month_day(value["start"], f"{where}.start"), _month_day(value["end"], f"{where}.end")


def _month_day(value: Any, where: str) -> str:
    text = str(value)
    try:
        # A leap year, so 02-29 is a valid season boundary.
        dt.datetime.strptime(f"2000-{text}", "%Y-%m-%d")
    except ValueError:
        raise ScheduleFileError(f'{where} is {value!r}: write "MM-DD", e.g. "05-01"') from None
    if len(text) != 5:
        raise ScheduleFileError(f'{where} is {value!r}: write "MM-DD" with two digits each')
    return text


def _closure(entry: Any, where: str) -> tuple[dt.date, str | None]:
    note = None
    if isinstance(entry, dict):
        if set(entry) - {"date", "note"} or "date" not in entry:
            raise ScheduleFileError(f"{where}: give a date, or {{date: YYYY-MM-DD, note: why}}")
        note = None if entry.get("note") is None else str(entry["note"])
        entry = entry["date"]
    if isinstance(entry, dt.datetime):
        raise ScheduleFileError(f"{where} is {entry!r}: give a day, YYYY-MM-DD, not a time")
    if isinstance(entry, dt.date):
        return entry, note
    try:
        return dt.date.fromisoformat(str(entry)), note
    except ValueError:
        raise ScheduleFileError(f"{where} is {entry!r}: write the day as YYYY-MM-DD") from None
