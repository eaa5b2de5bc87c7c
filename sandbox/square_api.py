"""Fake Square Connect v2: ListLocations, SearchOrders, ListCatalog, BatchRetrieveCatalogObjects.

The bearer token picks the vendor (merchant). Rules follow WIRE-FORMATS §1 and the 2025-08-20
spec: at most 10 location ids of the caller's merchant; one date_time_filter field, which the
sort field must match; CLOSED_AT needs a closed-state filter; inclusive time ranges; limit 500 by
default, 1000 at most; opaque cursors valid only with the identical request (and until
`invalidate_cursors()`); no `cursor` on the last page, and — as Square does — a full last page
still carries a cursor that leads to an empty `{}` page. ListCatalog pages are fixed at
`catalog_page_size` (100) and omit deleted objects; BatchRetrieve returns them, `is_deleted: true`,
unless `include_deleted_objects` is explicitly false.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import functools
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

import jsonschema

from sandbox.fake_http import RecordedRequest, Reply
from sandbox.spec import load_spec, validate_response, validate_schema
from sandbox.world import Vendor, World

SQUARE_VERSION = "2025-08-20"
VERSION_FORMAT = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_LOCATIONS = 10
DEFAULT_LIMIT = 500
MAX_LIMIT = 1000
MAX_BATCH_IDS = 1000
SORT_FIELDS = ("CREATED_AT", "UPDATED_AT", "CLOSED_AT")
ORDER_STATES = ("OPEN", "COMPLETED", "CANCELED", "DRAFT")
CLOSED_STATES = frozenset({"COMPLETED", "CANCELED"})
CATALOG_TYPES = frozenset(
    {
        "ITEM",
        "IMAGE",
        "CATEGORY",
        "ITEM_VARIATION",
        "TAX",
        "DISCOUNT",
        "MODIFIER_LIST",
        "MODIFIER",
        "PRICING_RULE",
        "PRODUCT_SET",
        "TIME_PERIOD",
        "MEASUREMENT_UNIT",
        "SUBSCRIPTION_PLAN_VARIATION",
        "ITEM_OPTION",
        "ITEM_OPTION_VAL",
        "CUSTOM_ATTRIBUTE_DEFINITION",
        "QUICK_AMOUNTS_SETTINGS",
        "SUBSCRIPTION_PLAN",
        "AVAILABILITY_PERIOD",
    }
)

# status -> (category, code, detail); details quoted from errors.fixture.json where it has them.
STANDARD_ERRORS = {
    400: ("INVALID_REQUEST_ERROR", "BAD_REQUEST", "Bad request."),
    401: ("AUTHENTICATION_ERROR", "UNAUTHORIZED", "This request could not be authorized."),
    403: (
        "AUTHENTICATION_ERROR",
        "INSUFFICIENT_SCOPES",
        "The merchant has not given your application sufficient permissions to do that.",
    ),
    404: ("INVALID_REQUEST_ERROR", "NOT_FOUND", "Resource not found."),
    405: ("INVALID_REQUEST_ERROR", "METHOD_NOT_ALLOWED", "Method not allowed."),
    408: ("API_ERROR", "REQUEST_TIMEOUT", "The request timed out."),
    409: ("INVALID_REQUEST_ERROR", "CONFLICT", "The request conflicts with the current state."),
    429: ("RATE_LIMIT_ERROR", "RATE_LIMITED", "Rate limited."),
    500: (
        "API_ERROR",
        "INTERNAL_SERVER_ERROR",
        "An internal error has occurred, and the API was unable to service your request.",
    ),
    502: ("API_ERROR", "BAD_GATEWAY", "Bad gateway."),
    503: ("API_ERROR", "SERVICE_UNAVAILABLE", "Service unavailable."),
    504: ("API_ERROR", "GATEWAY_TIMEOUT", "Gateway timeout."),
}


# 401 codes for a token Square no longer accepts; details as Square words them.
TOKEN_ERRORS = {
    "ACCESS_TOKEN_EXPIRED": "The access token has expired.",
    "ACCESS_TOKEN_REVOKED": "The access token has been revoked.",
}


@functools.cache
def _spec_operations() -> frozenset[tuple[str, str]]:
    paths = load_spec("square")["paths"]
    return frozenset((path, method) for path, item in paths.items() for method in item)


def spec_problem(method: str, path: str, reply: Reply) -> str | None:
    """Why this reply does not match the Square spec extract, or None when it does. Operations
    the extract lacks can only answer errors; those must be Square's error envelope."""
    body = reply.body
    if not isinstance(body, dict):
        return f"{method} {path} {reply.status}: body is not a JSON object"
    where = f"{method} {path} {reply.status}"
    orders = body.get("orders")
    if path == "/v2/orders/search" and isinstance(orders, list):
        # Orders are checked one by one, each distinct order once: a test session sends the
        # same simulated orders many times, and a full page takes a second to check.
        for index, order in enumerate(orders):
            problem = _order_problem(order)
            if problem:
                return f"{where}: orders/{index}/{problem}"
        body = body | {"orders": []}
    try:
        if (path, method.lower()) in _spec_operations():
            validate_response("square", method, path, reply.status, body)
        else:
            for error in body.get("errors") or [None]:
                validate_schema("square", "Error", error)
    except jsonschema.ValidationError as exc:
        return f"{where}: {_pointer(exc)}: {exc.message}"
    return None


_CHECKED_ORDERS: dict[bytes, str | None] = {}


def _order_problem(order: Any) -> str | None:
    digest = hashlib.sha1(json.dumps(order, sort_keys=True).encode()).digest()
    if digest not in _CHECKED_ORDERS:
        try:
            validate_schema("square", "Order", order)
            _CHECKED_ORDERS[digest] = None
        except jsonschema.ValidationError as exc:
            _CHECKED_ORDERS[digest] = f"{_pointer(exc)}: {exc.message}"
    return _CHECKED_ORDERS[digest]


def _pointer(error: jsonschema.ValidationError) -> str:
    return "/".join(str(part) for part in error.absolute_path) or "(body)"


class SquareError(Exception):
    """A request Square would reject: carries the status and the one error it reports."""

    def __init__(self, status: int, code: str, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.field = status, code, detail, field

    def reply(self) -> Reply:
        category = STANDARD_ERRORS.get(self.status, STANDARD_ERRORS[500])[0]
        error = {"category": category, "code": self.code, "detail": self.detail}
        if self.field is not None:
            error["field"] = self.field
        return Reply(self.status, {"errors": [error]})


def error_body(status: int) -> Reply:
    """Square's error envelope for a status, as a fault or a crash answers."""
    category, code, detail = STANDARD_ERRORS.get(status, STANDARD_ERRORS[500])
    return Reply(status, {"errors": [{"category": category, "code": code, "detail": detail}]})


def _millis(stamp: str | None) -> int | None:
    if stamp is None:
        return None
    return int(dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000)


def _parse_time(value: Any, field: str) -> int:
    if not isinstance(value, str):
        raise SquareError(400, "INVALID_TIME", "Expected an RFC 3339 timestamp.", field)
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise SquareError(
            400, "INVALID_TIME", f"Invalid RFC 3339 timestamp `{value}`.", field
        ) from None
    if moment.tzinfo is None:
        raise SquareError(400, "INVALID_TIME", f"Timestamp `{value}` has no UTC offset.", field)
    return int(moment.timestamp() * 1000)


class _OrderIndex:
    """A vendor's orders with their timestamps parsed once."""

    def __init__(self, orders: list[dict[str, Any]]) -> None:
        self.source = orders
        self.size = len(orders)
        self.rows = [
            (
                {
                    "created_at": _millis(o.get("created_at")),
                    "updated_at": _millis(o.get("updated_at")),
                    "closed_at": _millis(o.get("closed_at")),
                },
                o,
            )
            for o in orders
        ]


class SquareApp:
    """Request handler for the fake Square API over a simulated world.

    Knobs tests may turn: `catalog_page_size`; `max_page_orders` (SearchOrders pages hold at
    most this many orders, fewer than `limit`, as Square's may); `invalidate_cursors()`;
    `revoke(token, code)`; `validate_replies` (check every reply against the spec extract and
    record the failures in `spec_violations`); `alter_orders` (a function applied to every
    order page's orders before it is sent, to show the validation catches a drift).
    """

    def __init__(self, world: World) -> None:
        self.world = world
        self.catalog_page_size = 100
        self.max_page_orders: int | None = None
        self.cursor_epoch = 0
        self.validate_replies = False
        self.spec_violations: list[str] = []
        self.alter_orders: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None = None
        self._revoked: dict[str, str] = {}
        self._indexes: dict[str, _OrderIndex] = {}
        self._searches: dict[str, tuple[_OrderIndex, str, list[dict[str, Any]]]] = {}

    def invalidate_cursors(self) -> None:
        """Make every cursor handed out so far stale (400 INVALID_CURSOR), as Square's expire."""
        self.cursor_epoch += 1

    def revoke(self, access_token: str, code: str = "ACCESS_TOKEN_REVOKED") -> None:
        """Answer every later request made with this token 401 `code` (ACCESS_TOKEN_REVOKED when
        the seller disconnected the app, ACCESS_TOKEN_EXPIRED when an OAuth token ran out)."""
        if code not in TOKEN_ERRORS:
            raise ValueError(f"code {code!r} is not one of {sorted(TOKEN_ERRORS)}")
        self._revoked[access_token] = code

    def __call__(self, request: RecordedRequest) -> Reply:
        version = request.header("Square-Version") or SQUARE_VERSION
        try:
            if not VERSION_FORMAT.match(version):
                raise SquareError(
                    400,
                    "INVALID_SQUARE_VERSION_FORMAT",
                    f"Square-Version `{version}` is not of the form YYYY-MM-DD.",
                    "Square-Version",
                )
            reply = self._route(request)
        except SquareError as error:
            reply = error.reply()
        reply.headers.setdefault("Square-Version", version)
        if self.validate_replies:
            problem = spec_problem(request.method, request.path, reply)
            if problem:
                self.spec_violations.append(problem)
        return reply

    def _route(self, request: RecordedRequest) -> Reply:
        routes = {
            "/v2/locations": ("GET", self._locations),
            "/v2/orders/search": ("POST", self._search_orders),
            "/v2/catalog/list": ("GET", self._list_catalog),
            "/v2/catalog/batch-retrieve": ("POST", self._batch_retrieve),
        }
        if request.path not in routes:
            raise SquareError(
                404, "NOT_FOUND", f"API endpoint for URL path `{request.path}` not found."
            )
        method, handler = routes[request.path]
        if request.method != method:
            raise SquareError(405, "METHOD_NOT_ALLOWED", f"{request.method} is not allowed here.")
        return handler(self._vendor(request), request)

    def _vendor(self, request: RecordedRequest) -> Vendor:
        auth = request.header("Authorization") or ""
        scheme, _, token = auth.partition(" ")
        if scheme == "Bearer" and token in self._revoked:
            code = self._revoked[token]
            raise SquareError(401, code, TOKEN_ERRORS[code])
        for vendor in self.world.vendors:
            if scheme == "Bearer" and token and token == vendor.access_token:
                return vendor
        raise SquareError(401, "UNAUTHORIZED", "This request could not be authorized.")

    def _cursor(self, vendor: Vendor, request_key: Any, offset: int) -> str:
        digest = self._digest(vendor, request_key)
        return base64.urlsafe_b64encode(f"{digest}:{offset}".encode()).decode().rstrip("=")

    def _digest(self, vendor: Vendor, request_key: Any) -> str:
        material = json.dumps([vendor.merchant_id, self.cursor_epoch, request_key], sort_keys=True)
        return hashlib.sha256(material.encode()).hexdigest()[:24]

    def _offset(self, vendor: Vendor, request_key: Any, cursor: Any) -> int:
        if cursor is None:
            return 0
        stale = SquareError(400, "INVALID_CURSOR", "The pagination cursor is invalid.", "cursor")
        if not isinstance(cursor, str):
            raise stale
        try:
            text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
            digest, offset = text.split(":")
            position = int(offset)
        except ValueError:
            raise stale from None
        if digest != self._digest(vendor, request_key) or position < 0:
            raise stale
        return position

    # ListLocations
    def _locations(self, vendor: Vendor, request: RecordedRequest) -> Reply:
        return Reply(200, {"locations": vendor.locations})

    # SearchOrders
    def _index(self, vendor: Vendor) -> _OrderIndex:
        index = self._indexes.get(vendor.vendor_id)
        if index is None or index.source is not vendor.orders or index.size != len(vendor.orders):
            index = self._indexes[vendor.vendor_id] = _OrderIndex(vendor.orders)
        return index

    def _search_orders(self, vendor: Vendor, request: RecordedRequest) -> Reply:
        body = request.json
        if not isinstance(body, dict):
            raise SquareError(400, "EXPECTED_JSON_BODY", "The request body must be a JSON object.")
        locations = body.get("location_ids")
        if not isinstance(locations, list) or not locations:
            raise SquareError(
                400,
                "MISSING_REQUIRED_PARAMETER",
                "Must provide at least one location_id.",
                "location_ids",
            )
        if len(locations) > MAX_LOCATIONS:
            raise SquareError(
                400,
                "ARRAY_LENGTH_TOO_LONG",
                f"At most {MAX_LOCATIONS} location_ids are allowed, got {len(locations)}.",
                "location_ids",
            )
        own = {location["id"] for location in vendor.locations}
        for location_id in locations:
            if location_id not in own:
                raise SquareError(
                    400,
                    "INVALID_VALUE",
                    f"Location `{location_id}` does not belong to this merchant.",
                    "location_ids",
                )
        query = body.get("query") or {}
        filters = query.get("filter") or {}
        field, start, end = self._time_filter(filters.get("date_time_filter") or {})
        sort = query.get("sort") or {}
        sort_field = sort.get("sort_field", "CREATED_AT")
        sort_order = sort.get("sort_order", "DESC")
        if sort_field not in SORT_FIELDS:
            raise SquareError(
                400,
                "INVALID_ENUM_VALUE",
                f"`{sort_field}` is not a valid sort_field.",
                "query.sort.sort_field",
            )
        if sort_order not in ("ASC", "DESC"):
            raise SquareError(
                400,
                "INVALID_SORT_ORDER",
                f"`{sort_order}` is not a valid sort_order.",
                "query.sort.sort_order",
            )
        if field is not None and sort_field != field.upper():
            raise SquareError(
                400,
                "BAD_REQUEST",
                "sort_field must match the date_time_filter field.",
                "query.sort.sort_field",
            )
        states = self._states(filters.get("state_filter"))
        if sort_field == "CLOSED_AT" and not (states and states <= CLOSED_STATES):
            raise SquareError(
                400,
                "BAD_REQUEST",
                "Sorting or filtering by CLOSED_AT requires a state_filter of COMPLETED and/or "
                "CANCELED.",
                "query.filter.state_filter",
            )
        sources = (filters.get("source_filter") or {}).get("source_names")
        limit = body.get("limit", DEFAULT_LIMIT)
        if not isinstance(limit, int) or isinstance(limit, bool):
            raise SquareError(400, "EXPECTED_INTEGER", "limit must be an integer.", "limit")
        if limit < 1:
            raise SquareError(
                400, "VALUE_TOO_LOW", f"limit must be at least 1, got {limit}.", "limit"
            )
        if limit > MAX_LIMIT:
            raise SquareError(
                400, "VALUE_TOO_HIGH", f"limit must be at most {MAX_LIMIT}, got {limit}.", "limit"
            )
        request_key = {k: v for k, v in body.items() if k != "cursor"}
        offset = self._offset(vendor, request_key, body.get("cursor"))
        ordered = self._matches(
            vendor, locations, states, sources, field, start, end, (sort_field, sort_order)
        )
        size = limit if self.max_page_orders is None else min(limit, self.max_page_orders)
        page = ordered[offset : offset + size]
        if self.alter_orders is not None:
            page = self.alter_orders(copy.deepcopy(page))

        out: dict[str, Any] = {}
        if page and body.get("return_entries"):
            out["order_entries"] = [
                {"order_id": o["id"], "location_id": o["location_id"], "version": o["version"]}
                for o in page
            ]
        elif page:
            out["orders"] = page
        # More to come, or (as Square does) a full last page: a cursor to an empty `{}` page.
        if offset + len(page) < len(ordered) or len(page) == limit:
            out["cursor"] = self._cursor(vendor, request_key, offset + len(page))
        return Reply(200, out)

    def _matches(
        self,
        vendor: Vendor,
        locations: list[str],
        states: set[str] | None,
        sources: list[str] | None,
        field: str | None,
        start: int,
        end: int,
        sort: tuple[str, str],
    ) -> list[dict[str, Any]]:
        """The orders a query selects, in its order. Paging asks the same query again and again,
        so the last answer per vendor is kept until its orders change."""
        index = self._index(vendor)
        key = json.dumps(
            [sorted(locations), sorted(states or []), sources, field, start, end, sort]
        )
        cached = self._searches.get(vendor.vendor_id)
        if cached is not None and cached[0] is index and cached[1] == key:
            return cached[2]
        sort_field, sort_order = sort
        wanted = set(locations)
        by = sort_field.lower()
        matches = []
        for stamps, order in index.rows:
            if order["location_id"] not in wanted:
                continue
            if states and order.get("state") not in states:
                continue
            if sources and (order.get("source") or {}).get("name") not in sources:
                continue
            if field is not None:
                moment = stamps[field]
                if moment is None or moment < start or moment > end:
                    continue
            matches.append((stamps[by], order))
        # Orders without the sorted timestamp go last, whatever the direction.
        dated = [m for m in matches if m[0] is not None]
        dated.sort(key=lambda m: (m[0], m[1]["id"]), reverse=sort_order == "DESC")
        ordered = [order for _, order in dated] + [o for stamp, o in matches if stamp is None]
        self._searches[vendor.vendor_id] = (index, key, ordered)
        return ordered

    def _time_filter(self, time_filter: Any) -> tuple[str | None, int, int]:
        fields = [f for f in ("created_at", "updated_at", "closed_at") if time_filter.get(f)]
        if len(fields) > 1:
            raise SquareError(
                400,
                "BAD_REQUEST",
                "Only one of created_at, updated_at and closed_at may be set.",
                "query.filter.date_time_filter",
            )
        if not fields:
            return None, 0, 0
        field = fields[0]
        window = time_filter[field]
        where = f"query.filter.date_time_filter.{field}"
        start = (
            _parse_time(window["start_at"], f"{where}.start_at")
            if window.get("start_at")
            else -(2**62)
        )
        # A missing end means "when the first page was asked for": after every simulated order.
        end = _parse_time(window["end_at"], f"{where}.end_at") if window.get("end_at") else 2**62
        if start > end:
            raise SquareError(
                400, "INVALID_TIME_RANGE", "start_at must not be after end_at.", where
            )
        return field, start, end

    def _states(self, state_filter: Any) -> set[str] | None:
        if not state_filter:
            return None
        states = state_filter.get("states")
        if not isinstance(states, list) or not states:
            raise SquareError(
                400,
                "MISSING_REQUIRED_PARAMETER",
                "state_filter needs states.",
                "query.filter.state_filter.states",
            )
        for state in states:
            if state not in ORDER_STATES:
                raise SquareError(
                    400,
                    "INVALID_ENUM_VALUE",
                    f"`{state}` is not a valid order state.",
                    "query.filter.state_filter.states",
                )
        return set(states)

    # ListCatalog
    def _catalog_index(
        self, vendor: Vendor
    ) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
        """(live objects in listing order with item variations after their item, every object
        by id including deleted ones)."""
        listing, by_id = [], {}
        for obj in vendor.catalog_objects:
            by_id[obj["id"]] = obj
            if obj.get("is_deleted"):
                continue
            listing.append(obj)
            for variation in (obj.get("item_data") or {}).get("variations") or []:
                by_id[variation["id"]] = variation
                if not variation.get("is_deleted"):
                    listing.append(variation)
        return listing, by_id

    def _list_catalog(self, vendor: Vendor, request: RecordedRequest) -> Reply:
        requested = request.query.get("types")
        if requested:
            types = {t.strip().upper() for t in requested.split(",") if t.strip()}
            unknown = sorted(types - CATALOG_TYPES)
            if unknown:
                raise SquareError(
                    400,
                    "INVALID_ENUM_VALUE",
                    f"`{unknown[0]}` is not a valid CatalogObjectType.",
                    "types",
                )
        else:
            # Without types Square lists the top-level types: variations only inside their items.
            types = CATALOG_TYPES - {"ITEM_VARIATION"}
        request_key = ["catalog", sorted(types)]
        offset = self._offset(vendor, request_key, request.query.get("cursor"))
        listing, _ = self._catalog_index(vendor)
        objects = [obj for obj in listing if obj["type"] in types]
        page = objects[offset : offset + self.catalog_page_size]
        out: dict[str, Any] = {}
        if page:
            out["objects"] = page
        if offset + self.catalog_page_size < len(objects):
            out["cursor"] = self._cursor(vendor, request_key, offset + self.catalog_page_size)
        return Reply(200, out)

    # BatchRetrieveCatalogObjects
    def _batch_retrieve(self, vendor: Vendor, request: RecordedRequest) -> Reply:
        body = request.json
        if not isinstance(body, dict):
            raise SquareError(400, "EXPECTED_JSON_BODY", "The request body must be a JSON object.")
        object_ids = body.get("object_ids")
        if not isinstance(object_ids, list) or not object_ids:
            raise SquareError(
                400,
                "MISSING_REQUIRED_PARAMETER",
                "object_ids must list at least one id.",
                "object_ids",
            )
        if len(object_ids) > MAX_BATCH_IDS:
            raise SquareError(
                400,
                "ARRAY_LENGTH_TOO_LONG",
                f"At most {MAX_BATCH_IDS} object_ids are allowed.",
                "object_ids",
            )
        _, by_id = self._catalog_index(vendor)
        with_deleted = body.get("include_deleted_objects") is not False
        found = []
        for object_id in dict.fromkeys(object_ids):
            obj = by_id.get(object_id)
            if obj is not None and (with_deleted or not obj.get("is_deleted")):
                found.append(obj)
        out: dict[str, Any] = {}
        if found:
            out["objects"] = found
        if body.get("include_related_objects"):
            returned = {obj["id"] for obj in found}
            related = []
            for related_id in dict.fromkeys(r for obj in found for r in _references(obj)):
                obj = by_id.get(related_id)
                if obj is not None and related_id not in returned:
                    related.append(obj)
                    returned.add(related_id)
            if related:
                out["related_objects"] = related
        return Reply(200, out)


def _references(obj: dict[str, Any]) -> list[str]:
    """Ids an object refers to, one level deep (what include_related_objects adds)."""
    refs = []
    item = obj.get("item_data")
    if item:
        refs += [c["id"] for c in item.get("categories") or []]
        if item.get("reporting_category"):
            refs.append(item["reporting_category"]["id"])
        for variation in item.get("variations") or []:
            unit = variation["item_variation_data"].get("measurement_unit_id")
            if unit:
                refs.append(unit)
    variation_data = obj.get("item_variation_data")
    if variation_data:
        refs.append(variation_data["item_id"])
        if variation_data.get("measurement_unit_id"):
            refs.append(variation_data["measurement_unit_id"])
    return refs
