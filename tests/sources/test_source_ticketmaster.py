"""TicketmasterClient: request shape, paging, window splitting, quota and key handling, against
the recorded exchanges and against the fake Discovery server; and the geohash encoder."""

import copy
from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from sandbox.servers import start_ticketmaster
from sandbox.simulator import SimConfig, build_world, sandbox_now
from sources import geohash
from sources.http import HttpClient, SourceError
from sources.records import MalformedRecord
from sources.ticketmaster import (
    QuotaExceeded,
    TicketmasterClient,
    event_rows,
    reachable,
)

EVENTS = "events/ticketmaster-events.fixture.json"
ERRORS = "events/ticketmaster-errors.fixture.json"
KEY = "tm-key-0123456789"
FETCHED = datetime(2025, 6, 7, 12, 0, tzinfo=UTC)
MINNEAPOLIS = (44.9778, -93.2650)


def client(stub, *script) -> tuple[TicketmasterClient, object]:
    s = stub(*[_response(step) for step in script], provider="ticketmaster")
    return TicketmasterClient("https://app.ticketmaster.test", KEY, http=s.http), s


def _response(step: dict) -> dict:
    """Fixture responses list Ticketmaster's headers as [name, value] pairs (a name repeats)."""
    if isinstance(step.get("headers"), list):
        return step | {"headers": dict(step["headers"])}
    return step


def query(sent) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(sent.url).query).items()}


def page(ids: list[str], number: int, total: int, size: int = 200) -> dict:
    body = {
        "_links": {"self": {"href": "/discovery/v2/events.json"}},
        "page": {
            "size": size,
            "totalElements": total,
            "totalPages": -(-total // size),
            "number": number,
        },
    }
    if ids:
        body["_embedded"] = {
            "events": [
                {"id": i, "name": i, "dates": {"start": {"localDate": "2025-06-07"}}} for i in ids
            ]
        }
    return {"status": 200, "body": body}


@pytest.fixture
def sample(exchange) -> dict:
    return exchange(EVENTS, "search events")["response"]["body"]["_embedded"]["events"][0]


def test_geohash_matches_the_published_example():
    assert geohash.encode(57.64911, 10.40744, 11) == "u4pruydqqvj"  # Wikipedia's worked example
    assert geohash.encode(-90, -180, 4) == "0000" and geohash.encode(90, 180, 4) == "zzzz"
    with pytest.raises(ValueError, match="latitude 91"):
        geohash.encode(91, 0)


def test_event_rows_from_the_official_sample(sample, assert_contract):
    (row,) = event_rows("m", [sample], FETCHED)
    assert_contract("raw.events", [row])
    assert row == {
        "market_id": "m",
        "event_id": "vvG1VZKS5pr1qy",
        "title": "WGC Cadillac Championship - Sunday Ticket",
        "category": "sports",
        "start_date": date(2016, 3, 6),
        "end_date": date(2016, 3, 6),
        "attendance": None,
        "rank": None,
        "state": "active",  # offsale: still happening
        "fetched_at": FETCHED,
    }


@pytest.mark.parametrize("code", ["canceled", "cancelled", "postponed"])
def test_cancelled_and_postponed_events_become_deleted(sample, code):
    gone = copy.deepcopy(sample)
    gone["dates"]["status"]["code"] = code
    (row,) = event_rows("m", [gone], FETCHED)
    assert row["state"] == "deleted"


def test_a_malformed_event_is_reported_and_skipped(sample):
    bad = copy.deepcopy(sample) | {"id": "broken"}
    del bad["dates"]["start"]["localDate"]
    with pytest.raises(MalformedRecord, match="broken: has no readable dates.start.localDate"):
        event_rows("m", [bad], FETCHED)
    skipped: list[MalformedRecord] = []
    assert [
        r["event_id"] for r in event_rows("m", [bad, sample], FETCHED, on_malformed=skipped.append)
    ] == ["vvG1VZKS5pr1qy"]
    assert [s.record_id for s in skipped] == ["broken"]


def test_the_request_names_a_geohash_a_utc_window_and_stable_paging(stub, exchange):
    empty = exchange(EVENTS, "geo search with no matches")["response"]
    tm, s = client(stub, empty)
    assert (
        list(
            tm.search(
                *MINNEAPOLIS, 5.0, date(2025, 6, 7), date(2025, 6, 8), timezone="America/Chicago"
            )
        )
        == []
    )
    assert query(s.sent[0]) == {
        "apikey": KEY,
        "geoPoint": geohash.encode(*MINNEAPOLIS),
        "radius": "5",
        "unit": "km",
        "locale": "*",
        "sort": "id,asc",
        "size": "200",
        "page": "0",
        # local days in Chicago (UTC-5 in June), exactly YYYY-MM-DDTHH:mm:ssZ
        "startDateTime": "2025-06-07T05:00:00Z",
        "endDateTime": "2025-06-09T04:59:59Z",
    }


def test_pages_are_followed_until_the_last_and_ids_kept_once(stub):
    tm, s = client(
        stub,
        page(["A", "B"], 0, 5, size=2),
        page(["B", "C"], 1, 5, size=2),  # results shifted between calls: B again
        page(["D"], 2, 5, size=2),
    )
    found = [e["id"] for e in tm.search(*MINNEAPOLIS, 5, date(2025, 6, 7), date(2025, 6, 7))]
    assert found == ["A", "B", "C", "D"]
    assert [query(r)["page"] for r in s.sent] == ["0", "1", "2"]
    # Two requests a second at most: the client waited before each later call.
    assert s.sleeps == [0.5, 0.5]


def test_a_window_paging_cannot_reach_is_split_in_two(stub):
    assert reachable(200) == 1000 and reachable(300) == 1200
    tm, s = client(stub, page([], 0, 1500), page(["A"], 0, 1), page(["B"], 0, 1))
    found = [
        e["id"]
        for e in tm.search(*MINNEAPOLIS, 5, date(2025, 6, 1), date(2025, 6, 2), timezone="UTC")
    ]
    assert found == ["A", "B"]
    windows = [(query(r)["startDateTime"], query(r)["endDateTime"]) for r in s.sent]
    assert windows == [
        ("2025-06-01T00:00:00Z", "2025-06-02T23:59:59Z"),
        ("2025-06-01T00:00:00Z", "2025-06-01T23:59:59Z"),
        ("2025-06-02T00:00:00Z", "2025-06-02T23:59:59Z"),
    ]


def test_the_quota_fault_fails_fast_without_the_key(stub, exchange):
    quota = copy.deepcopy(exchange(ERRORS, "429 daily quota")["response"])
    quota["body"]["fault"]["faultstring"] = quota["body"]["fault"]["faultstring"].replace(
        "{apikey}", KEY
    )
    tm, s = client(stub, quota)
    with pytest.raises(QuotaExceeded, match="daily quota of the API key exhausted") as caught:
        list(tm.search(*MINNEAPOLIS, 5, date(2025, 6, 7), date(2025, 6, 7)))
    assert KEY not in str(caught.value) and "<redacted>" in str(caught.value)
    assert (caught.value.code, caught.value.retryable, len(s.sent)) == ("QUOTA", False, 1)


def test_a_bad_key_is_not_retried_and_never_echoed(stub, exchange):
    tm, s = client(stub, exchange(ERRORS, "401 invalid api key")["response"])
    with pytest.raises(
        SourceError, match="HTTP 401 oauth.v2.InvalidApiKey: Invalid ApiKey"
    ) as caught:
        list(tm.search(*MINNEAPOLIS, 5, date(2025, 6, 7), date(2025, 6, 7)))
    assert KEY not in str(caught.value) and len(s.sent) == 1


def test_a_spike_arrest_waits_two_seconds(stub):
    spike = {
        "status": 429,
        "body": {
            "fault": {
                "faultstring": "Spike arrest violation.",
                "detail": {"errorcode": "policies.ratelimit.SpikeArrestViolation"},
            }
        },
    }
    tm, s = client(stub, spike, page(["A"], 0, 1))
    assert [e["id"] for e in tm.search(*MINNEAPOLIS, 5, date(2025, 6, 7), date(2025, 6, 7))] == [
        "A"
    ]
    assert s.sleeps == [2.0]  # the retry inside one call; pacing only between calls


def test_a_body_without_a_page_is_asked_for_again_then_kept(stub):
    tm, s = client(stub, *[{"status": 200, "body": {"_links": {}}}] * 4)
    with pytest.raises(SourceError, match="without a page object") as caught:
        list(tm.search(*MINNEAPOLIS, 5, date(2025, 6, 7), date(2025, 6, 7)))
    assert len(s.sent) == 4 and caught.value.payload == str({"_links": {}})


@pytest.fixture(scope="module")
def world():
    return build_world(SimConfig(end=date(2025, 7, 1), history_days=90, n_vendors=1))


def test_against_the_fake_server_a_deep_window_is_split_and_nothing_is_lost(world):
    market = world.markets[0]
    sleeps: list[float] = []
    with start_ticketmaster(world) as server:
        http = HttpClient(
            "ticketmaster", sleep=sleeps.append, clock=lambda: sandbox_now(world.config)
        )
        window = (market.latitude, market.longitude, 25, date(2025, 4, 2), date(2025, 7, 16))
        everything = list(
            TicketmasterClient(server.url, server.token, http).search(
                *window, timezone=market.timezone
            )
        )
        server.requests.clear()
        server.app.depth_limit = 9  # page × size must stay below 9: three pages of three
        shallow = TicketmasterClient(server.url, server.token, http, page_size=3, depth_limit=9)
        split = list(shallow.search(*window, timezone=market.timezone))
        pages = [r.query.get("page") for r in server.requests]
        assert all(r.query["apikey"] == server.token for r in server.requests)

    assert len(everything) > 9
    assert sorted(e["id"] for e in split) == sorted(e["id"] for e in everything)
    assert max(int(p) for p in pages) <= 2  # never asked past the depth limit (DIS1035)
    windows = {(r.query["startDateTime"], r.query["endDateTime"]) for r in server.requests}
    assert len(windows) > 2
    rows = event_rows("m", everything, FETCHED)
    assert {r["category"] for r in rows} <= {"concerts", "sports", "performing-arts", "community"}
