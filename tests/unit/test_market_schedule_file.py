"""The market schedule file: what it becomes, and errors that name the entry and the fix."""

from __future__ import annotations

import datetime as dt

import pytest

from data_contracts import contract
from marketprep.calendar import ScheduleFileError, load_schedule_overrides
from marketprep.warehouse import to_arrow

LOADED = dt.datetime(2025, 6, 1, 5, tzinfo=dt.UTC)
GOOD = """\
markets:
  mkt_47.668_-122.385:
    weekdays: [Wednesday, sat]
    season: {start: "05-01", end: "10-31"}
    closed:
      - 2025-07-04
      - {date: 2025-12-27, note: holiday break}
  mkt_47.666_-122.313:
    season: all-year
"""


def load(tmp_path, text: str) -> list[dict]:
    path = tmp_path / "schedule.yaml"
    path.write_text(text)
    return load_schedule_overrides(path, LOADED)


def test_each_rule_becomes_a_typed_row(tmp_path):
    rows = load(tmp_path, GOOD)
    to_arrow(contract("raw.market_schedule_overrides"), rows)  # fits the contract
    by_key = {(r["market_id"], r["rule_key"]): r for r in rows}
    assert set(by_key) == {
        ("mkt_47.668_-122.385", "weekday:3"),
        ("mkt_47.668_-122.385", "weekday:6"),
        ("mkt_47.668_-122.385", "season"),
        ("mkt_47.668_-122.385", "closed:2025-07-04"),
        ("mkt_47.668_-122.385", "closed:2025-12-27"),
        ("mkt_47.666_-122.313", "season"),
    }
    assert by_key["mkt_47.668_-122.385", "weekday:3"]["day_of_week"] == 3
    season = by_key["mkt_47.668_-122.385", "season"]
    assert (season["season_start"], season["season_end"]) == ("05-01", "10-31")
    all_year = by_key["mkt_47.666_-122.313", "season"]
    assert (all_year["season_start"], all_year["season_end"]) == ("01-01", "12-31")
    closed = by_key["mkt_47.668_-122.385", "closed:2025-12-27"]
    assert (closed["closed_on"], closed["note"]) == (dt.date(2025, 12, 27), "holiday break")
    assert {r["loaded_at"] for r in rows} == {LOADED}


def test_an_empty_file_means_no_overrides(tmp_path):
    assert load(tmp_path, "") == []
    assert load(tmp_path, "markets: {}\n") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "markets:\n  mkt_1_2:\n    weekdays: [funday]\n",
            r"markets.mkt_1_2.weekdays\[0\] is 'funday': use mon",
        ),
        (
            "markets:\n  mkt_1_2:\n    season: {start: '13-01', end: '10-31'}\n",
            r"season.start is '13-01': write \"MM-DD\"",
        ),
        (
            "markets:\n  mkt_1_2:\n    season: {start: 5-1, end: '10-31'}\n",
            r"season.start is '5-1'",
        ),
        ("markets:\n  mkt_1_2:\n    season: summer\n", r"season: give \{start"),
        (
            "markets:\n  mkt_1_2:\n    closed: [2025-13-01]\n",
            "not valid YAML: month must be in 1..12",
        ),
        ("markets:\n  mkt_1_2:\n    closed: [2025-07-04, 2025-07-04]\n", "closed day listed twice"),
        ("markets:\n  mkt_1_2:\n    opens: '09:00'\n", r"unknown key\(s\) \['opens'\]"),
        ("markets:\n  ballard:\n    weekdays: [sun]\n", "'ballard' is not a market id"),
        ("market:\n  mkt_1_2: {}\n", "one key, `markets`"),
        ("markets: [\n", "not valid YAML"),
        (
            "markets:\n  mkt_1_2:\n    closed: ['2025-13-01']\n",
            r"closed\[0\] is '2025-13-01': write the day as YYYY-MM-DD",
        ),
    ],
)
def test_bad_entries_are_named_with_the_fix(tmp_path, text, message):
    with pytest.raises(ScheduleFileError, match=message) as caught:
        load(tmp_path, text)
    assert str(tmp_path / "schedule.yaml") in str(caught.value)


def test_a_missing_file_names_the_setting(tmp_path):
    with pytest.raises(ScheduleFileError, match="MARKETPREP_MARKET_SCHEDULE_FILE=.*no such file"):
        load_schedule_overrides(tmp_path / "nope.yaml", LOADED)
