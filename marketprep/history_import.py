"""`marketprep import-sales`: a vendor's sales history from a CSV file into the raw Square tables.

For history the Square API cannot give (a vendor not connected yet, an account since closed, a
till before Square). Two formats:
- `square-items`: the Square Dashboard's Items (items-detail) export: one row per item line,
  `Date`, `Time`, `Time Zone`, `Item`, `Qty`, `Price Point Name`, `Gross Sales`, `Transaction
  ID`, `Event Type` (Payment or Refund), `Location`, and, in newer exports, `Itemization Type`
  and `Unit`. Columns Square added over the years are optional.
- `generic`: any CSV of sale lines, read through a JSON column mapping (`GenericMapping`).

Rows are grouped into transactions, and each becomes a Square-shaped order that carries its
source rows, then goes through the API's own parser and loader: same raw tables, same upsert,
same quarantine. An imported order has version 0, so the API's copy of the same order, if it
is ever synced, replaces it. Negative quantities are returns; a return is linked to the sale
it takes back when the file says which (a Square refund names its transaction) or, in the
generic format, to the customer's latest earlier purchase of the product, so dbt can net it.
Importing the same file twice changes nothing.
"""

from __future__ import annotations

import bz2
import csv
import datetime as dt
import gzip
import hashlib
import io
import json
import lzma
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from data_contracts import contract
from marketprep.ingest.square_orders import (
    QUARANTINE,
    QUARANTINE_KEY,
    LoadStats,
    load_orders,
)
from marketprep.warehouse import Warehouse
from sources.timeparse import format_rfc3339

FORMATS = ("square-items", "generic")
ORDERS = contract("raw.square_orders")
# A transaction's rows may be interleaved with other transactions' (exports written in the
# same second); one stays open this many rows after its last row before it is loaded.
OPEN_ROWS = 1000
QUARANTINE_BATCH = 5000
# Minor units per unit of currency (ISO 4217), for the currencies the exports use.
MINOR_DIGITS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "BHD": 3, "KWD": 3, "OMR": 3, "TND": 3}
# The Rails-style zone names Square's exports write in `Time Zone`.
SQUARE_ZONES = {
    "Eastern Time (US & Canada)": "America/New_York",
    "Central Time (US & Canada)": "America/Chicago",
    "Mountain Time (US & Canada)": "America/Denver",
    "Pacific Time (US & Canada)": "America/Los_Angeles",
    "Arizona": "America/Phoenix",
    "Alaska": "America/Juneau",
    "Hawaii": "Pacific/Honolulu",
    "Atlantic Time (Canada)": "America/Halifax",
    "Newfoundland": "America/St_Johns",
    "London": "Europe/London",
    "Dublin": "Europe/Dublin",
    "Madrid": "Europe/Madrid",
    "Paris": "Europe/Paris",
    "Tokyo": "Asia/Tokyo",
    "Sydney": "Australia/Sydney",
    "Melbourne": "Australia/Melbourne",
    "Brisbane": "Australia/Brisbane",
    "Adelaide": "Australia/Adelaide",
    "Perth": "Australia/Perth",
    "UTC": "UTC",
}
SQUARE_ITEM_TYPES = {
    "physical good": "ITEM",
    "item": "ITEM",
    "service": "ITEM",
    "custom amount": "CUSTOM_AMOUNT",
    "gift card": "GIFT_CARD",
    "gift card sale": "GIFT_CARD",
}
# Square's MeasurementUnitWeight/Volume names for the unit abbreviations its exports print.
SQUARE_UNITS = {
    "lb": "IMPERIAL_POUND",
    "oz": "IMPERIAL_WEIGHT_OUNCE",
    "kg": "METRIC_KILOGRAM",
    "g": "METRIC_GRAM",
    "l": "METRIC_LITER",
    "ml": "METRIC_MILLILITER",
}
SQUARE_REQUIRED = ("Date", "Time", "Item", "Qty", "Gross Sales", "Transaction ID")


class ImportProblem(ValueError):
    """The file or the mapping cannot be imported at all; the message says what to change."""


class RowError(ValueError):
    """One CSV row cannot be read; it is quarantined and the rest of the file loads."""


@dataclass(frozen=True)
class GenericMapping:
    """How to read a generic CSV. Values name CSV columns unless said otherwise.

    Required: `order_id`, `product_id`, `quantity`, `sold_at`, `location_id` (a constant: the
    Square location, or any name of your choosing, that the sales happened at), `timezone` (an
    IANA name: the local time of `sold_at`, and of the location when Square does not know it).
    Optional: `product_name`, `unit_price` (decimal, major units), `currency` (a constant,
    default USD), `customer_id` (links a return to the customer's purchase), `sold_at_format`
    (strptime; ISO 8601 when absent), `non_product_codes` (product ids that are not products:
    postage, fees, adjustments) and `non_product_pattern` (a regex for more of them), both
    kept as custom amounts, outside demand.
    """

    order_id: str
    product_id: str
    quantity: str
    sold_at: str
    location_id: str
    timezone: str
    product_name: str | None = None
    unit_price: str | None = None
    currency: str = "USD"
    customer_id: str | None = None
    sold_at_format: str | None = None
    non_product_codes: tuple[str, ...] = ()
    non_product_pattern: str | None = None

    @classmethod
    def from_json(cls, text: str, source: str = "mapping") -> GenericMapping:
        try:
            raw = json.loads(text)
        except ValueError as exc:
            raise ImportProblem(f"{source} is not JSON: {exc}") from None
        if not isinstance(raw, dict):
            raise ImportProblem(f"{source} must be a JSON object of field: column")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ImportProblem(f"{source}: unknown key(s) {unknown}; known: {sorted(known)}")
        required = ("order_id", "product_id", "quantity", "sold_at", "location_id", "timezone")
        missing = [name for name in required if not raw.get(name)]
        if missing:
            raise ImportProblem(f"{source}: missing required key(s) {missing}")
        raw["non_product_codes"] = tuple(raw.get("non_product_codes") or ())
        mapping = cls(**raw)
        _zone(mapping.timezone, f"{source}: timezone")
        if mapping.non_product_pattern:
            try:
                re.compile(mapping.non_product_pattern)
            except re.error as exc:
                raise ImportProblem(
                    f"{source}: non_product_pattern is not a regex: {exc}"
                ) from None
        return mapping

    def columns(self) -> list[str]:
        """The CSV columns this mapping reads."""
        names = [self.order_id, self.product_id, self.quantity, self.sold_at]
        names += [c for c in (self.product_name, self.unit_price, self.customer_id) if c]
        return names


@dataclass
class SaleRow:
    """One CSV row, read: a sale (quantity > 0) or a return (quantity < 0) of one product."""

    line: int
    order_id: str
    sold_at: dt.datetime
    quantity: Decimal
    product_id: str | None
    product_name: str | None
    variation_name: str | None
    item_type: str
    unit: str | None
    gross: int | None  # minor units, signed like the quantity
    unit_price: int | None  # minor units, None when not a whole number of them
    currency: str
    location_id: str
    customer_id: str | None
    returns_from: str | None  # the sale transaction a refund row belongs to, when the file says
    line_key: str  # what the file always says about the product: names a line across files
    raw: dict[str, str]


@dataclass
class ImportReport:
    """What an import did, for the operator."""

    rows: int = 0
    transactions: int = 0
    repeated_transactions: int = 0
    rows_quarantined: int = 0
    returns_linked: int = 0
    returns_unlinked: int = 0
    first_sale: dt.datetime | None = None
    last_sale: dt.datetime | None = None
    loaded: LoadStats = field(default_factory=LoadStats)

    def summary(self) -> str:
        span = (
            f"{self.first_sale:%Y-%m-%d} to {self.last_sale:%Y-%m-%d}" if self.first_sale else "-"
        )
        exclusions = ", ".join(
            f"{n} {reason}" for reason, n in sorted(self.loaded.exclusions.items())
        )
        return (
            f"read {self.rows} rows: {self.transactions} transactions ({span}), "
            f"{self.repeated_transactions} repeated ones skipped, {self.rows_quarantined} rows "
            f"quarantined; loaded {self.loaded.orders} orders, {self.loaded.lines} line items, "
            f"{self.loaded.returns} returned lines ({self.returns_linked} linked to their sale, "
            f"{self.returns_unlinked} not); kept out of demand: {exclusions or 'nothing'}"
        )


def open_text(path: Path) -> io.TextIOBase:
    """The file as text; .xz, .gz and .bz2 are read compressed, a byte-order mark is skipped."""
    openers = {".xz": lzma.open, ".gz": gzip.open, ".bz2": bz2.open}
    opener = openers.get(path.suffix, open)
    return opener(path, "rt", encoding="utf-8-sig", newline="")


def _zone(name: str, what: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImportProblem(
            f"{what} {name!r} is not an IANA time zone (e.g. Europe/London)"
        ) from None


def _decimal(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise RowError(f"{what} {text!r} is not a number") from None
    if not value.is_finite():
        raise RowError(f"{what} {text!r} is not a finite number")
    return value


_MONEY = re.compile(r"^(?P<sign>[-(])?\s*[^\d\s.,-]*\s*(?P<number>[\d,]*\.?\d*)\)?$")


def _money_text(text: str, what: str) -> Decimal:
    """'$1,234.50', '-$3.00', '(3.00)', '2.1' → a signed Decimal in major units."""
    cleaned = text.strip().replace("\u2212", "-")
    match = _MONEY.match(cleaned.replace("-", "", 1) if cleaned.startswith("-") else cleaned)
    if not match or not match["number"].strip(",."):
        raise RowError(f"{what} {text!r} is not an amount of money")
    value = _decimal(match["number"].replace(",", ""), what)
    negative = cleaned.startswith("-") or match["sign"] == "("
    return -value if negative else value


def _minor(amount: Decimal, currency: str) -> Decimal:
    return amount.scaleb(MINOR_DIGITS.get(currency, 2))


def _whole(value: Decimal) -> int | None:
    return int(value) if value == value.to_integral_value() else None


def _rounded(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _cell(row: dict[str, str], column: str | None) -> str:
    return (row.get(column) or "").strip() if column else ""


def _local(text: str, fmt: str | None, zone: ZoneInfo, what: str) -> dt.datetime:
    try:
        moment = dt.datetime.strptime(text, fmt) if fmt else dt.datetime.fromisoformat(text)
    except ValueError:
        expected = fmt or "ISO 8601"
        raise RowError(f"{what} {text!r} does not match {expected}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(dt.UTC)


class GenericReader:
    """Generic CSV rows → SaleRows through a mapping."""

    def __init__(self, mapping: GenericMapping, location_id: str | None) -> None:
        self.mapping = mapping
        self.location_id = location_id or mapping.location_id
        self.zone = _zone(mapping.timezone, "mapping timezone")
        self.codes = frozenset(mapping.non_product_codes)
        self.pattern = (
            re.compile(mapping.non_product_pattern) if mapping.non_product_pattern else None
        )

    def check_header(self, header: list[str]) -> None:
        missing = [c for c in self.mapping.columns() if c not in header]
        if missing:
            raise ImportProblem(
                f"the file has no column(s) {missing} named in the mapping; it has {header}"
            )

    def read(self, line: int, row: dict[str, str]) -> SaleRow:
        m = self.mapping
        order_id = _cell(row, m.order_id)
        product = _cell(row, m.product_id)
        if not order_id:
            raise RowError(f"column {m.order_id!r} is empty")
        if not product:
            raise RowError(f"column {m.product_id!r} is empty")
        quantity = _decimal(_cell(row, m.quantity), f"column {m.quantity!r}")
        if quantity == 0:
            raise RowError(f"column {m.quantity!r} is 0: a line of nothing")
        sold_at = _local(
            _cell(row, m.sold_at), m.sold_at_format, self.zone, f"column {m.sold_at!r}"
        )
        price = (
            _money_text(_cell(row, m.unit_price), f"column {m.unit_price!r}")
            if m.unit_price and _cell(row, m.unit_price)
            else None
        )
        non_product = product in self.codes or bool(self.pattern and self.pattern.search(product))
        minor_price = _minor(price, m.currency) if price is not None else None
        return SaleRow(
            line=line,
            order_id=order_id,
            sold_at=sold_at,
            quantity=quantity,
            product_id=None if non_product else product,
            product_name=_cell(row, m.product_name) or product,
            variation_name=None,
            item_type="CUSTOM_AMOUNT" if non_product else "ITEM",
            unit=None,
            gross=_rounded(minor_price * quantity) if minor_price is not None else None,
            unit_price=_whole(minor_price) if minor_price is not None else None,
            currency=m.currency,
            location_id=self.location_id,
            customer_id=_cell(row, m.customer_id) or None,
            returns_from=None,
            line_key=product,
            raw=row,
        )


class SquareItemsReader:
    """Rows of Square's Items (items-detail) export → SaleRows."""

    def __init__(
        self,
        locations: dict[str, str],
        catalog: dict[tuple[str, str], str],
        location_id: str | None,
        currency: str,
    ) -> None:
        self.locations = locations  # lower-cased location name -> Square location id
        self.catalog = catalog  # (item name, variation name), lower-cased -> variation id
        self.location_id = location_id
        self.currency = currency

    def check_header(self, header: list[str]) -> None:
        missing = [c for c in SQUARE_REQUIRED if c not in header]
        if missing:
            raise ImportProblem(
                f"this is not a Square Items export: no column(s) {missing}; export Items "
                f"(items detail) from the Square Dashboard, or use --format generic"
            )

    def read(self, line: int, row: dict[str, str]) -> SaleRow:
        txn = _cell(row, "Transaction ID")
        if not txn:
            raise RowError("Transaction ID is empty")
        zone_name = _cell(row, "Time Zone") or "UTC"
        zone = SQUARE_ZONES.get(zone_name, zone_name)
        try:
            tz = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise RowError(f"Time Zone {zone_name!r} is not one MarketPrep knows") from None
        sold_at = _local(f"{_cell(row, 'Date')} {_cell(row, 'Time')}", None, tz, "Date and Time")
        quantity = _decimal(_cell(row, "Qty"), "Qty")
        refund = _cell(row, "Event Type").lower() == "refund"
        if refund and quantity > 0:
            quantity = -quantity  # some exports print refunded quantities unsigned
        if quantity == 0:
            raise RowError("Qty is 0: a line of nothing")
        gross = _minor(_money_text(_cell(row, "Gross Sales"), "Gross Sales"), self.currency)
        if refund and gross > 0:
            gross = -gross
        item = _cell(row, "Item")
        variation = _cell(row, "Price Point Name") or None
        kind = _cell(row, "Itemization Type").lower()
        item_type = SQUARE_ITEM_TYPES.get(
            kind, "CUSTOM_AMOUNT" if item == "Custom Amount" else "ITEM"
        )
        product = None
        if item_type == "ITEM":
            product = _cell(row, "Token") or self.catalog.get(
                (item.lower(), (variation or "").lower())
            )
            product = (
                product
                or "csv:" + hashlib.sha1(f"{item}|{variation or ''}".encode()).hexdigest()[:16]
            )
        location = self._location(_cell(row, "Location"))
        unit = _cell(row, "Unit")
        return SaleRow(
            line=line,
            order_id=f"{txn}-refund" if refund else txn,
            sold_at=sold_at,
            quantity=quantity,
            product_id=product,
            product_name=item or None,
            variation_name=variation,
            item_type=item_type,
            unit=SQUARE_UNITS.get(unit.lower(), unit)
            if unit and unit.lower() not in ("ea", "each")
            else None,
            gross=_whole(gross),
            unit_price=_whole(gross / quantity) if _whole(gross) is not None else None,
            currency=self.currency,
            location_id=location,
            customer_id=_cell(row, "Customer ID") or None,
            returns_from=txn if refund else None,
            # Not the Token: older exports lack it, and a refund may come in an older one.
            line_key=f"{item}|{variation or ''}",
            raw=row,
        )

    def _location(self, name: str) -> str:
        if self.location_id:
            return self.location_id
        found = self.locations.get(name.lower())
        if found is None:
            known = ", ".join(sorted(self.locations)) or "none loaded"
            raise RowError(
                f"Location {name!r} is not one of the vendor's Square locations ({known}); "
                "sync its locations first, or pass --location-id"
            )
        return found


def _line_uid(row: SaleRow, occurrence: int, prefix: str = "csv") -> str:
    """A stable uid for a line, the same in every import of any file holding it, so a refund in
    a later export can name the sale line it takes back."""
    return f"{prefix}-{hashlib.sha1(row.line_key.encode()).hexdigest()[:12]}-{occurrence}"


def _money(amount: int | None, currency: str) -> dict[str, Any] | None:
    return None if amount is None else {"amount": amount, "currency": currency}


def _square_line(row: SaleRow, uid: str, returned: bool) -> dict[str, Any]:
    line: dict[str, Any] = {
        "uid": uid,
        "name": row.product_name,
        "quantity": str(abs(row.quantity)),
        "item_type": row.item_type,
    }
    if row.variation_name:
        line["variation_name"] = row.variation_name
    if row.product_id:
        line["catalog_object_id"] = row.product_id
    if row.unit:
        line["quantity_unit"] = {"measurement_unit": {"weight_unit": row.unit}, "precision": 2}
    price = _money(row.unit_price, row.currency)
    if price is not None:
        line["base_price_money"] = price
    # A returned line's amounts are positive, as Square writes them; a sale keeps its sign (a
    # bad-debt adjustment is a sale of a negative amount).
    gross = _money(
        None if row.gross is None else -row.gross if returned else row.gross, row.currency
    )
    if gross is not None:
        line["gross_return_money" if returned else "gross_sales_money"] = gross
    return line


class _ReturnLinks:
    """Each customer's latest purchase of each product, to link a return without a receipt to
    the sale it most likely takes back; it holds one entry per customer and product."""

    def __init__(self) -> None:
        self.latest: dict[tuple[str, str], list[Any]] = {}

    def sold(self, row: SaleRow, uid: str) -> None:
        if row.customer_id and row.product_id:
            self.latest[row.customer_id, row.product_id] = [row.order_id, uid, row.quantity]

    def find(self, row: SaleRow) -> tuple[str, str] | None:
        if not (row.customer_id and row.product_id):
            return None
        sale = self.latest.get((row.customer_id, row.product_id))
        if sale is None or sale[2] < -row.quantity:
            return None
        sale[2] += row.quantity  # what is left of it to return
        return sale[0], sale[1]


def _order(
    rows: list[SaleRow], links: _ReturnLinks, source: dict[str, Any], report: ImportReport
) -> dict[str, Any]:
    """One transaction's rows as a Square order: sales as line items, returns as returns[]."""
    first = rows[0]
    when = format_rfc3339(max(r.sold_at for r in rows))
    sold: Counter[str] = Counter()
    taken_back: Counter[str] = Counter()
    line_items, returned = [], []
    for row in rows:
        key = _line_uid(row, 0)
        if row.quantity > 0:
            uid = _line_uid(row, sold[key])
            sold[key] += 1
            line_items.append(_square_line(row, uid, returned=False))
            links.sold(row, uid)
            continue
        line = _square_line(row, _line_uid(row, taken_back[key], "csv-return"), returned=True)
        taken_back[key] += 1
        source_order = None
        if row.returns_from:
            source_order = row.returns_from
            line["source_line_item_uid"] = _line_uid(row, 0)
        elif (link := links.find(row)) is not None:
            source_order, line["source_line_item_uid"] = link
        if source_order:
            report.returns_linked += 1
        else:
            report.returns_unlinked += 1
        returned.append((source_order, line))
    order: dict[str, Any] = {
        "id": first.order_id,
        "location_id": first.location_id,
        "source": {"name": f"MarketPrep import: {source['file']}"},
        "state": "COMPLETED",
        "version": 0,
        "created_at": format_rfc3339(min(r.sold_at for r in rows)),
        "updated_at": when,
        "closed_at": when,
    }
    if first.customer_id:
        order["customer_id"] = first.customer_id
    if line_items:
        order["line_items"] = line_items
    if returned:
        by_source: dict[str | None, list[dict]] = {}
        for source_order, line in returned:
            by_source.setdefault(source_order, []).append(line)
        order["returns"] = [
            {"uid": f"return-{k}", "return_line_items": lines}
            | ({"source_order_id": source_order} if source_order else {})
            for k, (source_order, lines) in enumerate(by_source.items())
        ]
    total = sum(r.gross or 0 for r in rows)
    order["total_money"] = {"amount": total, "currency": first.currency}
    order["x_marketprep_import"] = source | {"rows": [{"line": r.line} | r.raw for r in rows]}
    return order


def _fingerprint(rows: list[SaleRow]) -> bytes:
    return hashlib.sha1(repr(sorted(tuple(r.raw.items()) for r in rows)).encode()).digest()


def transactions(
    rows: Iterable[SaleRow], report: ImportReport, open_rows: int = OPEN_ROWS
) -> Iterator[list[SaleRow]]:
    """Rows grouped by order id, streaming. A transaction closes `open_rows` rows after its last
    row; one that appears again later is a repeat if its rows are the same (an export that
    overlaps another, as online_retail's two yearly sheets do in December 2010) and is skipped;
    if they differ it is an error, since loading it would replace the first part."""
    open_: dict[str, tuple[int, list[SaleRow]]] = {}  # oldest first
    closed: dict[str, bytes] = {}

    def close(order_id: str) -> Iterator[list[SaleRow]]:
        _, group = open_.pop(order_id)
        digest = _fingerprint(group)
        if order_id in closed:
            if closed[order_id] != digest:
                raise RowError(
                    f"transaction {order_id} continues at line {group[0].line}, more than "
                    f"{open_rows} rows after it ended, with different rows; sort the file by "
                    "transaction and import it again (importing is idempotent)"
                )
            report.repeated_transactions += 1
            return
        closed[order_id] = digest
        yield group

    for position, row in enumerate(rows):
        if row.order_id in open_:
            group = open_.pop(row.order_id)[1]
            group.append(row)
            open_[row.order_id] = (position, group)  # moved to the end: the most recent
        else:
            open_[row.order_id] = (position, [row])
        while open_ and position - next(iter(open_.values()))[0] > open_rows:
            yield from close(next(iter(open_)))
    while open_:
        yield from close(next(iter(open_)))


def import_sales(
    warehouse: Warehouse,
    vendor_id: str,
    path: Path,
    fmt: str,
    now: dt.datetime,
    *,
    mapping: GenericMapping | None = None,
    location_id: str | None = None,
    timezone: str | None = None,
    currency: str = "USD",
) -> ImportReport:
    """Import one CSV file of a vendor's sales (see the module doc); returns what it did."""
    if fmt not in FORMATS:
        raise ImportProblem(f"format {fmt!r} is not one of {FORMATS}")
    if fmt == "generic" and mapping is None:
        raise ImportProblem("the generic format needs a column mapping (--mapping file.json)")
    warehouse.ensure_tables([ORDERS, QUARANTINE])
    locations, catalog = _vendor_context(warehouse, vendor_id)
    reader: GenericReader | SquareItemsReader
    if fmt == "generic":
        reader = GenericReader(mapping, location_id)
        zone = timezone or mapping.timezone
    else:
        reader = SquareItemsReader(
            {name.lower(): loc for name, (loc, _) in locations.items()},
            catalog,
            location_id,
            currency,
        )
        zone = timezone
    timezones = {loc: tz for loc, tz in locations.values()}
    if location_id and location_id not in timezones:
        if not zone:
            raise ImportProblem(
                f"location {location_id!r} is not among vendor {vendor_id}'s Square locations, "
                "so MarketPrep does not know its time zone: pass --timezone"
            )
        timezones[location_id] = _zone(zone, "--timezone").key
    elif fmt == "generic" and reader.location_id not in timezones:
        timezones[reader.location_id] = _zone(zone, "timezone").key

    report = ImportReport()
    source = {"file": path.name, "format": fmt}
    quarantined: list[dict] = []
    links = _ReturnLinks()

    def sale_rows() -> Iterator[SaleRow]:
        with open_text(path) as handle:
            rows = csv.DictReader(handle)
            reader.check_header(list(rows.fieldnames or []))
            for row in rows:
                report.rows += 1
                line = rows.line_num
                try:
                    sale = reader.read(line, row)
                except RowError as exc:
                    quarantined.append(_bad_row(vendor_id, path, line, row, str(exc), now))
                    if len(quarantined) >= QUARANTINE_BATCH:
                        _flush_quarantine(warehouse, quarantined)
                    continue
                report.first_sale = min(report.first_sale or sale.sold_at, sale.sold_at)
                report.last_sale = max(report.last_sale or sale.sold_at, sale.sold_at)
                yield sale

    def orders() -> Iterator[dict[str, Any]]:
        groups = transactions(sale_rows(), report)
        while True:
            try:
                group = next(groups)
            except StopIteration:
                return
            except RowError as exc:
                raise ImportProblem(f"{path.name}: {exc}") from None
            report.transactions += 1
            yield _order(group, links, source, report)

    with warehouse.connected():
        report.loaded = load_orders(
            warehouse, vendor_id, orders(), timezones, now, source=f"import:{path.name}"
        )
        _flush_quarantine(warehouse, quarantined)
        report.rows_quarantined = _held_rows(warehouse, vendor_id, path)
    return report


def _bad_row(
    vendor_id: str, path: Path, line: int, row: dict, problem: str, now: dt.datetime
) -> dict:
    return {
        "vendor_id": vendor_id,
        "record_kind": "csv_row",
        "record_key": f"{path.name}:{line}",
        "reason": f"{path.name} line {line}: {problem}",
        "source": f"import:{path.name}",
        "raw_payload": json.dumps(row, ensure_ascii=False),
        "quarantined_at": now,
    }


def _flush_quarantine(warehouse: Warehouse, rows: list[dict]) -> None:
    if rows:
        warehouse.upsert_many([(QUARANTINE, rows)], key=QUARANTINE_KEY)
        rows.clear()


def _held_rows(warehouse: Warehouse, vendor_id: str, path: Path) -> int:
    """Rows of this file held in quarantine."""
    found = warehouse.query(
        "select count(*) as n from raw.square_quarantine where vendor_id = ? and source = ?",
        [vendor_id, f"import:{path.name}"],
    )
    return int(found["n"].iloc[0])


def _vendor_context(
    warehouse: Warehouse, vendor_id: str
) -> tuple[dict[str, tuple[str, str]], dict[tuple[str, str], str]]:
    """The vendor's loaded locations (name → (id, zone)) and catalog ((item, variation) → id)."""
    locations: dict[str, tuple[str, str]] = {}
    catalog: dict[tuple[str, str], str] = {}
    with warehouse.session() as session:
        if session.table_exists("raw.square_locations"):
            found = session.query(
                "select location_name, location_id, timezone from raw.square_locations "
                "where vendor_id = ?",
                [vendor_id],
            )
            locations = {r.location_name: (r.location_id, r.timezone) for r in found.itertuples()}
        if session.table_exists("raw.square_catalog"):
            found = session.query(
                "select item_name, variation_name, variation_id from raw.square_catalog "
                "where vendor_id = ?",
                [vendor_id],
            )
            catalog = {
                (r.item_name.lower(), (r.variation_name or "").lower()): r.variation_id
                for r in found.itertuples()
            }
    return locations, catalog
