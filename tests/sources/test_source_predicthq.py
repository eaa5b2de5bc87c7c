"""PredictHQ paging and raw.events rows, against the recorded fixtures."""

from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from sources.http import SourceError
from sources.predicthq import PredictHQClient, event_rows
from sources.records import MalformedRecord

FETCHED = datetime(2024, 6, 1, 6, 0, tzinfo=UTC)
FIXTURE = "events/predicthq-events.fixture.json"


def client(stub, *script) -> tuple[PredictHQClient, object]:
    s = stub(*script, provider="predicthq")
    return PredictHQClient("http://phq.test", "phq-token", http=s.http), s


def query(sent) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(sent.url).query).items()}


def results(*ids: str, overflow: bool = False, next_url: str | None = None) -> dict:
    body = {"overflow": overflow, "next": next_url, "results": [{"id": i} for i in ids]}
    return {"status": 200, "body": body}


@pytest.fixture
def events(exchanges) -> dict[str, dict]:
    pages = [e for e in exchanges(FIXTURE) if e["name"].startswith("events")]
    return {ev["id"]: ev for p in pages for ev in p["response"]["body"]["results"]}


def test_event_rows_use_the_events_local_days(events, assert_contract):
    rows = {r["event_id"]: r for r in event_rows("mkt_44.978_-93.265", events.values(), FETCHED)}
    assert_contract("raw.events", list(rows.values()))

    concert = rows["4hFctf3GqQ2MS5qYLW"]  # 2024-06-07T03:00Z is 20:00 on the 6th in Seattle
    assert (concert["start_date"], concert["end_date"]) == (date(2024, 6, 6), date(2024, 6, 6))
    assert (concert["attendance"], concert["rank"], concert["category"]) == (4201, 62, "concerts")

    holiday = rows["SYNTHphqHoliday0001"]  # no time zone: start/end are already local
    assert (holiday["start_date"], holiday["end_date"]) == (date(2024, 7, 4), date(2024, 7, 4))
    assert holiday["attendance"] is None

    cancelled = rows["SYNTHphqCancelled0003"]  # 00:30Z on the 28th is the 27th in Chicago
    assert (cancelled["start_date"], cancelled["state"]) == (date(2024, 6, 27), "deleted")

    fair = rows["SYNTHphqCommunity0002"]
    assert (fair["start_date"], fair["end_date"], fair["attendance"]) == (
        date(2024, 6, 29),
        date(2024, 6, 29),
        3500,
    )


def test_an_event_ending_at_local_midnight_ends_the_day_before(events):
    holiday = events["SYNTHphqHoliday0001"] | {"end": "2024-07-05T00:00:00"}
    (row,) = event_rows("m", [holiday], FETCHED)
    assert row["end_date"] == date(2024, 7, 4)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"title": None}, "has no title"),
        ({"rank": "high"}, "rank 'high'"),
        ({"timezone": "Mars/Olympus"}, "unreadable"),
        ({"end": "2024-06-06T00:00:00Z"}, "before it starts"),
    ],
)
def test_malformed_events_are_named_and_can_be_skipped(events, change, problem):
    bad = events["4hFctf3GqQ2MS5qYLW"] | change
    good = events["SYNTHphqCommunity0002"]
    with pytest.raises(MalformedRecord, match=problem) as caught:
        event_rows("m", [bad, good], FETCHED)
    assert caught.value.record_id == "4hFctf3GqQ2MS5qYLW"
    reported: list[MalformedRecord] = []
    rows = event_rows("m", [bad, good], FETCHED, on_malformed=reported.append)
    assert [r["event_id"] for r in rows] == ["SYNTHphqCommunity0002"]
    assert [r.record_id for r in reported] == ["4hFctf3GqQ2MS5qYLW"]


def test_search_follows_next_on_our_own_host_until_null(stub, exchanges):
    first, last, _ = [e["response"] for e in exchanges(FIXTURE)]
    phq, s = client(stub, first, last)
    found = list(
        phq.search(
            44.9778, -93.265, 10, date(2024, 6, 1), date(2024, 6, 30), timezone="America/Chicago"
        )
    )
    assert [e["id"] for e in found] == [
        "4hFctf3GqQ2MS5qYLW",
        "SYNTHphqHoliday0001",
        "SYNTHphqCommunity0002",
        "SYNTHphqCancelled0003",
    ]
    assert query(s.sent[0]) == {
        "within": "10km@44.977800,-93.265000",
        "active.gte": "2024-06-01",
        "active.lte": "2024-06-30",
        "active.tz": "America/Chicago",
        "category": (
            "community,festivals,expos,concerts,sports,performing-arts,public-holidays,"
            "school-holidays,observances,severe-weather"
        ),
        "state": "active,predicted,deleted",
        "sort": "id",
        "limit": "50",
    }
    # `next` names api.predicthq.com; the token only ever goes to the configured host.
    assert all(urlsplit(r.url).netloc == "phq.test" for r in s.sent)
    assert all(urlsplit(r.url).path == "/v1/events/" for r in s.sent)
    assert query(s.sent[1])["offset"] == "50"
    assert all(r.headers["Authorization"] == "Bearer phq-token" for r in s.sent)


def test_empty_result_without_count_or_next(stub, exchange):
    phq, _ = client(stub, exchange(FIXTURE, "empty result")["response"])
    assert list(phq.search(44.98, -93.27, 3.2, date(2031, 1, 1), date(2031, 1, 2))) == []


def test_overflow_splits_the_window_and_dedupes_across_halves(stub):
    phq, s = client(
        stub,
        results("A", overflow=True),
        results("A", "B"),
        results("B", "C", next_url="https://api.predicthq.com/v1/events/?offset=2&limit=2"),
        results("D"),
    )
    found = list(phq.search(44.98, -93.27, 0.5, date(2024, 6, 1), date(2024, 6, 4)))
    assert [e["id"] for e in found] == ["A", "B", "C", "D"]
    windows = [(query(r).get("active.gte"), query(r).get("active.lte")) for r in s.sent]
    assert windows == [
        ("2024-06-01", "2024-06-04"),
        ("2024-06-01", "2024-06-02"),
        ("2024-06-03", "2024-06-04"),
        (None, None),  # the `next` page carries only what `next` says
    ]
    assert query(s.sent[0])["within"] == "500m@44.980000,-93.270000"


def test_a_single_day_that_overflows_raises(stub):
    phq, _ = client(stub, results("A", overflow=True))
    with pytest.raises(SourceError, match="overflows for the single day 2024-06-01") as caught:
        list(phq.search(44.98, -93.27, 5, date(2024, 6, 1), date(2024, 6, 1)))
    assert caught.value.code == "OVERFLOW"


def test_401_is_not_retried(stub, exchange):
    phq, s = client(stub, exchange("events/predicthq-errors.fixture.json", "401")["response"])
    with pytest.raises(SourceError, match="HTTP 401: Authorization required"):
        list(phq.search(44.98, -93.27, 5, date(2024, 6, 1), date(2024, 6, 1)))
    assert len(s.sent) == 1
