"""Square wire objects from the recorded fixtures → raw rows."""

import copy
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import msgspec
import orjson
import pytest

from sources.square_parse import (
    MalformedRecord,
    catalog_rows,
    decode_orders_page,
    location_row,
    order_rows,
)

NOW = datetime(2025, 6, 8, 6, 0, tzinfo=UTC)
LA = {"P3CCK6HSNDAS7": "America/Los_Angeles", "057P5VYJ4A5X1": "America/Los_Angeles"}


@pytest.fixture
def orders(exchange) -> dict[str, dict]:
    """The orders of the fixture's two SearchOrders pages, by id."""
    pages = [
        exchange("square/search-orders.fixture.json", "orders-mode page 1"),
        exchange("square/search-orders.fixture.json", "orders-mode page 2"),
    ]
    return {o["id"]: o for p in pages for o in p["response"]["body"]["orders"]}


@pytest.fixture
def synth(orders) -> dict:
    return copy.deepcopy(orders["SYNTH-ORDER-0001"])


def test_location_with_coordinates_becomes_a_row_at_its_market(exchange, assert_contract):
    locations = exchange("square/list-locations.fixture.json", "list locations")
    midtown = locations["response"]["body"]["locations"][1]
    row = location_row("jet-fuel", midtown, NOW)
    assert_contract("raw.square_locations", [row])
    assert row["market_id"] == "mkt_33.789_-84.384"
    assert (row["location_id"], row["timezone"], row["country"]) == (
        "3Z4V4WHQK64X9",
        "America/New_York",
        "US",
    )
    assert json.loads(row["raw_payload"]) == midtown


def test_location_without_coordinates_is_malformed_and_named(exchange):
    grant_park = exchange("square/list-locations.fixture.json", "list locations")["response"][
        "body"
    ]["locations"][0]
    with pytest.raises(MalformedRecord, match="18YC4JDH91E1H.*no coordinates") as caught:
        location_row("jet-fuel", grant_park, NOW)
    assert caught.value.record_id == "18YC4JDH91E1H"


def test_order_rows_keep_decimal_quantities_units_and_minor_units(synth, assert_contract):
    order, lines, _ = order_rows("vendor-1", synth, LA, NOW)
    assert_contract("raw.square_orders", [order])
    assert_contract("raw.square_order_line_items", lines)
    by_uid = {line["line_uid"]: line for line in lines}

    tomatoes = by_uid["li-tomato-1"]
    assert tomatoes["quantity"] == Decimal("2.25")
    assert str(tomatoes["quantity"]) == "2.25"  # exact, not 2.2499999…
    assert tomatoes["quantity_unit"] == "IMPERIAL_POUND"
    assert (tomatoes["base_price_amount"], tomatoes["gross_sales_amount"]) == (450, 1013)
    assert tomatoes["catalog_object_id"] == "SYNTHVAR-TOMATO-LB"

    eggs = by_uid["li-eggs-1"]
    assert (eggs["quantity"], eggs["quantity_unit"]) == (Decimal("2"), None)

    custom = by_uid["li-custom-1"]
    assert custom["catalog_object_id"] is None
    assert custom["item_type"] == "CUSTOM_AMOUNT"
    assert custom["base_price_amount"] == 300

    assert (order["total_amount"], order["currency"], order["order_version"]) == (2713, "USD", 3)
    assert order["closed_at"] == datetime(2025, 6, 7, 15, 2, 14, 100000, tzinfo=UTC)
    assert order["market_date"] == date(2025, 6, 7)
    assert {line["market_date"] for line in lines} == {date(2025, 6, 7)}


@pytest.mark.parametrize(
    ("zone", "market_date"),
    [
        ("America/Los_Angeles", date(2019, 8, 5)),  # 02:47 UTC is 19:47 the evening before
        ("America/New_York", date(2019, 8, 5)),
        ("Europe/Berlin", date(2019, 8, 6)),
    ],
)
def test_market_date_is_the_local_day_at_the_location(orders, zone, market_date):
    order = orders["lgwOlEityYPJtcuvKTVKT1pA986YY"]  # closed 2019-08-06T02:47:37.140Z
    row, lines, _ = order_rows("vendor-1", order, {"P3CCK6HSNDAS7": zone}, NOW)
    assert row["market_date"] == market_date
    assert all(line["market_date"] == market_date for line in lines)


@pytest.mark.parametrize(
    "closed_at", ["2025-06-08T01:30:00Z", "2025-06-07T20:30:00-05:00", "2025-06-08T01:30:00.000Z"]
)
def test_offsets_and_fractions_bucket_to_the_same_local_day(synth, closed_at):
    synth["closed_at"] = closed_at
    row, _, _ = order_rows("vendor-1", synth, {"P3CCK6HSNDAS7": "America/Chicago"}, NOW)
    assert row["closed_at"] == datetime(2025, 6, 8, 1, 30, tzinfo=UTC)
    assert row["market_date"] == date(2025, 6, 7)


def test_open_order_is_bucketed_by_created_at(synth):
    del synth["closed_at"]
    synth["state"] = "OPEN"
    row, lines, _ = order_rows("vendor-1", synth, LA, NOW)
    assert row["closed_at"] is None and lines[0]["closed_at"] is None
    assert row["market_date"] == date(2025, 6, 7)


def test_lines_without_item_type_are_items(orders):
    _, lines, _ = order_rows("vendor-1", orders["lgwOlEityYPJtcuvKTVKT1pA986YY"], LA, NOW)
    assert [(line["line_name"], line["item_type"]) for line in lines] == [
        ("Item 1", "ITEM"),
        ("Item 2", "ITEM"),
    ]


def test_custom_unit_keeps_its_name(synth):
    synth["line_items"][0]["quantity_unit"] = {
        "measurement_unit": {
            "custom_unit": {"name": "bunch", "abbreviation": "bn"},
            "type": "TYPE_CUSTOM",
        },
        "precision": 1,
    }
    _, lines, _ = order_rows("vendor-1", synth, LA, NOW)
    assert lines[0]["quantity_unit"] == "bunch"


def test_square_example_order_without_version_or_timestamps_is_malformed(orders):
    # Square's own example order lacks version, state and created_at: no row can be trusted.
    with pytest.raises(MalformedRecord, match="CAISEM82RcpmcFBM0TfOyiHV3es") as caught:
        order_rows("vendor-1", orders["CAISEM82RcpmcFBM0TfOyiHV3es"], LA, NOW)
    assert caught.value.record_id == "CAISEM82RcpmcFBM0TfOyiHV3es"


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (lambda o: o["line_items"][0].update(quantity=2.25), "li-tomato-1 has quantity 2.25"),
        (lambda o: o["line_items"][0].update(quantity="two"), "not a decimal"),
        (lambda o: o["line_items"][0].update(quantity="NaN"), "not a finite"),
        (lambda o: o["total_money"].update(amount=27.13), "integer minor units"),
        (lambda o: o.update(closed_at="2025-06-07 15:02"), "unreadable closed_at"),
        (lambda o: o.update(location_id="ELSEWHERE"), "time zone is unknown"),
        (lambda o: o["line_items"][1].pop("uid"), "without uid"),
    ],
)
@pytest.mark.parametrize("sent", ["decoded", "text"])
def test_malformed_orders_name_the_order_and_the_problem(synth, mutate, problem, sent):
    mutate(synth)
    with pytest.raises(MalformedRecord, match=problem) as caught:
        order_rows("vendor-1", _as(sent, synth), LA, NOW)
    assert "SYNTH-ORDER-0001" in str(caught.value)
    assert caught.value.payload == synth


def test_catalog_rows_join_each_variation_to_its_item(exchanges, assert_contract):
    pages = [e for e in exchanges("square/catalog.fixture.json") if "ListCatalog" in e["name"]]
    objects = [o for page in pages for o in page["response"]["body"]["objects"]]
    rows = catalog_rows("tea-shop", objects, NOW)
    assert_contract("raw.square_catalog", rows)
    by_id = {row["variation_id"]: row for row in rows}
    assert set(by_id) == {
        "5GSZPX6EU7MM75S57OONG3V5",
        "XVLBN7DU6JTWHJTG5F265B43",
        "FHYBVIA6NVBCSOVETA62WEA4",
    }
    large = by_id["XVLBN7DU6JTWHJTG5F265B43"]
    assert (large["item_name"], large["variation_name"]) == ("Tea - Black", "Large")
    assert (large["price_amount"], large["currency"]) == (225, "USD")
    assert large["item_id"] == "X5DZ5NWWAQ44CKBLKIFQGOWK"
    # The items' category is not among the listed objects: its id is kept, its name unknown.
    assert (large["category_id"], large["category_name"]) == ("E7CLE5RZZ744BHWVQQEAHI2C", None)
    assert large["updated_at"] == datetime(2017, 10, 26, 15, 27, 31, 626000, tzinfo=UTC)


def test_batch_retrieved_catalog_names_categories_and_keeps_deletions(exchange, assert_contract):
    body = exchange("square/catalog.fixture.json", "BatchRetrieveCatalogObjects")["response"][
        "body"
    ]
    objects = copy.deepcopy(body["objects"] + body["related_objects"])
    objects[1]["item_data"]["variations"][1]["is_deleted"] = True  # Coffee, Large
    rows = {r["variation_id"]: r for r in catalog_rows("cafe", objects, NOW)}
    assert_contract("raw.square_catalog", list(rows.values()))
    assert rows["2TZFAOHWGG7PAK2QEXWYPZSP"]["category_name"] == "Beverages"
    assert rows["PKYIC7HGGKW5CYVSCVDEIMHY"]["is_deleted"] is True
    assert rows["LBTYIHNHU52WOIHWT7SNRIYH"]["is_deleted"] is False


def test_a_top_level_variation_with_a_newer_version_wins(exchange):
    body = exchange("square/catalog.fixture.json", "BatchRetrieveCatalogObjects")["response"][
        "body"
    ]
    tea = copy.deepcopy(body["objects"][0])
    newer = copy.deepcopy(tea["item_data"]["variations"][0])
    newer["version"] += 1
    newer["item_variation_data"]["price_money"]["amount"] = 175
    rows = catalog_rows("cafe", [tea, newer], NOW)
    assert [(r["variation_id"], r["price_amount"]) for r in rows] == [
        ("2TZFAOHWGG7PAK2QEXWYPZSP", 175)
    ]


def test_variable_price_has_no_amount(exchange):
    body = exchange("square/catalog.fixture.json", "BatchRetrieveCatalogObjects")["response"][
        "body"
    ]
    tea = copy.deepcopy(body["objects"][0])
    tea["item_data"]["variations"][0]["item_variation_data"]["pricing_type"] = "VARIABLE_PRICING"
    (row,) = catalog_rows("cafe", [tea], NOW)
    assert (row["price_amount"], row["currency"]) == (None, None)


def test_a_variation_whose_item_is_missing_is_reported_or_raised(exchange):
    body = exchange("square/catalog.fixture.json", "BatchRetrieveCatalogObjects")["response"][
        "body"
    ]
    orphan = copy.deepcopy(body["objects"][0]["item_data"]["variations"][0])
    coffee = body["objects"][1]
    with pytest.raises(MalformedRecord, match="2TZFAOHWGG7PAK2QEXWYPZSP.*W62UWFY35CWMYGVWK6TWJDNI"):
        catalog_rows("cafe", [orphan, coffee], NOW)
    reported: list[MalformedRecord] = []
    rows = catalog_rows("cafe", [orphan, coffee], NOW, on_malformed=reported.append)
    assert [r.record_id for r in reported] == ["2TZFAOHWGG7PAK2QEXWYPZSP"]
    assert len(rows) == 2  # Coffee's two variations still load


def _return_order(synth: dict) -> dict:
    """A return of 1.25 lb of SYNTH-ORDER-0001's tomatoes, shaped as Square's OrderReturn."""
    line = synth["line_items"][0]
    return {
        "id": "SYNTH-RETURN-0001",
        "location_id": synth["location_id"],
        "state": "COMPLETED",
        "version": 1,
        "created_at": "2025-06-10T17:00:00Z",
        "updated_at": "2025-06-10T17:00:00Z",
        "closed_at": "2025-06-10T17:00:00Z",
        "returns": [
            {
                "uid": "ret-1",
                "source_order_id": synth["id"],
                "return_line_items": [
                    {
                        "uid": "rli-1",
                        "source_line_item_uid": line["uid"],
                        "catalog_object_id": line["catalog_object_id"],
                        "name": line["name"],
                        "quantity": "1.25",
                        "quantity_unit": line["quantity_unit"],
                        "item_type": "ITEM",
                        "base_price_money": {"amount": 450, "currency": "USD"},
                        "gross_return_money": {"amount": 563, "currency": "USD"},
                    }
                ],
            },
            {"uid": "ret-2", "return_line_items": [{"uid": "rli-2", "quantity": "1"}]},
        ],
    }


def test_returns_keep_their_link_to_the_sale_line(synth, assert_contract):
    rows = order_rows("vendor-1", _return_order(synth), LA, NOW)
    assert rows.lines == []
    assert_contract("raw.square_order_returns", rows.returns)
    linked, unlinked = rows.returns
    assert (linked["source_order_id"], linked["source_line_uid"]) == (
        "SYNTH-ORDER-0001",
        "li-tomato-1",
    )
    assert (linked["quantity"], linked["quantity_unit"]) == (Decimal("1.25"), "IMPERIAL_POUND")
    assert (linked["gross_return_amount"], linked["market_date"]) == (563, date(2025, 6, 10))
    assert (unlinked["source_order_id"], unlinked["source_line_uid"]) == (None, None)
    assert unlinked["item_type"] == "ITEM"


def test_an_order_without_version_is_version_zero(synth):
    """Square's spec: orders not created through the Orders API carry no version."""
    del synth["version"]
    assert order_rows("vendor-1", synth, LA, NOW).order["order_version"] == 0


@pytest.mark.parametrize(
    ("order", "problem"),
    [
        (["not", "an", "order"], "is a JSON list, not an object"),
        ({"id": 7, "location_id": "P3CCK6HSNDAS7"}, "has no id"),
    ],
)
@pytest.mark.parametrize("sent", ["decoded", "text"])
def test_orders_that_are_not_objects_are_malformed_with_their_payload(order, problem, sent):
    with pytest.raises(MalformedRecord, match=problem) as caught:
        order_rows("vendor-1", _as(sent, order), LA, NOW)
    assert caught.value.payload == order


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (lambda o: o["line_items"][0].update(quantity="-2"), "never negative"),
        (lambda o: o.update(total_money=2713), "expected an object with amount"),
        (lambda o: o.update(line_items={"uid": "x"}), "`line_items` that is not a list"),
        (lambda o: o.update(version="3"), "expected an integer"),
    ],
)
def test_more_malformed_orders_carry_their_payload(synth, mutate, problem):
    mutate(synth)
    with pytest.raises(MalformedRecord, match=problem) as caught:
        order_rows("vendor-1", synth, LA, NOW)
    assert caught.value.payload is synth
    with pytest.raises(MalformedRecord, match=problem) as caught:
        order_rows("vendor-1", _as("text", synth), LA, NOW)
    assert caught.value.payload == synth  # the whole order, not the fields the parser reads


def _as(sent: str, order) -> object:
    """The order as the ingest gets it: decoded, or its JSON text as a SearchOrders page holds
    it (pretty-printed here, as some servers send it)."""
    return order if sent == "decoded" else msgspec.Raw(json.dumps(order, indent=1).encode())


def test_orders_read_from_their_text_give_the_same_rows_and_keep_the_text(orders, synth):
    valid = [o for o in orders.values() if o.get("version") and o.get("location_id") in LA]
    with_returns = _return_order(synth)
    assert len(valid) == 2 and with_returns["returns"]
    for order in [*valid, with_returns]:
        text = json.dumps(order, indent=1)
        from_text = order_rows("vendor-1", msgspec.Raw(text.encode()), LA, NOW)
        decoded = order_rows("vendor-1", order, LA, NOW)
        assert from_text.order.pop("raw_payload") == text
        assert orjson.loads(decoded.order.pop("raw_payload")) == order
        assert from_text == decoded


def test_a_search_orders_page_leaves_its_orders_as_text_and_other_shapes_decoded():
    page = decode_orders_page(b'{"orders": [{"id": "A"}, [1]], "cursor": "c2"}')
    assert [bytes(o) for o in page["orders"]] == [b'{"id": "A"}', b"[1]"]
    assert page["cursor"] == "c2"
    # Not a list of orders, or an error body: decoded whole, for the client's checks to name.
    assert decode_orders_page(b'{"orders": {"id": "A"}}') == {"orders": {"id": "A"}}
    errors = b'{"errors": [{"category": "API_ERROR", "code": "INTERNAL_SERVER_ERROR"}]}'
    assert decode_orders_page(errors)["errors"][0]["code"] == "INTERNAL_SERVER_ERROR"
    with pytest.raises(ValueError):  # truncated: retried by the HTTP client, as orjson's error
        decode_orders_page(b'{"orders": [{"id": "A"}')


def test_two_return_lines_with_one_uid_are_malformed(synth):
    order = _return_order(synth)
    order["returns"][1]["return_line_items"][0]["uid"] = "rli-1"
    with pytest.raises(MalformedRecord, match="two return line items with the same uid"):
        order_rows("vendor-1", order, LA, NOW)


@pytest.mark.parametrize("closed_at", ["2025-13-07T15:02:14Z", "2025-06-31T15:02:14.100Z"])
def test_an_impossible_date_in_squares_shape_is_malformed(synth, closed_at):
    synth["closed_at"] = closed_at
    with pytest.raises(MalformedRecord, match="unreadable closed_at"):
        order_rows("vendor-1", synth, LA, NOW)


def test_catalog_objects_and_locations_that_are_not_objects_are_reported(exchange):
    body = exchange("square/catalog.fixture.json", "BatchRetrieveCatalogObjects")["response"][
        "body"
    ]
    objects = [*copy.deepcopy(body["objects"]), "junk", {"type": "ITEM"}]
    reported: list[MalformedRecord] = []
    rows = catalog_rows("cafe", objects, NOW, on_malformed=reported.append)
    assert [r.payload for r in reported] == ["junk", {"type": "ITEM"}]
    assert len(rows) == 3  # the real variations still load
    with pytest.raises(MalformedRecord, match="is not an object") as caught:
        location_row("cafe", ["not", "a", "location"], NOW)
    assert caught.value.payload == ["not", "a", "location"]
