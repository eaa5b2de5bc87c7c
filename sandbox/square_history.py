"""Changes to a simulated Square account after the fact, in Square's wire shape: returns,
orders taken offline that reach Square late, and new versions of existing orders.

Each function replaces `vendor.orders` with a new list (kept sorted by closed_at), which is
how the fake server notices that the account changed.
"""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from typing import Any

import numpy as np

from sandbox import ids
from sandbox.ids import IdMaker
from sandbox.merchants import money
from sandbox.world import Vendor

_MAKER = IdMaker(np.random.default_rng([7, 99]))


def stamp(moment: dt.datetime) -> str:
    """Square's timestamp text: UTC with milliseconds."""
    moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _store(vendor: Vendor, orders: list[dict[str, Any]]) -> None:
    vendor.orders = sorted(orders, key=lambda o: (o.get("closed_at") or o["created_at"], o["id"]))


def find_order(vendor: Vendor, order_id: str) -> dict[str, Any]:
    return next(order for order in vendor.orders if order["id"] == order_id)


def add_return(
    vendor: Vendor,
    order_id: str,
    line_uid: str,
    quantity: str,
    at: dt.datetime,
    *,
    linked: bool = True,
) -> dict[str, Any]:
    """A return order taking `quantity` of one sale line back at `at`, refunded in full.

    Square records a return as a new order whose `returns[]` names the sale (`source_order_id`)
    and its line (`source_line_item_uid`); the sale itself is not changed. An unlinked return
    (no receipt) names neither.
    """
    sale = find_order(vendor, order_id)
    line = next(li for li in sale["line_items"] if li["uid"] == line_uid)
    unit_price = line["base_price_money"]["amount"]
    returned = int((Decimal(quantity) * unit_price).to_integral_value())
    tax = 0
    if line["total_tax_money"]["amount"]:
        ratio = Decimal(quantity) / Decimal(line["quantity"])
        tax = int((line["total_tax_money"]["amount"] * ratio).to_integral_value())
    return_line: dict[str, Any] = {
        "uid": _MAKER.one(ids.LINE_UID),
        "name": line.get("name"),
        "variation_name": line.get("variation_name"),
        "quantity": quantity,
        "item_type": line.get("item_type", "ITEM"),
        "base_price_money": dict(line["base_price_money"]),
        "variation_total_price_money": money(returned),
        "gross_return_money": money(returned),
        "total_tax_money": money(tax),
        "total_discount_money": money(0),
        "total_money": money(returned + tax),
    }
    if line.get("catalog_object_id"):
        return_line["catalog_object_id"] = line["catalog_object_id"]
        return_line["catalog_version"] = line["catalog_version"]
    if line.get("quantity_unit"):
        return_line["quantity_unit"] = copy.deepcopy(line["quantity_unit"])
    entry: dict[str, Any] = {"uid": _MAKER.one(ids.LINE_UID), "return_line_items": [return_line]}
    if linked:
        entry["source_order_id"] = order_id
        return_line["source_line_item_uid"] = line_uid
    total = returned + tax
    amounts = {
        "total_money": money(total),
        "tax_money": money(tax),
        "discount_money": money(0),
        "tip_money": money(0),
        "service_charge_money": money(0),
    }
    entry["return_amounts"] = amounts
    when = stamp(at)
    return_order = {
        "id": _MAKER.one(ids.ORDER),
        "location_id": sale["location_id"],
        "source": dict(sale.get("source") or {}),
        "returns": [entry],
        "return_amounts": amounts,
        "net_amounts": {name: money(-value["amount"]) for name, value in amounts.items()},
        "refunds": [
            {
                "id": _MAKER.one(ids.PAYMENT),
                "location_id": sale["location_id"],
                "transaction_id": order_id,
                "created_at": when,
                "reason": "Returned goods",
                "amount_money": money(total),
                "status": "COMPLETED",
            }
        ],
        "created_at": when,
        "updated_at": when,
        "closed_at": when,
        "state": "COMPLETED",
        "version": 1,
        "total_money": money(0),
        "total_tax_money": money(0),
        "total_discount_money": money(0),
        "total_tip_money": money(0),
        "total_service_charge_money": money(0),
        "net_amount_due_money": money(0),
    }
    _store(vendor, [*vendor.orders, return_order])
    return return_order


def add_late_order(
    vendor: Vendor, like_order_id: str, closed_at: dt.datetime, arrived_at: dt.datetime
) -> dict[str, Any]:
    """An order rung up offline, closed at `closed_at`, reaching Square at `arrived_at`: its
    updated_at is its arrival, so only a window reaching back that far finds it."""
    order = copy.deepcopy(find_order(vendor, like_order_id))
    order["id"] = _MAKER.one(ids.ORDER)
    for line in order["line_items"]:
        line["uid"] = _MAKER.one(ids.LINE_UID)
    created = closed_at - dt.timedelta(seconds=40)
    order.update(
        created_at=stamp(created),
        closed_at=stamp(closed_at),
        updated_at=stamp(arrived_at),
        version=2,
    )
    for tender in order.get("tenders") or []:
        tender["transaction_id"] = order["id"]
        tender["created_at"] = stamp(closed_at)
    _store(vendor, [*vendor.orders, order])
    return order


def update_order(vendor: Vendor, order_id: str, at: dt.datetime, **changes: Any) -> dict[str, Any]:
    """A new version of an order, updated at `at`, with `changes` applied to its fields."""
    order = copy.deepcopy(find_order(vendor, order_id)) | changes
    order["version"] = find_order(vendor, order_id)["version"] + 1
    order["updated_at"] = stamp(at)
    _store(vendor, [o for o in vendor.orders if o["id"] != order_id] + [order])
    return order
