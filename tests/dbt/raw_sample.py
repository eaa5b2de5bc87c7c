"""A small raw dataset whose correct feature table can be worked out by hand.

Two markets on different weekdays (Union Square on Saturdays, Grand Army on Wednesdays), a bakery
at both, a farm at Union Square (and at Grand Army only in April), an inactive cidery, about ten
weeks of market days before RUN_DATE. `SALES_PLAN` is the truth the raw orders are generated
from; the tests compare the dbt output against it, never against the raw rows.
"""

import csv
import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from marketprep.holidays import holiday_rows
from sandbox.spec import datasets_dir

RUN_DATE = date(2024, 7, 1)  # a Monday
HORIZON_DAYS = 14

BAKERY = "hearth-bakery"
FARM = "green-acres"
CIDERY = "old-orchard-cidery"  # inactive: history kept, never forecast

UNION = "mkt_union_square"  # Saturdays
GRAND = "mkt_grand_army"  # Wednesdays; configured: Wednesdays and Fridays until 07-11
PIER = "mkt_pier_sundays"  # Sundays in June: a season inferred from a year of sales

SOURDOUGH = "VAR_SOURDOUGH"
CROISSANT = "VAR_CROISSANT"
DANISH = "VAR_DANISH"  # deleted in Square
EGGS = "VAR_EGGS"
HONEY = "VAR_HONEY"  # sold by the pound, variable price
KALE = "VAR_KALE"  # deleted in Square
CIDER = "VAR_CIDER"

SATURDAYS = [date(2024, 4, 20) + timedelta(weeks=k) for k in range(11)]  # .. 2024-06-29
WEDNESDAYS = [date(2024, 4, 24) + timedelta(weeks=k) for k in range(10)]  # .. 2024-06-26
ONE_OFF_SUNDAY = date(2024, 4, 21)  # a sale at Union Square more than 56 days before RUN_DATE
BAKERY_SKIPPED_SATURDAY = date(2024, 5, 18)
CROISSANT_UNSOLD_SATURDAY = date(2024, 6, 1)
DANISH_UNSOLD_SATURDAY = date(2024, 5, 4)
DANISH_LAST_SALE = date(2024, 5, 25)
KALE_LAST_SALE = date(2024, 5, 11)
CROISSANT_FIRST_SALE_AT_GRAND = date(2024, 5, 15)
FARM_LAST_DAY_AT_GRAND = date(2024, 5, 1)
FARM_CUSTOM_AMOUNT_ONLY_SATURDAY = date(2024, 6, 8)
BAKERY_CUSTOM_AMOUNT_SATURDAY = date(2024, 6, 15)
BAKERY_CANCELED_SATURDAY = date(2024, 6, 22)  # a canceled order of 50 sourdough on top
FARM_CANCELED_WEDNESDAY = date(2024, 6, 26)  # the only order of the farm at Grand Army that day
CANCELED_ORDER_IDS = ("canceled-bakery-sourdough", "canceled-farm-eggs")
# Two sourdough of that Saturday's second order came back the Tuesday after (a linked return):
# the raw line says RETURNED_UNITS more than SALES_PLAN, the features must not. A farm customer
# brought eggs back without a receipt (an unlinked return): nothing to net, nothing changes.
RETURNED_SATURDAY = date(2024, 5, 11)
RETURNED_UNITS = Decimal(2)
RETURN_ORDER_IDS = ("return-bakery-sourdough", "return-farm-no-receipt")

# The schedule file configures Grand Army: Wednesdays and Fridays, a season ending 07-11 and a
# closure on 2024-07-03. Union Square keeps its inferred Saturdays. The pier sold on Sundays in
# June 2023 and June 2024: its inferred season (06-02 .. 07-02) is over by the horizon.
GRAND_CLOSED = date(2024, 7, 3)
GRAND_SEASON = ("04-01", "07-11")
PIER_SUNDAYS = [date(2023, 6, 4) + timedelta(weeks=k) for k in range(5)] + [
    date(2024, 6, 2) + timedelta(weeks=k) for k in range(5)
]
EXPECTED_UPCOMING = {
    UNION: [date(2024, 7, 6), date(2024, 7, 13)],
    GRAND: [date(2024, 7, 5), date(2024, 7, 10)],
}

INGESTED_AT = datetime(2024, 7, 1, 5, 0, tzinfo=UTC)

# vendor, location, market, location name, timezone, latitude, longitude
LOCATIONS = [
    (
        BAKERY,
        "LOC_BAKERY_UNION",
        UNION,
        "Hearth Bakery at Union Square",
        "America/New_York",
        40.7359,
        -73.9911,
    ),
    (
        BAKERY,
        "LOC_BAKERY_GRAND",
        GRAND,
        "Hearth Bakery Grand Army",
        "America/New_York",
        40.6722,
        -73.9700,
    ),
    (FARM, "LOC_FARM_UNION", UNION, "Green Acres Union Sq", "America/New_York", 40.7360, -73.9910),
    (
        FARM,
        "LOC_FARM_GRAND",
        GRAND,
        "Green Acres Grand Army",
        "America/New_York",
        40.6723,
        -73.9701,
    ),
    (
        CIDERY,
        "LOC_CIDERY_UNION",
        UNION,
        "Old Orchard Union Square",
        "America/New_York",
        40.7358,
        -73.9912,
    ),
    (CIDERY, "LOC_CIDERY_PIER", PIER, "Old Orchard Pier", "America/New_York", 40.7032, -74.0170),
]
LOCATION_OF = {(vendor, market): location for vendor, location, market, *_ in LOCATIONS}

# vendor, variation, item, item name, variation name, category, price (cents), deleted
CATALOG = [
    (BAKERY, SOURDOUGH, "ITEM_SOURDOUGH", "Sourdough", "Regular", "Bread", 800, False),
    (BAKERY, CROISSANT, "ITEM_PASTRY", "Pastry", "Croissant", "Pastry", 375, False),
    (BAKERY, DANISH, "ITEM_PASTRY", "Pastry", "Danish", "Pastry", 425, True),
    (FARM, EGGS, "ITEM_EGGS", "Eggs", "Dozen", "Eggs", 650, False),
    (FARM, HONEY, "ITEM_HONEY", "Honey", "Regular", "Pantry", None, False),
    (FARM, KALE, "ITEM_KALE", "Kale", "Bunch", "Greens", 300, True),
    (CIDERY, CIDER, "ITEM_CIDER", "Hard Cider", "Regular", "Drinks", 1200, False),
]
EXPECTED_PRODUCT_NAMES = {
    SOURDOUGH: "Sourdough",
    CROISSANT: "Pastry - Croissant",
    DANISH: "Pastry - Danish",
    EGGS: "Eggs",
    HONEY: "Honey",
    KALE: "Kale",
    CIDER: "Hard Cider",
}
DELETED_PRODUCTS = {DANISH, KALE}
HONEY_CENTS_PER_POUND = 1200

# market, event, state, first day, last day, attendance
EVENTS = [
    (UNION, "EV_STREET_FAIR", "active", date(2024, 7, 5), date(2024, 7, 7), 5000),
    (UNION, "EV_CANCELLED_PARADE", "deleted", date(2024, 7, 6), date(2024, 7, 6), 99999),
    (UNION, "EV_BOOK_FAIR", "active", date(2024, 6, 14), date(2024, 6, 16), 1200),
    (UNION, "EV_POPUP_CONCERT", "predicted", date(2024, 6, 15), date(2024, 6, 15), None),
    (GRAND, "vvTMCONCERT", "active", date(2024, 7, 5), date(2024, 7, 5), None),  # Ticketmaster's
]
# Which events source answered, per market and day: PredictHQ for Union Square; for Grand Army
# PredictHQ failed, Ticketmaster answered up to 07-07, then neither (events unknown).
EVENTS_STATUS = [
    (UNION, date(2024, 6, 10), date(2024, 7, 16), "predicthq"),
    (GRAND, date(2024, 6, 20), date(2024, 7, 7), "ticketmaster"),
    (GRAND, date(2024, 7, 8), date(2024, 7, 16), None),
]

WEATHER_FIRST_DAY = date(2024, 4, 15)
ARCHIVE_LAST_DAY = date(2024, 6, 30)
ARCHIVE_NULL_FROM = date(2024, 6, 29)  # the archive lags: its last two days have no values yet
FORECAST_FIRST_DAY = date(2024, 6, 20)
FORECAST_LAST_DAY = date(2024, 7, 16)
# Last summer's archive (both markets), the history climatology averages.
LAST_SUMMER = (date(2023, 6, 20), date(2023, 7, 31))
# Open-Meteo's forecast failed for these days: Grand Army fell back to NWS (temperatures only),
# Union Square to climatology.
NWS_DAY = (GRAND, date(2024, 7, 10))
CLIMATOLOGY_DAY = (UNION, date(2024, 7, 13))
NWS_TEMPS = (25.0, 15.0)
# Real data through the climatology path: four years of NOAA Seattle weather (shared/datasets)
# as the archive of a market with no sales, whose planning days no provider covers.
SEATTLE = "mkt_seattle_noaa"


def seattle_weather() -> list[dict]:
    """seattle-weather.csv as daily values (2012-01-01 .. 2015-12-31; dates written YYYY/MM/DD)."""
    with (datasets_dir() / "seattle-weather.csv").open(newline="") as handle:
        return [
            {
                "day": datetime.strptime(row["date"], "%Y/%m/%d").date(),
                "temp_max_c": float(row["temp_max"]),
                "temp_min_c": float(row["temp_min"]),
                "precip_mm": float(row["precipitation"]),
            }
            for row in csv.DictReader(handle)
        ]


def archive_temp(day: date) -> float:
    return 20.0 + day.day % 7


def forecast_temp(day: date) -> float:
    return 30.5 + day.day % 5


def _sales_plan() -> dict[tuple[str, str, str, date], Decimal]:
    """Units sold per vendor × market × product × day, only where something sold."""
    plan: dict[tuple[str, str, str, date], Decimal] = {}
    for k, day in enumerate(SATURDAYS):
        if day != BAKERY_SKIPPED_SATURDAY:
            plan[BAKERY, UNION, SOURDOUGH, day] = Decimal(20 + k % 4)
            if day != CROISSANT_UNSOLD_SATURDAY:
                plan[BAKERY, UNION, CROISSANT, day] = Decimal(12 + k % 3)
            if day <= DANISH_LAST_SALE and day != DANISH_UNSOLD_SATURDAY:
                plan[BAKERY, UNION, DANISH, day] = Decimal(5)
        if day != FARM_CUSTOM_AMOUNT_ONLY_SATURDAY:
            plan[FARM, UNION, EGGS, day] = Decimal(30 - k)
            plan[FARM, UNION, HONEY, day] = Decimal("1.5") + Decimal("0.25") * k
            if day <= KALE_LAST_SALE:
                plan[FARM, UNION, KALE, day] = Decimal(8)
        if day >= date(2024, 6, 15):
            plan[CIDERY, UNION, CIDER, day] = Decimal(4)
    for k, day in enumerate(WEDNESDAYS):
        plan[BAKERY, GRAND, SOURDOUGH, day] = Decimal(10 + k % 2)
        if day >= CROISSANT_FIRST_SALE_AT_GRAND:
            plan[BAKERY, GRAND, CROISSANT, day] = Decimal(6)
        if day <= FARM_LAST_DAY_AT_GRAND:
            plan[FARM, GRAND, EGGS, day] = Decimal(15)
    plan[BAKERY, UNION, SOURDOUGH, ONE_OFF_SUNDAY] = Decimal(7)
    for day in PIER_SUNDAYS:
        plan[CIDERY, PIER, CIDER, day] = Decimal(6)
    return plan


SALES_PLAN = _sales_plan()
# Vendor feedback on Union Square sourdough: (day, units brought, reported sold out). 4 May sold
# all 22 brought (inferred sold out), 11 May sold 23 of 30, 27 April was reported sold out.
FEEDBACK = [
    (SATURDAYS[2], 22.0, None),
    (SATURDAYS[3], 30.0, False),
    (SATURDAYS[1], None, True),
]
ATTENDED_DAYS = {(vendor, market, day) for vendor, market, _, day in SALES_PLAN} | {
    (FARM, UNION, FARM_CUSTOM_AMOUNT_ONLY_SATURDAY)
}


def split_over_orders(units: Decimal) -> list[Decimal]:
    """Units spread over the day's two orders: one unit in the first, the rest in the second."""
    return [units] if units <= 1 else [Decimal(1), units - 1]


def _closed_at(day: date, order_index: int) -> datetime:
    return datetime.combine(day, time(14, 5), UTC) + timedelta(minutes=85 * order_index)


def expected_last_sale_at(units: Decimal, day: date) -> datetime:
    return _closed_at(day, len(split_over_orders(units)) - 1)


def _price(variation: str) -> int | None:
    return next(price for _, var, *_, price, _ in CATALOG if var == variation)


def _line(order: dict, uid: str, variation: str | None, quantity: Decimal) -> dict:
    price = _price(variation) if variation else 500
    is_honey = variation == HONEY
    unit_cents = HONEY_CENTS_PER_POUND if is_honey else price
    return {
        "vendor_id": order["vendor_id"],
        "order_id": order["order_id"],
        "line_uid": uid,
        "location_id": order["location_id"],
        "state": order["state"],
        "closed_at": order["closed_at"],
        "market_date": order["market_date"],
        "catalog_object_id": variation,
        "item_type": "ITEM" if variation else "CUSTOM_AMOUNT",
        "line_name": variation or "Custom amount",
        "quantity": quantity,
        "quantity_unit": "IMPERIAL_POUND" if is_honey else None,
        "base_price_amount": unit_cents,
        "gross_sales_amount": int(unit_cents * quantity),
        "currency": "USD",
        "ingested_at": INGESTED_AT,
    }


def _order(vendor: str, market: str, day: date, order_id: str, state: str, index: int) -> dict:
    created_at = _closed_at(day, index) - timedelta(minutes=2)
    return {
        "vendor_id": vendor,
        "order_id": order_id,
        "order_version": 1,
        "location_id": LOCATION_OF[vendor, market],
        "state": state,
        "created_at": created_at,
        "updated_at": created_at + timedelta(minutes=2),
        "closed_at": _closed_at(day, index) if state == "COMPLETED" else None,
        "market_date": day,
        "total_amount": None,
        "currency": "USD",
        "raw_payload": json.dumps({"id": order_id, "state": state}),
        "ingested_at": INGESTED_AT,
    }


def _orders_and_lines() -> tuple[list[dict], list[dict]]:
    orders: dict[str, dict] = {}
    lines: list[dict] = []

    def add_line(order: dict, variation: str | None, quantity: Decimal) -> None:
        orders.setdefault(order["order_id"], order)
        uid = f"L{sum(line['order_id'] == order['order_id'] for line in lines) + 1}"
        lines.append(_line(order, uid, variation, quantity))

    for (vendor, market, variation, day), units in sorted(SALES_PLAN.items()):
        for index, quantity in enumerate(split_over_orders(units)):
            order_id = f"{vendor}-{market}-{day:%Y%m%d}-{index}"
            add_line(_order(vendor, market, day, order_id, "COMPLETED", index), variation, quantity)

    bakery_order = f"{BAKERY}-{UNION}-{BAKERY_CUSTOM_AMOUNT_SATURDAY:%Y%m%d}-0"
    add_line(orders[bakery_order], None, Decimal(1))
    farm_order = f"{FARM}-{UNION}-{FARM_CUSTOM_AMOUNT_ONLY_SATURDAY:%Y%m%d}-0"
    add_line(
        _order(FARM, UNION, FARM_CUSTOM_AMOUNT_ONLY_SATURDAY, farm_order, "COMPLETED", 0),
        None,
        Decimal(1),
    )
    canceled = [
        (BAKERY, UNION, BAKERY_CANCELED_SATURDAY, SOURDOUGH, Decimal(50)),
        (FARM, GRAND, FARM_CANCELED_WEDNESDAY, EGGS, Decimal(15)),
    ]
    for order_id, (vendor, market, day, variation, quantity) in zip(
        CANCELED_ORDER_IDS, canceled, strict=True
    ):
        add_line(_order(vendor, market, day, order_id, "CANCELED", 2), variation, quantity)

    returned = f"{BAKERY}-{UNION}-{RETURNED_SATURDAY:%Y%m%d}-1"
    for line in lines:
        if line["order_id"] == returned and line["catalog_object_id"] == SOURDOUGH:
            line["quantity"] += RETURNED_UNITS
            line["gross_sales_amount"] += int(RETURNED_UNITS) * _price(SOURDOUGH)
    tuesday = RETURNED_SATURDAY + timedelta(days=3)
    for order_id, (vendor, day) in zip(
        RETURN_ORDER_IDS, [(BAKERY, tuesday), (FARM, tuesday)], strict=True
    ):
        orders[order_id] = _order(vendor, UNION, day, order_id, "COMPLETED", 0)

    for order in orders.values():
        order["total_amount"] = sum(
            line["gross_sales_amount"] for line in lines if line["order_id"] == order["order_id"]
        )
    return list(orders.values()), lines


def _returns(orders: list[dict], lines: list[dict]) -> list[dict]:
    """raw.square_order_returns: the linked sourdough return and the unlinked egg return."""
    by_id = {order["order_id"]: order for order in orders}
    sold = next(
        line
        for line in lines
        if line["order_id"] == f"{BAKERY}-{UNION}-{RETURNED_SATURDAY:%Y%m%d}-1"
        and line["catalog_object_id"] == SOURDOUGH
    )
    rows = []
    for order_id, source, variation, quantity in [
        (RETURN_ORDER_IDS[0], sold, SOURDOUGH, RETURNED_UNITS),
        (RETURN_ORDER_IDS[1], None, EGGS, Decimal(3)),
    ]:
        order = by_id[order_id]
        rows.append(
            {
                "vendor_id": order["vendor_id"],
                "order_id": order_id,
                "line_uid": "R1",
                "return_uid": "RET1",
                "source_order_id": source["order_id"] if source else None,
                "source_line_uid": source["line_uid"] if source else None,
                "location_id": order["location_id"],
                "state": "COMPLETED",
                "closed_at": order["closed_at"],
                "market_date": order["market_date"],
                "catalog_object_id": variation,
                "item_type": "ITEM",
                "line_name": variation,
                "quantity": quantity,
                "quantity_unit": None,
                "base_price_amount": _price(variation),
                "gross_return_amount": int(quantity) * _price(variation),
                "currency": "USD",
                "ingested_at": INGESTED_AT,
            }
        )
    return rows


def _weather() -> list[dict]:
    rows = []
    for market in (UNION, GRAND):
        day = WEATHER_FIRST_DAY
        while day <= FORECAST_LAST_DAY:
            if day <= ARCHIVE_LAST_DAY:
                has_values = day < ARCHIVE_NULL_FROM
                rows.append(
                    _weather_row(
                        market, day, "open_meteo_archive", archive_temp(day) if has_values else None
                    )
                )
            if day >= FORECAST_FIRST_DAY and (market, day) not in (NWS_DAY, CLIMATOLOGY_DAY):
                rows.append(_weather_row(market, day, "open_meteo_forecast", forecast_temp(day)))
            day += timedelta(days=1)
        day = LAST_SUMMER[0]
        while day <= LAST_SUMMER[1]:
            rows.append(_weather_row(market, day, "open_meteo_archive", archive_temp(day)))
            day += timedelta(days=1)
    rows += [
        {
            "market_id": SEATTLE,
            "weather_date": r["day"],
            "source": "open_meteo_archive",
            "temp_max_c": r["temp_max_c"],
            "temp_min_c": r["temp_min_c"],
            "precip_mm": r["precip_mm"],
            "fetched_at": INGESTED_AT,
        }
        for r in seattle_weather()
    ]
    high, low = NWS_TEMPS
    rows.append(
        _weather_row(NWS_DAY[0], NWS_DAY[1], "nws_forecast", high)
        | {"temp_min_c": low}
        | {"precip_mm": None}
    )
    return rows


def _events_status() -> list[dict]:
    rows = []
    for market, first, last, source in EVENTS_STATUS:
        day = first
        while day <= last:
            problem = None if source == "predicthq" else "predicthq: GET /v1/events/ failed"
            rows.append(
                {
                    "market_id": market,
                    "event_date": day,
                    "source": source,
                    "problem": problem,
                    "fetched_at": INGESTED_AT,
                }
            )
            day += timedelta(days=1)
    return rows


def _schedule_overrides() -> list[dict]:
    def rule(key: str, kind: str, **values) -> dict:
        empty = dict.fromkeys(("day_of_week", "season_start", "season_end", "closed_on", "note"))
        return {"market_id": GRAND, "rule_key": key, "rule": kind, "loaded_at": INGESTED_AT} | (
            empty | values
        )

    return [
        rule("weekday:3", "weekday", day_of_week=3),
        rule("weekday:5", "weekday", day_of_week=5),
        rule("season", "season", season_start=GRAND_SEASON[0], season_end=GRAND_SEASON[1]),
        rule(f"closed:{GRAND_CLOSED}", "closed", closed_on=GRAND_CLOSED, note="Fourth of July"),
    ]


def _weather_row(market: str, day: date, source: str, temp: float | None) -> dict:
    return {
        "market_id": market,
        "weather_date": day,
        "source": source,
        "temp_max_c": temp,
        "temp_min_c": None if temp is None else temp - 8,
        "precip_mm": None if temp is None else float(day.day % 3),
        "fetched_at": INGESTED_AT,
    }


def raw_tables() -> dict[str, list[dict]]:
    """Rows for every raw table, keyed by its contract name (raw.<table>)."""
    orders, lines = _orders_and_lines()
    return {
        "raw.vendors": [
            {
                "vendor_id": vendor,
                "vendor_name": vendor.replace("-", " ").title(),
                "active": vendor != CIDERY,
                "square_token_encrypted": "gAAAAAB-not-a-real-token",
                "registered_at": datetime(2024, 1, 2, tzinfo=UTC),
            }
            for vendor in (BAKERY, FARM, CIDERY)
        ],
        "raw.square_locations": [
            {
                "vendor_id": vendor,
                "location_id": location,
                "market_id": market,
                "location_name": name,
                "timezone": timezone,
                "latitude": latitude,
                "longitude": longitude,
                "country": "US",
                "status": "ACTIVE",
                "raw_payload": json.dumps({"id": location}),
                "ingested_at": INGESTED_AT,
            }
            for vendor, location, market, name, timezone, latitude, longitude in LOCATIONS
        ],
        "raw.square_catalog": [
            {
                "vendor_id": vendor,
                "variation_id": variation,
                "item_id": item,
                "item_name": item_name,
                "variation_name": variation_name,
                "category_id": f"CAT_{category.upper()}",
                "category_name": category,
                "price_amount": price,
                "currency": "USD",
                "is_deleted": deleted,
                "updated_at": INGESTED_AT,
                "raw_payload": json.dumps({"id": variation}),
                "ingested_at": INGESTED_AT,
            }
            for vendor, variation, item, item_name, variation_name, category, price, deleted in (
                CATALOG
            )
        ],
        "raw.public_holidays": holiday_rows(["US"], 2023, 2024, INGESTED_AT).rows,
        "raw.square_orders": orders,
        "raw.square_order_line_items": lines,
        "raw.square_order_returns": _returns(orders, lines),
        "raw.square_quarantine": [],
        "raw.square_sync_state": [
            {
                "vendor_id": vendor,
                "stream": stream,
                "status": "ok",
                "last_attempt_at": INGESTED_AT,
                "last_success_at": INGESTED_AT,
                "error_code": None,
                "error": None,
                "watermark": INGESTED_AT if stream == "orders" else None,
                "mode": "incremental" if stream == "orders" else None,
                "window_start": None,
                "window_end": None,
                "rows_loaded": 0,
                "quarantined": 0,
                "lines_excluded": 0,
                "exclusions": None,
            }
            for vendor in (BAKERY, FARM, CIDERY)
            for stream in ("locations", "catalog", "orders")
        ],
        "raw.weather_daily": _weather(),
        "raw.events_fetch_status": _events_status(),
        "raw.market_schedule_overrides": _schedule_overrides(),
        "raw.nws_points": [],
        "raw.weather_events_quarantine": [],
        "raw.vendor_feedback": [
            {
                "vendor_id": BAKERY,
                "market_id": UNION,
                "product_id": SOURDOUGH,
                "market_date": day,
                "units_brought": brought,
                "units_sold": None,
                "sold_out": sold_out,
                "source_file": "feedback.csv",
                "imported_at": INGESTED_AT,
            }
            for day, brought, sold_out in FEEDBACK
        ],
        "raw.events": [
            {
                "market_id": market,
                "event_id": event,
                "title": event.removeprefix("EV_").replace("_", " ").title(),
                "category": "community",
                "start_date": start,
                "end_date": end,
                "attendance": attendance,
                "rank": 50,
                "state": state,
                "fetched_at": INGESTED_AT,
            }
            for market, event, state, start, end, attendance in EVENTS
        ],
    }
