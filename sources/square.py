"""Square Connect v2 client: locations, catalog and orders of one vendor's account (WIRE §1)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import orjson

from sources.http import HttpClient, SourceError
from sources.square_parse import decode_orders_page
from sources.timeparse import format_rfc3339

MAX_LOCATIONS_PER_SEARCH = 10  # SearchOrders rejects more location_ids
BATCH_RETRIEVE_CHUNK = 1000
MAX_ORDERS_PER_PAGE = 1000
SORT_FIELDS = ("CREATED_AT", "UPDATED_AT", "CLOSED_AT")
CLOSED_STATES = frozenset({"COMPLETED", "CANCELED"})
# Only closed orders are history: an open order is loaded when it closes, which updates it.
CLOSED_ORDER_STATES = ("COMPLETED", "CANCELED")
# A stale cursor means "start the window again"; more restarts than this means the data is
# changing faster than we can page it, and the next scheduled run is the better retry.
MAX_CURSOR_RESTARTS = 2


class SquareClient:
    """Reads one vendor's Square account. Every page is checked for `errors[]`, even on a 200."""

    def __init__(
        self,
        base_url: str,
        access_token: str,
        square_version: str,
        http: HttpClient | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._headers = {
            "Authorization": f"Bearer {access_token}",
            "Square-Version": square_version,
            "Accept": "application/json",
        }
        self._http = http or HttpClient("square")

    def close(self) -> None:
        self._http.close()

    def list_locations(self) -> list[dict]:
        """Every location of the account, active or not (ListLocations is not paginated)."""
        body = self._call("GET", "/v2/locations")
        return _objects(body, "locations", "GET /v2/locations")

    def list_catalog(self, types: str = "ITEM,ITEM_VARIATION,CATEGORY") -> Iterator[dict]:
        """Catalog objects of the given types, following the cursor; deleted objects are absent."""
        seen: set[str] = set()
        cursor: str | None = None
        while True:
            params = {"types": types} | ({"cursor": cursor} if cursor else {})
            body = self._call("GET", "/v2/catalog/list", params=params)
            for obj in _objects(body, "objects", "GET /v2/catalog/list"):
                object_id = obj.get("id") if isinstance(obj, dict) else None
                if object_id is None or object_id not in seen:
                    # An object without an id is passed on, for the parser to quarantine.
                    if object_id is not None:
                        seen.add(object_id)
                    yield obj
            cursor = body.get("cursor")
            if not cursor:
                return

    def batch_retrieve_catalog(self, object_ids: list[str]) -> list[dict]:
        """The objects with these ids, deleted ones included, plus the objects they reference
        (a variation's ITEM), so order lines of products removed since can still be named."""
        ids = list(dict.fromkeys(object_ids))
        found: dict[str, dict] = {}
        for start in range(0, len(ids), BATCH_RETRIEVE_CHUNK):
            body = self._call(
                "POST",
                "/v2/catalog/batch-retrieve",
                json={
                    "object_ids": ids[start : start + BATCH_RETRIEVE_CHUNK],
                    "include_related_objects": True,
                    "include_deleted_objects": True,
                },
            )
            where = "POST /v2/catalog/batch-retrieve"
            for obj in [
                *_objects(body, "objects", where),
                *_objects(body, "related_objects", where),
            ]:
                found.setdefault(obj.get("id") if isinstance(obj, dict) else id(obj), obj)
        return list(found.values())

    def search_order_pages(
        self,
        location_ids: list[str],
        start_at: datetime,
        end_at: datetime,
        *,
        field: str = "UPDATED_AT",
        states: tuple[str, ...] = CLOSED_ORDER_STATES,
        limit: int = MAX_ORDERS_PER_PAGE,
        decoded: bool = True,
    ) -> Iterator[list[Any]]:
        """Pages of orders whose `field` timestamp lies in [start_at, end_at] (Square includes both
        ends), oldest first, one page in memory at a time.

        Pages are requested with the identical body plus the previous cursor, until a response
        has no cursor: a short or empty page does not mean the end. A stale cursor
        (INVALID_CURSOR) starts the window over from `start_at`, the caller's last committed
        watermark. Pages are not snapshots, so an order can come back on a later page or after a
        restart, possibly in a newer version: the caller upserts by id and version instead of
        this client remembering every id it has seen (which would grow with the history).

        `decoded=False` leaves each order as its JSON text (a `msgspec.Raw`), for
        `square_parse.parse_order`: the ingest then decodes only the fields it reads and stores
        the text exactly as Square sent it.
        """
        if field not in SORT_FIELDS:
            raise ValueError(f"field {field!r} is not one of {SORT_FIELDS}")
        if field == "CLOSED_AT" and not set(states) <= CLOSED_STATES:
            raise ValueError(
                f"states {states} include open ones; Square sorts by CLOSED_AT only for "
                f"{sorted(CLOSED_STATES)}"
            )
        if not 1 <= limit <= MAX_ORDERS_PER_PAGE:
            raise ValueError(f"limit {limit} is outside Square's 1..{MAX_ORDERS_PER_PAGE}")
        query = {
            "filter": {
                "date_time_filter": {
                    field.lower(): {
                        "start_at": format_rfc3339(start_at),
                        "end_at": format_rfc3339(end_at),
                    }
                },
                "state_filter": {"states": list(states)},
            },
            # Square rejects a sort field that differs from the date filter's field.
            "sort": {"sort_field": field, "sort_order": "ASC"},
        }
        for start in range(0, len(location_ids), MAX_LOCATIONS_PER_SEARCH):
            body = {
                "location_ids": location_ids[start : start + MAX_LOCATIONS_PER_SEARCH],
                "query": query,
                "limit": limit,
                "return_entries": False,
            }
            yield from self._search_pages(body, orjson.loads if decoded else decode_orders_page)

    def _search_pages(
        self, body: dict[str, Any], decode: Callable[[bytes], Any]
    ) -> Iterator[list[Any]]:
        restarts = 0
        cursor: str | None = None
        while True:
            page_body = (body | {"cursor": cursor}) if cursor else body
            try:
                page = self._call("POST", "/v2/orders/search", json=page_body, decode=decode)
            except SourceError as exc:
                stale_cursor = exc.code == "INVALID_CURSOR" and cursor is not None
                if not stale_cursor or restarts == MAX_CURSOR_RESTARTS:
                    raise
                restarts += 1
                cursor = None
                continue
            yield _objects(page, "orders", "POST /v2/orders/search")
            cursor = page.get("cursor")
            if not cursor:
                return

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
        decode: Callable[[bytes], Any] = orjson.loads,
    ) -> dict[str, Any]:
        body = self._http.request_json(
            method,
            self._base_url + path,
            params=params,
            json=json,
            headers=self._headers,
            decode=decode,
        )
        if not isinstance(body, dict):
            raise SourceError(
                f"square: {method} {path} returned a JSON {type(body).__name__}, not an object",
                provider="square",
                retryable=False,
            )
        errors = body.get("errors")
        if errors:
            # Square may report failure inside a 200; the data in such a body is incomplete.
            listed = [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
            first = listed[0] if listed else {}
            details = "; ".join(f"{e.get('code')}: {e.get('detail')}" for e in listed) or repr(
                errors
            )
            raise SourceError(
                f"square: {method} {path} returned errors in a successful response: {details}",
                provider="square",
                status=200,
                code=first.get("code"),
                retryable=False,
            )
        return body


def _objects(body: dict[str, Any], name: str, where: str) -> list[Any]:
    """A list field of a response (absent means empty). Anything else is a broken response;
    the items themselves are checked by the parsers, which quarantine the bad ones."""
    values = body.get(name) or []
    if not isinstance(values, list):
        raise SourceError(
            f"square: {where} returned `{name}` as a JSON {type(values).__name__}, not a list",
            provider="square",
            retryable=False,
        )
    return values
