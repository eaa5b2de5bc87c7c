"""Square wire objects → rows of raw.square_locations, raw.square_catalog, raw.square_orders,
raw.square_order_line_items and raw.square_order_returns (data_contracts/tables). Money stays in
integer minor units and quantities are `Decimal`s, exactly as Square wrote them.

Orders, a million in a history load, become tuples (`parse_order`) that the loader turns into
columns a batch at a time; `order_rows` gives the same as one dict per row.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple, TypedDict
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
import orjson

from sources.markets import market_id_for
from sources.records import MalformedRecord, to_json
from sources.timeparse import parse_rfc3339

__all__ = [
    "LineRecord",
    "MalformedRecord",
    "OrderRecord",
    "OrderRows",
    "ParsedOrder",
    "ReturnRecord",
    "catalog_rows",
    "decode_orders_page",
    "location_row",
    "order_rows",
    "parse_order",
]

# How Square writes every timestamp (UTC, `Z`, milliseconds or none); anything else takes the
# general RFC 3339 reader.
_SQUARE_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z")
# MeasurementUnit holds exactly one of these; generic_unit ("UNIT") means a plain count.
_UNIT_FIELDS = ("weight_unit", "volume_unit", "length_unit", "area_unit", "time_unit")


def location_row(vendor_id: str, location: dict, ingested_at: datetime) -> dict:
    """One raw.square_locations row. A location without coordinates or time zone cannot be placed
    at a market or a market day, so it is malformed."""
    if not isinstance(location, dict):
        raise MalformedRecord("Square location", None, "is not an object", location)
    location_id = location.get("id")

    def bad(problem: str) -> MalformedRecord:
        return MalformedRecord("Square location", location_id, problem, location)

    coordinates = location.get("coordinates") or {}
    latitude, longitude = coordinates.get("latitude"), coordinates.get("longitude")
    if not isinstance(latitude, int | float) or not isinstance(longitude, int | float):
        raise bad(
            "has no coordinates, so it cannot be matched to a market; set its address in Square"
        )
    for name in ("id", "name", "timezone", "country", "status"):
        if not location.get(name):
            raise bad(f"has no {name}")
    _zone(location["timezone"], bad)
    try:
        market_id = market_id_for(float(latitude), float(longitude))
    except ValueError as exc:
        raise bad(str(exc)) from None
    return {
        "vendor_id": vendor_id,
        "location_id": location_id,
        "market_id": market_id,
        "location_name": location["name"],
        "timezone": location["timezone"],
        "latitude": float(latitude),
        "longitude": float(longitude),
        "country": location["country"],
        "status": location["status"],
        "raw_payload": to_json(location),
        "ingested_at": ingested_at,
    }


def catalog_rows(
    vendor_id: str,
    objects: list[dict],
    ingested_at: datetime,
    *,
    on_malformed: Callable[[MalformedRecord], None] | None = None,
) -> list[dict]:
    """One raw.square_catalog row per ITEM_VARIATION, named from its ITEM and CATEGORY.

    Variations may come top-level or nested in `item_data.variations`; the highest `version` of
    each wins. A variation that cannot become a row raises MalformedRecord, or, when
    `on_malformed` is given, is reported there and skipped.
    """
    items: dict[str, dict] = {}
    categories: dict[str, dict] = {}
    variations: dict[str, dict] = {}

    def keep_variation(variation: dict) -> None:
        current = variations.get(variation.get("id"))
        if current is None or (variation.get("version") or 0) > (current.get("version") or 0):
            variations[variation.get("id")] = variation

    for obj in objects:
        if not isinstance(obj, dict) or not obj.get("id"):
            problem = MalformedRecord(
                "Square catalog object", None, "is not an object with an id", obj
            )
            if on_malformed is None:
                raise problem
            on_malformed(problem)
            continue
        kind = obj.get("type")
        if kind == "ITEM":
            items[obj.get("id")] = obj
            for nested in (obj.get("item_data") or {}).get("variations") or []:
                keep_variation(nested)
        elif kind == "CATEGORY":
            categories[obj.get("id")] = obj
        elif kind == "ITEM_VARIATION":
            keep_variation(obj)

    rows = []
    for variation in variations.values():
        try:
            rows.append(_catalog_row(vendor_id, variation, items, categories, ingested_at))
        except MalformedRecord as exc:
            if on_malformed is None:
                raise
            on_malformed(exc)
    return rows


def _catalog_row(
    vendor_id: str,
    variation: dict,
    items: dict[str, dict],
    categories: dict[str, dict],
    ingested_at: datetime,
) -> dict:
    variation_id = variation.get("id")

    def bad(problem: str) -> MalformedRecord:
        return MalformedRecord("Square catalog variation", variation_id, problem, variation)

    data = variation.get("item_variation_data") or {}
    item_id = data.get("item_id")
    item = items.get(item_id)
    if item is None:
        raise bad(f"belongs to item {item_id!r}, which is not among the catalog objects fetched")
    item_data = item.get("item_data") or {}
    if not item_data.get("name"):
        raise bad(f"belongs to item {item_id} that has no name")
    category_id = _category_id(item_data)
    category = categories.get(category_id) if category_id else None
    price = data.get("price_money") if data.get("pricing_type") != "VARIABLE_PRICING" else None
    return {
        "vendor_id": vendor_id,
        "variation_id": variation_id,
        "item_id": item_id,
        "item_name": item_data["name"],
        "variation_name": data.get("name"),
        "category_id": category_id,
        "category_name": ((category or {}).get("category_data") or {}).get("name"),
        "price_amount": _minor_units(price, bad),
        "currency": (price or {}).get("currency"),
        # A deleted item takes its variations with it, even when they are not flagged themselves.
        "is_deleted": bool(variation.get("is_deleted") or item.get("is_deleted")),
        "updated_at": _timestamp(variation.get("updated_at"), "updated_at", bad),
        "raw_payload": to_json(variation),
        "ingested_at": ingested_at,
    }


def _category_id(item_data: dict) -> str | None:
    # reporting_category is the one category Square reports an item under when it has several;
    # category_id is the pre-2023-12 single category, still set on older catalogs.
    for ref in (item_data.get("reporting_category"), *(item_data.get("categories") or [])):
        if isinstance(ref, dict) and ref.get("id"):
            return ref["id"]
    return item_data.get("category_id")


class OrderRecord(NamedTuple):
    """What one order contributes to its raw.square_orders row; the vendor and the load time,
    the row's other columns, are the same for every order of a load."""

    order_id: str
    order_version: int
    location_id: str
    state: str
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    market_date: date
    total_amount: int | None
    currency: str | None
    raw_payload: str


class LineRecord(NamedTuple):
    """One line item's own columns of raw.square_order_line_items; the others (vendor, order,
    location, state, closed_at, market_date, load time) are its order's. Fields typed `Any` keep
    whatever Square sent: the tables' contracts check them when a batch becomes Arrow tables."""

    line_uid: str
    catalog_object_id: Any
    item_type: Any
    line_name: Any
    quantity: Decimal
    quantity_unit: str | None
    base_price_amount: int | None
    gross_sales_amount: int | None
    currency: Any


class ReturnRecord(NamedTuple):
    """One returned line's own columns of raw.square_order_returns, as LineRecord."""

    line_uid: str
    return_uid: Any
    source_order_id: Any
    source_line_uid: Any
    catalog_object_id: Any
    item_type: Any
    line_name: Any
    quantity: Decimal
    quantity_unit: str | None
    base_price_amount: int | None
    gross_return_amount: int | None
    currency: Any


# The columns a line item or a returned line takes from its order.
ORDER_COLUMNS_OF_LINES = (
    "vendor_id",
    "order_id",
    "location_id",
    "state",
    "closed_at",
    "market_date",
    "ingested_at",
)


class ParsedOrder(NamedTuple):
    """One Square order, checked and typed: the order, what it sold and what it took back.

    Plain tuples rather than row dicts, because a history load parses a million of them: the
    loader turns a batch of these into columns at once (see `Batch.of` in the ingest), and
    `rows` gives the same as one row dict per table row.
    """

    order: OrderRecord
    lines: list[LineRecord]
    returns: list[ReturnRecord]

    def rows(self, vendor_id: str, ingested_at: datetime) -> OrderRows:
        order = {"vendor_id": vendor_id, **self.order._asdict(), "ingested_at": ingested_at}
        shared = {name: order[name] for name in ORDER_COLUMNS_OF_LINES}
        return OrderRows(
            order,
            [shared | line._asdict() for line in self.lines],
            [shared | returned._asdict() for returned in self.returns],
        )


class OrderRows(NamedTuple):
    """What one Square order becomes: its raw.square_orders row, the raw.square_order_line_items
    rows of what it sold, and the raw.square_order_returns rows of what it took back."""

    order: dict
    lines: list[dict]
    returns: list[dict]


def order_rows(
    vendor_id: str, order: Any, timezones: dict[str, str], ingested_at: datetime
) -> OrderRows:
    """The rows of one order as dicts keyed by column name: `parse_order`, row by row."""
    return parse_order(order, timezones).rows(vendor_id, ingested_at)


def parse_order(order: Any, timezones: dict[str, str]) -> ParsedOrder:
    """One order, exactly as Square wrote it (returns are netted later, in dbt); raises
    MalformedRecord, with the order as payload, when it cannot become rows.

    `order` is the decoded JSON object, or its undecoded text as a `msgspec.Raw` (what
    `decode_orders_page` gives for each order of a SearchOrders page); the text is then stored
    as the raw payload as it came, and only the fields read here are decoded.

    `timezones` maps location id → IANA zone; market_date is the local day of closed_at (or of
    created_at for orders that never closed) at the order's location. Square leaves `version`
    out of orders not created through the Orders API (its spec says so); they get version 0
    and updated_at decides between two copies of one.
    """
    if isinstance(order, msgspec.Raw):
        return _parse_raw_order(order, timezones)
    return _parse_order(order, timezones, None)


class _Line(TypedDict, total=False):
    uid: Any
    catalog_object_id: Any
    item_type: Any
    name: Any
    quantity: Any
    quantity_unit: Any
    base_price_money: Any
    gross_sales_money: Any
    gross_return_money: Any
    total_money: Any
    source_line_item_uid: Any


class _Return(TypedDict, total=False):
    uid: Any
    source_order_id: Any
    return_line_items: list[_Line]


class _Order(TypedDict, total=False):
    """The fields of an order that `parse_order` reads, typed `Any` where it checks them itself.
    Decoding only these skips the rest (tenders, taxes, discounts, net amounts: half the text)
    without building it; the whole order is kept as text."""

    id: Any
    location_id: Any
    version: Any
    state: Any
    created_at: Any
    updated_at: Any
    closed_at: Any
    total_money: Any
    line_items: list[_Line]
    returns: list[_Return]


class _OrdersPage(TypedDict, total=False):
    orders: list[msgspec.Raw]
    cursor: Any
    errors: Any


_ORDER_FIELDS = msgspec.json.Decoder(_Order)
_ORDERS_PAGE = msgspec.json.Decoder(_OrdersPage)


def decode_orders_page(body: bytes) -> Any:
    """A SearchOrders response with each order left as its undecoded text (`msgspec.Raw`), for
    `parse_order`. A body that is not JSON raises ValueError, as `orjson.loads` does; a body of
    another shape (no list of orders, an error body) is decoded whole, for the caller's checks
    to name what is wrong."""
    try:
        return _ORDERS_PAGE.decode(body)
    except msgspec.ValidationError:
        return orjson.loads(body)


def _parse_raw_order(raw: msgspec.Raw, timezones: dict[str, str]) -> ParsedOrder:
    text = bytes(raw).decode()
    try:
        fields = _ORDER_FIELDS.decode(raw)
    except msgspec.DecodeError:  # not an object, or a list that is not one: the checks say so
        return _parse_order(orjson.loads(text), timezones, text)
    try:
        return _parse_order(fields, timezones, text)
    except MalformedRecord as exc:  # quarantine the whole order, not the fields read
        raise MalformedRecord(exc.kind, exc.record_id, exc.problem, orjson.loads(text)) from None


def _parse_order(order: Any, timezones: dict[str, str], raw_payload: str | None) -> ParsedOrder:
    if not isinstance(order, dict):
        raise MalformedRecord(
            "Square order", None, f"is a JSON {type(order).__name__}, not an object", order
        )
    order_id = order.get("id")

    def bad(problem: str) -> MalformedRecord:
        return MalformedRecord("Square order", order_id, problem, order)

    if not order_id or not isinstance(order_id, str):
        raise bad("has no id")
    location_id = order.get("location_id")
    if not isinstance(location_id, str) or location_id not in timezones:
        raise bad(
            f"is at location {location_id!r}, whose time zone is unknown; load the vendor's "
            "locations, then its quarantined orders load again on the next sync"
        )
    zone = _zone(timezones[location_id], bad)
    version = order.get("version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise bad(f"has version {version!r}, expected an integer")
    state = order.get("state")
    if not state or not isinstance(state, str):
        raise bad("has no state")
    created_at = _timestamp(order.get("created_at"), "created_at", bad)
    updated_at = _timestamp(order.get("updated_at"), "updated_at", bad)
    closed_at = _timestamp(order.get("closed_at"), "closed_at", bad, required=False)
    total = order.get("total_money")
    record = OrderRecord(
        order_id,
        version,
        location_id,
        state,
        created_at,
        updated_at,
        closed_at,
        (closed_at or created_at).astimezone(zone).date(),
        _minor_units(total, bad),
        _currency(total),
        raw_payload if raw_payload is not None else to_json(order),
    )
    lines = [_line(line, bad) for line in _objects(order, "line_items", bad)]
    returns = [
        _returned(line, source, bad)
        for source in _objects(order, "returns", bad)
        for line in _objects(source, "return_line_items", bad)
    ]
    uids = [returned.line_uid for returned in returns]
    if len(set(uids)) != len(uids):
        raise bad("has two return line items with the same uid")
    return ParsedOrder(record, lines, returns)


def _objects(parent: dict, name: str, bad: Callable[[str], MalformedRecord]) -> list[dict]:
    values = parent.get(name)
    if not values:
        return []
    if type(values) is not list or any(type(v) is not dict for v in values):
        raise bad(f"has `{name}` that is not a list of objects")
    return values


def _line(line: dict, bad: Callable[[str], MalformedRecord]) -> LineRecord:
    uid = line.get("uid")
    if not uid:
        raise bad("has a line item without uid")
    return LineRecord(uid, *_item(line, "line", uid, line.get("gross_sales_money"), bad))


def _returned(line: dict, source: dict, bad: Callable[[str], MalformedRecord]) -> ReturnRecord:
    uid = line.get("uid")
    if not uid:
        raise bad("has a return line item without uid")
    return ReturnRecord(
        uid,
        source.get("uid"),
        # Unset for an unlinked return (no receipt): nothing to net it against.
        source.get("source_order_id"),
        line.get("source_line_item_uid"),
        *_item(line, "return line", uid, line.get("gross_return_money"), bad),
    )


def _item(
    line: dict, kind: str, uid: str, gross: Any, bad: Callable[[str], MalformedRecord]
) -> tuple:
    """What a sold line and a returned line share, in the order both records end with: catalog
    id, item type, name, quantity, unit, base and gross money in minor units, currency."""
    base = line.get("base_price_money")
    return (
        line.get("catalog_object_id"),
        # Absent on older orders (the 2019 ones in Square's own examples); ITEM is the default.
        line.get("item_type") or "ITEM",
        line.get("name"),
        _quantity(line.get("quantity"), kind, uid, bad),
        _quantity_unit(line.get("quantity_unit")),
        _minor_units(base, bad),
        _minor_units(gross, bad),
        _currency(base or gross or line.get("total_money")),
    )


def _quantity(quantity: Any, kind: str, uid: str, bad: Callable[[str], MalformedRecord]) -> Decimal:
    # Square sends quantities as decimal strings ("2.25" lb); a JSON number has already been
    # through a float somewhere and may not be the amount that was sold.
    if not isinstance(quantity, str):
        raise bad(f"{kind} {uid} has quantity {quantity!r}, expected a decimal string")
    try:
        parsed = Decimal(quantity)
    except InvalidOperation:
        raise bad(
            f"{kind} {uid} has quantity {quantity!r}, which is not a decimal number"
        ) from None
    if not parsed.is_finite():
        raise bad(f"{kind} {uid} has quantity {quantity!r}, which is not a finite number")
    if parsed < 0:
        raise bad(f"{kind} {uid} has quantity {quantity!r}; Square quantities are never negative")
    return parsed


def _currency(money: Any) -> str | None:
    return money.get("currency") if isinstance(money, dict) else None


def _quantity_unit(quantity_unit: dict | None) -> str | None:
    if not quantity_unit:  # most lines are counted
        return None
    unit = quantity_unit.get("measurement_unit") or {}
    for name in _UNIT_FIELDS:
        if unit.get(name):
            return unit[name]
    custom = unit.get("custom_unit") or {}
    return custom.get("name") or custom.get("abbreviation")


def _minor_units(money: Any, bad: Callable[[str], MalformedRecord]) -> int | None:
    if money is None:
        return None
    if not isinstance(money, dict):
        raise bad(f"has money {money!r}, expected an object with amount and currency")
    if money.get("amount") is None:
        return None
    amount = money["amount"]
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise bad(f"has money amount {amount!r}, expected integer minor units")
    return amount


def _timestamp(
    value: Any, name: str, bad: Callable[[str], MalformedRecord], *, required: bool = True
) -> datetime | None:
    if value is None:
        if required:
            raise bad(f"has no {name}")
        return None
    if isinstance(value, str) and _SQUARE_UTC.fullmatch(value):
        try:  # Square's own shape, read in C: three per order, a million orders
            return datetime.fromisoformat(value)
        except ValueError:
            pass  # a 13th month: the reader below says what is wrong
    try:
        return parse_rfc3339(value)
    except ValueError as exc:
        raise bad(f"has an unreadable {name}: {exc}") from None


def _zone(name: str, bad: Callable[[str], MalformedRecord]) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise bad(f"has time zone {name!r}, which is not an IANA zone name") from None
