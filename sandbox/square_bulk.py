"""Any number of Square orders for one vendor, made on demand in constant memory: the load for
the ingestion benchmark.

`BulkOrders.order(i)` is the i-th order of a long history, copied from a template order of the
simulated world (its lines, quantities, units and money) with its own id, line uids and
timestamps; orders are `SPACING` apart, so the i-th closes and updates at `start + i × SPACING`.
`BulkSquareApp` serves them through SearchOrders as the real fake does (identical body with each
cursor, UPDATED_AT or CLOSED_AT windows, pages of at most `limit`), computing each page instead
of holding the history: a million orders would not fit in the fake's memory as dicts.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import orjson

from sandbox.fake_http import RecordedRequest, Reply
from sandbox.square_api import SquareError, error_body
from sandbox.world import Vendor

SPACING = dt.timedelta(seconds=7)
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

__all__ = ["BulkOrders", "BulkSquareApp", "error_body"]


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        digits.append(BASE62[digit])
    return "".join(reversed(digits))


def _stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class BulkOrders:
    """`count` orders of `vendor`'s first location, made from the vendor's completed orders."""

    vendor: Vendor
    count: int
    start: dt.datetime

    def __post_init__(self) -> None:
        self.location_id = self.vendor.locations[0]["id"]
        # Templates are pre-serialised with placeholders, so an order costs a few string
        # replacements and one parse instead of a deep copy.
        templates = [o for o in self.vendor.orders if o["state"] == "COMPLETED"]
        self._templates = []
        for order in templates:
            order = json.loads(json.dumps(order))
            order.update(
                id="@ID@",
                location_id=self.location_id,
                created_at="@CREATED@",
                updated_at="@AT@",
                closed_at="@AT@",
            )
            order.pop("metadata", None)
            for k, line in enumerate(order["line_items"]):
                line["uid"] = f"@ID@-{k}"
            for tender in order.get("tenders") or []:
                tender.update(
                    location_id=self.location_id, transaction_id="@ID@", created_at="@AT@"
                )
            self._templates.append(orjson.dumps(order).decode())

    def line_count(self, index: int) -> int:
        return self._templates[index % len(self._templates)].count('"uid":"@ID@-')

    def moment(self, index: int) -> dt.datetime:
        return self.start + index * SPACING

    def order_json(self, index: int) -> str:
        at = self.moment(index)
        return (
            self._templates[index % len(self._templates)]
            .replace("@ID@", "B" + _base62(index, 28))
            .replace("@CREATED@", _stamp(at - dt.timedelta(seconds=40)))
            .replace("@AT@", _stamp(at))
        )

    def order(self, index: int) -> dict[str, Any]:
        return orjson.loads(self.order_json(index))

    def orders_for_lines(self, lines: int) -> int:
        """How many orders, from the first, hold at least `lines` line items."""
        total = index = 0
        while total < lines:
            total += self.line_count(index)
            index += 1
        return index


class BulkSquareApp:
    """SearchOrders and ListLocations over `BulkOrders`, for the benchmark's fake server.

    `prerender(limit)` makes every page of a whole-history search ahead of time, so that
    serving it costs the benchmark's two cores no JSON work: in production Square's servers
    do that, not ours.
    """

    def __init__(self, orders: BulkOrders) -> None:
        self.orders = orders
        self._pages: dict[tuple[int, int], str] = {}

    def prerender(self, limit: int) -> None:
        for begin in range(0, self.orders.count, limit):
            stop = min(self.orders.count, begin + limit)
            self._pages[begin, stop] = self._render(begin, stop)

    def _render(self, begin: int, stop: int) -> str:
        return ",".join(self.orders.order_json(i) for i in range(begin, stop))

    def __call__(self, request: RecordedRequest) -> Reply:
        try:
            if request.header("Authorization") != f"Bearer {self.orders.vendor.access_token}":
                raise SquareError(401, "UNAUTHORIZED", "This request could not be authorized.")
            if request.path == "/v2/locations":
                return Reply(200, {"locations": [self.orders.vendor.locations[0]]})
            if request.path == "/v2/orders/search" and request.method == "POST":
                return self._search(request.json)
            raise SquareError(
                404, "NOT_FOUND", f"API endpoint for URL path `{request.path}` not found."
            )
        except SquareError as error:
            return error.reply()

    def _search(self, body: dict[str, Any]) -> Reply:
        query = body["query"]
        window = query["filter"]["date_time_filter"]
        (field,) = window
        start = dt.datetime.fromisoformat(window[field]["start_at"].replace("Z", "+00:00"))
        end = dt.datetime.fromisoformat(window[field]["end_at"].replace("Z", "+00:00"))
        first = max(0, -(-(start - self.orders.start) // SPACING))
        last = min(self.orders.count - 1, (end - self.orders.start) // SPACING)
        key = json.dumps({k: v for k, v in body.items() if k != "cursor"}, sort_keys=True)
        digest = hashlib.sha256(key.encode()).hexdigest()[:24]
        offset = 0
        if body.get("cursor"):
            cursor_digest, _, position = (
                base64.urlsafe_b64decode(body["cursor"].encode()).decode().partition(":")
            )
            if cursor_digest != digest:
                raise SquareError(
                    400, "INVALID_CURSOR", "The pagination cursor is invalid.", "cursor"
                )
            offset = int(position)
        begin = first + offset
        stop = min(last + 1, begin + body.get("limit", 500))
        page = self._pages.get((begin, stop)) or self._render(begin, stop)
        text = '{"orders":[' + page + "]"
        if stop <= last:
            cursor = base64.urlsafe_b64encode(f"{digest}:{stop - first}".encode()).decode()
            text += ',"cursor":"' + cursor + '"'
        return Reply(200, (text + "}").encode(), {"Content-Type": "application/json"})
