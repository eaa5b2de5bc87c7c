"""SquareClient request shapes and paging, against scripted responses."""

from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from sources.http import SourceError
from sources.square import SquareClient
from sources.square_parse import catalog_rows

BASE = "https://square.test"
START = datetime(2019, 8, 1, tzinfo=UTC)
END = datetime(2025, 6, 30, 23, 59, 59, tzinfo=UTC)


def client(stub, *script) -> tuple[SquareClient, object]:
    s = stub(*script, provider="square")
    return SquareClient(BASE, "sq-token", "2025-08-20", http=s.http), s


def page(*order_ids: str, cursor: str | None = None) -> dict:
    body = {"orders": [{"id": i, "location_id": "L1"} for i in order_ids]}
    return {"status": 200, "body": body | ({"cursor": cursor} if cursor else {})}


def ids(pages) -> list[list[str]]:
    return [[order["id"] for order in orders] for orders in pages]


def test_search_orders_resends_the_identical_body_with_the_cursor(stub, exchange):
    fixture = "square/search-orders.fixture.json"
    first = exchange(fixture, "orders-mode page 1")
    second = exchange(fixture, "orders-mode page 2")
    square, s = client(stub, first["response"], second["response"])

    found = square.search_order_pages(
        ["P3CCK6HSNDAS7", "057P5VYJ4A5X1"],
        START,
        END,
        field="CLOSED_AT",
        states=("COMPLETED",),
        limit=2,
    )

    assert ids(found) == [
        ["lgwOlEityYPJtcuvKTVKT1pA986YY", "SYNTH-ORDER-0001"],
        ["CAISEM82RcpmcFBM0TfOyiHV3es"],
    ]
    # Our body is the fixture's request body, byte for byte in meaning.
    assert s.sent[0].body == first["request"]["body"]
    assert s.sent[1].body == second["request"]["body"]
    assert s.sent[1].body == s.sent[0].body | {"cursor": "opaque-cursor-from-page-1"}
    assert s.sent[0].headers["Authorization"] == "Bearer sq-token"
    assert s.sent[0].headers["Square-Version"] == "2025-08-20"


def test_short_and_empty_pages_do_not_end_the_search(stub):
    square, s = client(stub, page("A", cursor="c1"), page(cursor="c2"), page("B"))
    assert ids(square.search_order_pages(["L1"], START, END, limit=500)) == [["A"], [], ["B"]]
    assert [r.body.get("cursor") for r in s.sent] == [None, "c1", "c2"]


def test_absent_orders_key_is_an_empty_result(stub, exchange):
    empty = exchange("square/search-orders.fixture.json", "no matches")["response"]
    square, _ = client(stub, empty)
    assert ids(square.search_order_pages(["L1"], START, END)) == [[]]


def test_more_than_ten_locations_are_searched_in_chunks(stub):
    locations = [f"L{i}" for i in range(12)]
    square, s = client(stub, page("A", "B"), page("B", "C"))
    # The loader upserts by id, so an order met twice is harmless and is not filtered here:
    # remembering every id seen would make memory grow with the history.
    assert ids(square.search_order_pages(locations, START, END)) == [["A", "B"], ["B", "C"]]
    assert [r.body["location_ids"] for r in s.sent] == [locations[:10], locations[10:]]
    assert s.sent[0].body["query"] == s.sent[1].body["query"]


def test_the_default_window_is_updated_at_over_closed_states_at_the_largest_page(stub):
    square, s = client(stub, page())
    list(square.search_order_pages(["L1"], START, END))
    body = s.sent[0].body
    assert body["query"]["filter"]["date_time_filter"] == {
        "updated_at": {"start_at": "2019-08-01T00:00:00Z", "end_at": "2025-06-30T23:59:59Z"}
    }
    assert body["query"]["sort"] == {"sort_field": "UPDATED_AT", "sort_order": "ASC"}
    assert body["query"]["filter"]["state_filter"] == {"states": ["COMPLETED", "CANCELED"]}
    assert (body["limit"], body["return_entries"]) == (1000, False)


def test_the_date_filter_and_sort_name_the_same_field(stub):
    square, s = client(stub, page())
    chicago = timezone(timedelta(hours=-5))
    list(
        square.search_order_pages(
            ["L1"],
            datetime(2025, 6, 1, tzinfo=chicago),
            datetime(2025, 6, 8, tzinfo=chicago),
            field="UPDATED_AT",
            states=("OPEN", "COMPLETED"),
        )
    )
    query = s.sent[0].body["query"]
    assert query["filter"]["date_time_filter"] == {
        "updated_at": {"start_at": "2025-06-01T05:00:00Z", "end_at": "2025-06-08T05:00:00Z"}
    }
    assert query["sort"] == {"sort_field": "UPDATED_AT", "sort_order": "ASC"}
    assert query["filter"]["state_filter"] == {"states": ["OPEN", "COMPLETED"]}


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"field": "CLOSED_AT", "states": ("OPEN",)}, "open ones"),
        ({"field": "closed_at"}, "field"),
        ({"limit": 1001}, "1..1000"),
    ],
)
def test_requests_square_would_reject_are_refused_before_sending(stub, kwargs, problem):
    square, s = client(stub)
    with pytest.raises(ValueError, match=problem):
        list(square.search_order_pages(["L1"], START, END, **kwargs))
    assert s.sent == []


def test_a_stale_cursor_restarts_the_window_from_its_start(stub, exchange):
    stale = exchange("square/errors.fixture.json", "400 INVALID_CURSOR")["response"]
    square, s = client(stub, page("A", "B", cursor="c1"), stale, page("A", "B", "C"))
    # The window starts at the caller's committed watermark; A and B come again and the
    # loader's upsert by id makes that harmless.
    assert ids(square.search_order_pages(["L1"], START, END)) == [["A", "B"], ["A", "B", "C"]]
    assert [r.body.get("cursor") for r in s.sent] == [None, "c1", None]
    assert s.sent[2].body == s.sent[0].body


def test_a_cursor_that_keeps_going_stale_gives_up(stub, exchange):
    stale = exchange("square/errors.fixture.json", "400 INVALID_CURSOR")["response"]
    steps = [page("A", cursor="c1"), stale] * 3
    square, _ = client(stub, *steps)
    with pytest.raises(SourceError, match="INVALID_CURSOR"):
        list(square.search_order_pages(["L1"], START, END))


def test_an_invalid_cursor_on_the_first_page_is_not_retried(stub, exchange):
    stale = exchange("square/errors.fixture.json", "400 INVALID_CURSOR")["response"]
    square, s = client(stub, stale)
    with pytest.raises(SourceError, match="HTTP 400 INVALID_CURSOR"):
        list(square.search_order_pages(["L1"], START, END))
    assert len(s.sent) == 1


@pytest.mark.parametrize(
    "errors",
    [
        [{"category": "API_ERROR", "code": "INTERNAL_SERVER_ERROR", "detail": "partial"}],
        {"code": "INTERNAL_SERVER_ERROR"},  # not even a list: still a failure, not a crash
    ],
)
def test_errors_inside_a_200_are_failures(stub, errors):
    body = {"orders": [{"id": "A", "location_id": "L1"}], "errors": errors}
    square, _ = client(stub, {"status": 200, "body": body})
    with pytest.raises(SourceError, match="errors in a successful response") as caught:
        list(square.search_order_pages(["L1"], START, END))
    assert caught.value.status == 200 and caught.value.retryable is False
    if isinstance(errors, list):
        assert caught.value.code == "INTERNAL_SERVER_ERROR"


def test_orders_that_are_not_a_list_fail_the_page(stub):
    square, _ = client(stub, {"status": 200, "body": {"orders": {"id": "A"}}})
    with pytest.raises(SourceError, match="`orders` as a JSON dict, not a list"):
        list(square.search_order_pages(["L1"], START, END))


def test_a_truncated_page_is_fetched_again(stub):
    truncated = {"status": 200, "body_text": '{"orders":[{"id":"A","location_id":"L1"},{"id":'}
    square, s = client(stub, truncated, page("A", "B"))
    assert ids(square.search_order_pages(["L1"], START, END)) == [["A", "B"]]
    assert len(s.sent) == 2 and s.sent[0].body == s.sent[1].body


def test_list_catalog_follows_the_cursor_in_the_query(stub, exchanges):
    pages = [e for e in exchanges("square/catalog.fixture.json") if "ListCatalog" in e["name"]]
    square, s = client(stub, *[p["response"] for p in pages])
    objects = list(square.list_catalog("ITEM,ITEM_VARIATION,CATEGORY,TAX"))
    assert len(objects) == 4
    queries = [parse_qs(urlsplit(r.url).query) for r in s.sent]
    expected = [{k: [v] for k, v in p["request"]["query"].items()} for p in pages]
    assert queries == expected
    assert all(urlsplit(r.url).path == "/v2/catalog/list" for r in s.sent)


def test_batch_retrieve_asks_for_deleted_and_related_objects(stub, exchange):
    pair = exchange("square/catalog.fixture.json", "BatchRetrieveCatalogObjects")
    square, s = client(stub, pair["response"])
    ids = ["W62UWFY35CWMYGVWK6TWJDNI", "AA27W3M2GGTF3H6AVPNB77CK", "W62UWFY35CWMYGVWK6TWJDNI"]
    objects = square.batch_retrieve_catalog(ids)
    assert s.sent[0].body == {
        "object_ids": ids[:2],
        "include_related_objects": True,
        "include_deleted_objects": True,
    }
    # Related objects come back too, so every variation can be named with its category.
    rows = catalog_rows("cafe", objects, START)
    assert {r["category_name"] for r in rows} == {"Beverages"}


def test_a_revoked_token_fails_fast_with_squares_code_and_no_token(stub, exchange):
    expired = exchange("square/errors.fixture.json", "401 ACCESS_TOKEN_EXPIRED")["response"]
    square, s = client(stub, expired)
    with pytest.raises(SourceError) as caught:
        square.list_locations()
    assert (caught.value.status, caught.value.code) == (401, "ACCESS_TOKEN_EXPIRED")
    assert "sq-token" not in str(caught.value)
    assert len(s.sent) == 1


def test_list_locations(stub, exchange):
    square, s = client(stub, exchange("square/list-locations.fixture.json", "list")["response"])
    assert [loc["id"] for loc in square.list_locations()] == ["18YC4JDH91E1H", "3Z4V4WHQK64X9"]
    assert (s.sent[0].method, urlsplit(s.sent[0].url).path) == ("GET", "/v2/locations")
