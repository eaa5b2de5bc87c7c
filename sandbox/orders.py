"""Square orders that realise each market day's sales, in Square's wire shape.

Shoppers arrive through the market hours (busiest late morning), each wanting a few units of
one product (or a weight, for weighed goods). They are served in arrival order until the
product's stock runs out, so a sold-out product simply stops appearing in later orders. Shoppers
arriving close together at the stall are rung up together: an order has 1–3 line items of
different products. A few orders carry a custom-amount line, a few were rung up, cancelled and
rung up again, and a few were touched again days later (new version, later `updated_at`).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from sandbox import ids
from sandbox.ids import IdMaker
from sandbox.merchants import POUND, money
from sandbox.world import Market, Product, Vendor

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
SOURCE_NAME = "Square Point of Sale"
TAX_RATE_BP = 1035  # Seattle sales tax (10.35 %), charged on prepared food only
PURCHASE_UNITS = ([1, 2, 3], [0.72, 0.22, 0.06])
ORDER_LINES = ([1, 2, 3], [0.62, 0.28, 0.10])
TOGETHER_S = 600  # shoppers this close in arrival time may be one order
CUSTOM_SHARE = 0.03
CANCEL_SHARE = 0.012
LATE_UPDATE_SHARE = 0.007
NO_MILLIS_SHARE = 0.1  # Square sometimes sends timestamps without fractional seconds
CARD_SHARE = 0.75
VARIABLE_PRICES = [2000, 2500, 3000, 3500]


def _stamp(ms: int, millis: bool) -> str:
    moment = EPOCH + dt.timedelta(milliseconds=ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{ms % 1000:03d}Z" if millis else "Z")


def _zero() -> dict[str, Any]:
    return money(0)


def _quantity(units: int, weighed: bool) -> str:
    """Square's decimal string: "2" for counts, "1.25" for pounds (held in hundredths)."""
    return f"{units // 100}.{units % 100:02d}" if weighed else str(units)


class _Line:
    """What one line item needs to know about its product."""

    def __init__(self, product: Product, sale_version: int, unit: tuple[str, int] | None) -> None:
        self.product = product
        self.sale_version = sale_version
        self.unit = unit

    def item(self, uid: str, units: int, price: int) -> dict[str, Any]:
        weighed = self.unit is not None
        # Pounds are held in hundredths; Square rounds the line total half up to the cent.
        gross = (price * units + 50) // 100 if weighed else price * units
        tax = (gross * TAX_RATE_BP + 5000) // 10000 if self.product.taxable else 0
        line: dict[str, Any] = {
            "uid": uid,
            "name": self.product.item_name,
            "variation_name": self.product.variation_name,
            "catalog_object_id": self.product.variation_id,
            "catalog_version": self.sale_version,
            "item_type": "ITEM",
            "quantity": _quantity(units, weighed),
        }
        if self.unit is not None:
            line["quantity_unit"] = {
                "measurement_unit": dict(POUND),
                "precision": 2,
                "catalog_object_id": self.unit[0],
                "catalog_version": self.unit[1],
            }
        return line | _linemoney(price, gross, tax)


def _linemoney(price: int, gross: int, tax: int) -> dict[str, Any]:
    return {
        "base_price_money": money(price),
        "variation_total_price_money": money(gross),
        "gross_sales_money": money(gross),
        "total_tax_money": money(tax),
        "total_discount_money": _zero(),
        "total_money": money(gross + tax),
        "total_service_charge_money": _zero(),
    }


def _custom_line(uid: str, amount: int) -> dict[str, Any]:
    line = {"uid": uid, "name": "Custom Amount", "item_type": "CUSTOM_AMOUNT", "quantity": "1"}
    return line | _linemoney(amount, amount, 0)


def _order(
    order_id: str,
    location_id: str,
    lines: list[dict[str, Any]],
    state: str,
    version: int,
    created: str,
    updated: str,
    closed: str,
    tender: dict[str, Any] | None,
) -> dict[str, Any]:
    total = sum(line["total_money"]["amount"] for line in lines)
    tax = sum(line["total_tax_money"]["amount"] for line in lines)
    order: dict[str, Any] = {
        "id": order_id,
        "location_id": location_id,
        "source": {"name": SOURCE_NAME},
        "line_items": lines,
        "net_amounts": {
            "total_money": money(total),
            "tax_money": money(tax),
            "discount_money": _zero(),
            "tip_money": _zero(),
            "service_charge_money": _zero(),
        },
    }
    if tender is not None:
        order["tenders"] = [tender | {"amount_money": money(total)}]
    return order | {
        "created_at": created,
        "updated_at": updated,
        "closed_at": closed,
        "state": state,
        "version": version,
        "total_money": money(total),
        "total_tax_money": money(tax),
        "total_discount_money": _zero(),
        "total_tip_money": _zero(),
        "total_service_charge_money": _zero(),
        # A cancelled order was never paid: the whole total is still "due".
        "net_amount_due_money": money(0 if state == "COMPLETED" else total),
    }


def _shoppers(
    demand: float, stock: float, weighed: bool, duration_s: float, rng: np.random.Generator
) -> list[tuple[float, int]]:
    """(seconds after opening, units) of each shopper who was served, in arrival order.
    Units are hundredths of a pound for weighed products."""
    scale = 100 if weighed else 1
    wanted, cap = round(demand * scale), round(stock * scale)
    if wanted <= 0:
        return []
    if weighed:
        sizes = np.maximum(25, np.round(rng.gamma(3.0, 60.0, wanted // 25 + 1))).astype(int)
    else:
        sizes = rng.choice(PURCHASE_UNITS[0], size=wanted, p=PURCHASE_UNITS[1])
    cumulative = np.cumsum(sizes)
    last = int(np.searchsorted(cumulative, wanted))
    sizes = sizes[: last + 1].copy()
    sizes[-1] -= int(cumulative[last]) - wanted
    arrivals = np.sort(rng.beta(2.0, 2.6, len(sizes)) * duration_s)
    served, filled = [], 0
    for arrival, size in zip(arrivals.tolist(), sizes.tolist(), strict=True):
        if filled >= cap:
            break  # sold out: later shoppers leave empty-handed
        take = min(size, cap - filled)
        filled += take
        served.append((arrival, take))
    return served


def _baskets(purchases: list[tuple[float, int, int]], rng: np.random.Generator) -> list[list[int]]:
    """Group purchases (sorted by arrival) into orders of 1–3 different products."""
    targets = rng.choice(ORDER_LINES[0], size=len(purchases), p=ORDER_LINES[1])
    used = [False] * len(purchases)
    baskets = []
    for i, (arrival, row, _) in enumerate(purchases):
        if used[i]:
            continue
        used[i] = True
        basket, rows = [i], {row}
        j = i + 1
        while len(basket) < targets[i] and j < len(purchases):
            if purchases[j][0] - arrival > TOGETHER_S:
                break
            if not used[j] and purchases[j][1] not in rows:
                used[j] = True
                basket.append(j)
                rows.add(purchases[j][1])
            j += 1
        baskets.append(basket)
    return baskets


def simulate_orders(
    demand: pd.DataFrame,
    vendors: list[Vendor],
    markets: list[Market],
    products: list[Product],
    sale_versions: dict[str, int],
    now: dt.datetime,
    rng: np.random.Generator,
) -> None:
    """Fill each vendor's `orders` (sorted by closed_at) and `demand.sold_out_at`."""
    maker = IdMaker(rng)
    by_market = {m.market_key: m for m in markets}
    units: dict[str, tuple[str, int]] = {}
    for vendor in vendors:
        for obj in vendor.catalog_objects:
            if obj["type"] == "MEASUREMENT_UNIT":
                units[vendor.vendor_id] = (obj["id"], obj["version"])
    lines = {
        p.variation_id: _Line(
            p, sale_versions[p.variation_id], units[p.vendor_id] if p.unit == "lb" else None
        )
        for p in products
    }
    now_ms = int((now - EPOCH).total_seconds() * 1000)
    collected: dict[str, list[tuple[int, str, dict[str, Any]]]] = defaultdict(list)
    sold_out_ms: dict[int, int] = {}

    columns = ["vendor_id", "market_key", "location_id", "date", "variation_id"]
    keys = list(zip(*(demand[c].tolist() for c in columns), strict=True))
    wanted, stock = demand["demand"].tolist(), demand["stock"].tolist()
    group_start = 0
    for pos in range(len(keys) + 1):
        if pos < len(keys) and keys[pos][:4] == keys[group_start][:4]:
            continue
        if pos > group_start:
            vendor_id, market_key, location_id, day, _ = keys[group_start]
            market = by_market[market_key]
            tz = ZoneInfo(market.timezone)
            opens = dt.datetime.combine(day, market.opens, tz)
            duration = (dt.datetime.combine(day, market.closes, tz) - opens).total_seconds()
            purchases = [
                (arrival, row, take)
                for row in range(group_start, pos)
                for arrival, take in _shoppers(
                    wanted[row], stock[row], lines[keys[row][4]].unit is not None, duration, rng
                )
            ]
            purchases.sort()
            open_ms = int((opens - EPOCH).total_seconds() * 1000)
            day_orders = _market_day_orders(
                purchases,
                keys,
                lines,
                location_id,
                open_ms,
                int(duration * 1000),
                now_ms,
                maker,
                rng,
                sold_out_ms,
            )
            collected[vendor_id].extend(day_orders)
        group_start = pos

    for vendor in vendors:
        vendor.orders = [order for _, _, order in sorted(collected[vendor.vendor_id])]
    sold_out = demand["sold_out"].to_numpy()
    moments = [
        EPOCH + dt.timedelta(milliseconds=sold_out_ms[row]) if sold_out[row] else None
        for row in range(len(demand))
    ]
    demand["sold_out_at"] = pd.to_datetime(
        pd.Series(moments, index=demand.index, dtype=object), utc=True
    )


def _market_day_orders(
    purchases: list[tuple[float, int, int]],
    keys: list[tuple],
    lines: dict[str, _Line],
    location_id: str,
    open_ms: int,
    duration_ms: int,
    now_ms: int,
    maker: IdMaker,
    rng: np.random.Generator,
    sold_out_ms: dict[int, int],
) -> list[tuple[int, str, dict[str, Any]]]:
    """(closed_at ms, id, order) for one vendor's market day; records each product's last sale."""
    baskets = _baskets(purchases, rng)
    n = len(baskets)
    checkout = rng.uniform(15, 75, n)
    ringing = rng.uniform(5, 90, n)
    versions = rng.choice([2, 3, 4], size=n, p=[0.3, 0.5, 0.2])
    card = rng.random(n) < CARD_SHARE
    millis = rng.random(n) >= NO_MILLIS_SHARE
    custom = rng.random(n) < CUSTOM_SHARE
    custom_amount = rng.integers(1, 21, n) * 50
    cancelled = rng.random(n) < CANCEL_SHARE
    late = rng.random(n) < LATE_UPDATE_SHARE
    late_ms = rng.uniform(1, 72, n) * 3_600_000
    order_ids = maker.many(ids.ORDER, n + int(cancelled.sum()))
    payment_ids = maker.many(ids.PAYMENT, n)
    n_lines = len(purchases) + int(custom.sum()) + 3 * int(cancelled.sum())
    uids = iter(maker.many(ids.LINE_UID, n_lines))
    extra_ids = iter(order_ids[n:])

    out = []
    for k, basket in enumerate(baskets):
        first_arrival = purchases[basket[0]][0]
        closed = open_ms + int(first_arrival * 1000 + checkout[k] * 1000)
        closed = min(closed, open_ms + duration_ms)
        created = closed - int(ringing[k] * 1000)
        if not millis[k]:
            closed, created = closed - closed % 1000, created - created % 1000
        items = []
        for index in basket:
            _, row, take = purchases[index]
            line = lines[keys[row][4]]
            price = line.product.price_cents
            if price is None:
                price = int(rng.choice(VARIABLE_PRICES))
            items.append(line.item(next(uids), take, price))
            sold_out_ms[row] = max(sold_out_ms.get(row, 0), closed)
        if custom[k] and len(items) < 3:  # an order has at most three lines
            items.append(_custom_line(next(uids), int(custom_amount[k])))
        version, updated = int(versions[k]), closed
        if late[k] and closed + late_ms[k] < now_ms:
            version, updated = version + 1, closed + int(late_ms[k])
            if not millis[k]:
                updated -= updated % 1000
        tender = {
            "id": payment_ids[k],
            "location_id": location_id,
            "transaction_id": order_ids[k],
            # The card was charged a moment before the order closed.
            "created_at": _stamp(closed - 350 if millis[k] else closed, millis[k]),
            "type": "CARD" if card[k] else "CASH",
            "payment_id": payment_ids[k],
        }
        order = _order(
            order_ids[k],
            location_id,
            items,
            "COMPLETED",
            version,
            _stamp(created, millis[k]),
            _stamp(updated, millis[k]),
            _stamp(closed, millis[k]),
            tender,
        )
        if updated != closed:
            order["metadata"] = {"receipt": "emailed"}
        out.append((closed, order_ids[k], order))
        if cancelled[k]:
            # Rung up, voided, then rung up again as the order above.
            voided = created - int(rng.uniform(20, 120) * 1000)
            begun = voided - int(rng.uniform(10, 60) * 1000)
            twin_id = next(extra_ids)
            twin_items = [copy.deepcopy(item) | {"uid": next(uids)} for item in items[:3]]
            twin = _order(
                twin_id,
                location_id,
                twin_items,
                "CANCELED",
                2,
                _stamp(begun, True),
                _stamp(voided, True),
                _stamp(voided, True),
                None,
            )
            out.append((voided, twin_id, twin))
    return out
