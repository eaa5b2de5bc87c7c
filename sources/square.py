"""Square Connect v2 client: locations, catalog and orders of one vendor's account (WIRE §1)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sources.http import HttpClient, SourceError
from sources.timeparse import format_rfc3339

MAX_LOCATIONS_PER_SEARCH = 10  # SearchOrders rejects more location_ids
BATCH_RETRIEVE_CHUNK = 1000
SORT_FIELDS = ("CREATED_AT", "UPDATED_AT", "CLOSED_AT")
CLOSED_STATES = frozenset({"COMPLETED", "CANCELED"})
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

    def list_locations(self) -> list[dict]:
        """Every location of the account, active or not (ListLocations is not paginated)."""
        body = self._call("GET", "/v2/locations")
        return list(body.get("locations") or [])

    def list_catalog(self, types: str = "ITEM,ITEM_VARIATION,CATEGORY") -> Iterator[dict]:
        """Catalog objects of the given types, following the cursor; deleted objects are absent."""
        seen: set[str] = set()
        cursor: str | None = None
        while True:
            params = {"types": types} | ({"cursor": cursor} if cursor else {})
            body = self._call("GET", "/v2/catalog/list", params=params)
            for obj in body.get("objects") or []:
                if obj["id"] not in seen:
                    seen.add(obj["id"])
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
            for obj in [*(body.get("objects") or []), *(body.get("related_objects") or [])]:
                found.setdefault(obj["id"], obj)
        return list(found.values())

    def search_orders(
        self,
        location_ids: list[str],
        start_at: datetime,
        end_at: datetime,
        *,
        field: str = "CLOSED_AT",
        states: tuple[str, ...] = ("COMPLETED",),
        limit: int = 500,
    ) -> Iterator[dict]:
        """Orders whose `field` timestamp lies in [start_at, end_at] (Square includes both ends),
        oldest first, each order id once.

        Pages are requested with the identical body plus the previous cursor, until a response
        has no cursor: a short or empty page does not mean the end. An order that moves between
        pages while we read is yielded once, in the version first seen; the next overlapping
        sync picks up later versions.
        """
        if field not in SORT_FIELDS:
            raise ValueError(f"field {field!r} is not one of {SORT_FIELDS}")
        if field == "CLOSED_AT" and not set(states) <= CLOSED_STATES:
            raise ValueError(
                f"states {states} include open ones; Square sorts by CLOSED_AT only for "
                f"{sorted(CLOSED_STATES)}"
            )
        if not 1 <= limit <= 1000:
            raise ValueError(f"limit {limit} is outside Square's 1..1000")
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
        seen: set[str] = set()
        for start in range(0, len(location_ids), MAX_LOCATIONS_PER_SEARCH):
            body = {
                "location_ids": location_ids[start : start + MAX_LOCATIONS_PER_SEARCH],
                "query": query,
                "limit": limit,
                "return_entries": False,
            }
            for order in self._search_pages(body):
                order_id = order.get("id")
                if order_id in seen:
                    continue
                if order_id is not None:
                    seen.add(order_id)
                yield order

    def _search_pages(self, body: dict[str, Any]) -> Iterator[dict]:
        restarts = 0
        cursor: str | None = None
        while True:
            page_body = (body | {"cursor": cursor}) if cursor else body
            try:
                page = self._call("POST", "/v2/orders/search", json=page_body)
            except SourceError as exc:
                stale_cursor = exc.code == "INVALID_CURSOR" and cursor is not None
                if not stale_cursor or restarts == MAX_CURSOR_RESTARTS:
                    raise
                # The caller dedupes by id, so starting over yields only what we had not seen.
                restarts += 1
                cursor = None
                continue
            yield from page.get("orders") or []
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
    ) -> dict[str, Any]:
        body = self._http.request_json(
            method, self._base_url + path, params=params, json=json, headers=self._headers
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
            first = errors[0] if isinstance(errors[0], dict) else {}
            details = "; ".join(
                f"{e.get('code')}: {e.get('detail')}" for e in errors if isinstance(e, dict)
            )
            raise SourceError(
                f"square: {method} {path} returned errors in a successful response: {details}",
                provider="square",
                status=200,
                code=first.get("code"),
                retryable=False,
            )
        return body
