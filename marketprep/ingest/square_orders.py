"""Square orders into the raw tables, streamed: parse, quarantine, upsert in batches.

One loader serves every way orders arrive: the API sync (pages of SearchOrders), the history
import (CSV rows made into Square-shaped orders) and a rebuild from the raw payloads already
stored. Memory holds one batch: nothing here grows with the length of the history.

An order is upserted by (vendor_id, order_id): the row with the higher (order_version,
updated_at) wins and brings its line items and returns with it, so a late page or a re-run can
never roll an order back or duplicate it. A record that cannot become rows goes to
raw.square_quarantine with its reason and payload, and the rest of the batch loads.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
import queue
import sys
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import pyarrow as pa

from data_contracts import Contract, contract
from marketprep.warehouse import ContractViolation, Session, Warehouse, to_arrow
from sources.records import MalformedRecord, to_json
from sources.square_parse import (
    ORDER_COLUMNS_OF_LINES,
    LineRecord,
    OrderRecord,
    ParsedOrder,
    ReturnRecord,
    parse_order,
)

ORDERS = contract("raw.square_orders")
LINE_ITEMS = contract("raw.square_order_line_items")
RETURNS = contract("raw.square_order_returns")
QUARANTINE = contract("raw.square_quarantine")
ORDER_KEY = ("vendor_id", "order_id")
ORDER_VERSION = ("order_version", "updated_at")
QUARANTINE_KEY = ("vendor_id", "record_kind", "record_key")
# Five pages of 1000: few enough transactions that their overhead stays small next to COPY,
# and a batch of parsed rows stays within tens of megabytes.
BATCH_ORDERS = 5000
REBUILD_CHUNK = 2000

CANCELED = "canceled order"
CUSTOM_AMOUNT = "custom amount (no catalog id)"
GIFT_CARD = "gift card (no catalog id)"
NO_CATALOG_ID = "no catalog id"
UNLINKED_RETURN = "return not linked to a sale (no source order)"


@dataclass
class LoadStats:
    """What a load wrote. `exclusions` counts line items (and returned lines) kept raw but left
    out of product demand, by reason; `stale` counts orders older than the stored version."""

    orders: int = 0
    lines: int = 0
    returns: int = 0
    stale: int = 0
    quarantined: int = 0
    exclusions: Counter[str] = field(default_factory=Counter)

    def add(self, other: LoadStats) -> None:
        self.orders += other.orders
        self.lines += other.lines
        self.returns += other.returns
        self.stale += other.stale
        self.quarantined += other.quarantined
        self.exclusions.update(other.exclusions)


def exclusion_reasons(orders: Iterable[ParsedOrder]) -> Counter[str]:
    """Why lines of these orders will not count as demand for a product, counted by reason (dbt
    applies the same rules: only COMPLETED orders, only lines with a catalog variation, returns
    netted by link)."""
    reasons: Counter[str] = Counter()
    for parsed in orders:
        state = parsed.order.state
        if state != "COMPLETED":
            reasons[CANCELED if state == "CANCELED" else "order not completed"] += len(parsed.lines)
            continue
        for line in parsed.lines:
            if line.catalog_object_id is None:
                reasons[_NO_CATALOG_ID_BECAUSE.get(line.item_type, NO_CATALOG_ID)] += 1
        for returned in parsed.returns:
            if returned.source_order_id is None or returned.source_line_uid is None:
                reasons[UNLINKED_RETURN] += 1
    return reasons


_NO_CATALOG_ID_BECAUSE = {"CUSTOM_AMOUNT": CUSTOM_AMOUNT, "GIFT_CARD": GIFT_CARD}


def quarantine_row(
    vendor_id: str, kind: str, error: MalformedRecord, source: str, now: dt.datetime
) -> dict:
    """A raw.square_quarantine row for a record that could not load."""
    payload = to_json(error.payload)
    record_id = error.record_id
    if isinstance(record_id, str) and record_id:
        key = record_id
    else:  # no usable id: the payload itself names the record, and the same bad record twice is one
        key = "sha1:" + hashlib.sha1(payload.encode()).hexdigest()
    return {
        "vendor_id": vendor_id,
        "record_kind": kind,
        "record_key": key,
        "reason": str(error),
        "source": source,
        "raw_payload": payload,
        "quarantined_at": now,
    }


def _newer(candidate: ParsedOrder, current: ParsedOrder) -> bool:
    def rank(parsed: ParsedOrder) -> tuple:
        return parsed.order.order_version, parsed.order.updated_at

    return rank(candidate) >= rank(current)


@dataclass(frozen=True)
class Batch:
    """A batch as Arrow tables, checked against the contracts: orders with their lines and
    returns (one entry per order id), and the records quarantined meanwhile."""

    orders: pa.Table
    lines: pa.Table
    returns: pa.Table
    quarantined: pa.Table

    @classmethod
    def of(
        cls,
        vendor_id: str,
        orders: Sequence[ParsedOrder],
        quarantined: list[dict],
        ingested_at: dt.datetime,
    ) -> Batch:
        """The tables, column by column: each field of the records becomes one Arrow array, and
        the columns a line shares with its order (ORDER_COLUMNS_OF_LINES) are taken from the
        orders table by position rather than copied into every line in Python."""
        order_table = to_arrow(
            ORDERS,
            _columns(OrderRecord._fields, [parsed.order for parsed in orders])
            | {
                "vendor_id": [vendor_id] * len(orders),
                "ingested_at": pa.repeat(ingested_at, len(orders)),
            },
        )
        return cls(
            order_table,
            _child_table(LINE_ITEMS, LineRecord._fields, order_table, [o.lines for o in orders]),
            _child_table(RETURNS, ReturnRecord._fields, order_table, [o.returns for o in orders]),
            to_arrow(QUARANTINE, quarantined),
        )


def _child_table(
    contract: Contract, fields: tuple[str, ...], order_table: pa.Table, groups: list[list[tuple]]
) -> pa.Table:
    """The rows of each order's records (`groups`, in the orders' order), with the columns they
    share with their order taken from `order_table` by position."""
    records = [record for group in groups for record in group]
    parents = pa.array([i for i, group in enumerate(groups) for _ in group], pa.int64())
    shared = {name: order_table[name].take(parents) for name in ORDER_COLUMNS_OF_LINES}
    return to_arrow(contract, _columns(fields, records) | shared)


def _columns(fields: tuple[str, ...], records: list[tuple]) -> dict[str, Sequence[Any]]:
    """Records (tuples of `fields`) as columns by name, transposed in C."""
    if not records:
        return {name: [] for name in fields}
    return dict(zip(fields, zip(*records, strict=True), strict=True))


def write_batch(warehouse: Warehouse, batch: Batch, *, ensure_tables: bool = True) -> LoadStats:
    """One transaction: upsert the orders with their lines and returns, and the quarantined
    records. `ensure_tables=False` skips creating the order tables (an earlier batch did)."""
    loads = [(ORDERS, batch.orders), (LINE_ITEMS, batch.lines), (RETURNS, batch.returns)]
    with warehouse.session() as session:
        written = session.upsert(
            loads, key=ORDER_KEY, version=ORDER_VERSION, ensure_tables=ensure_tables
        )
        if batch.quarantined.num_rows:
            session.upsert([(QUARANTINE, batch.quarantined)], key=QUARANTINE_KEY)
    return LoadStats(
        orders=written[ORDERS.table],
        lines=written[LINE_ITEMS.table],
        returns=written[RETURNS.table],
        stale=batch.orders.num_rows - written[ORDERS.table],
        quarantined=batch.quarantined.num_rows,
    )


def load_orders(
    warehouse: Warehouse,
    vendor_id: str,
    orders: Iterable[Any],
    timezones: dict[str, str],
    now: dt.datetime,
    *,
    source: str = "square_api",
    batch_orders: int = BATCH_ORDERS,
) -> LoadStats:
    """Parse and upsert a stream of Square orders for one vendor, one batch per transaction.

    Each committed batch stays committed if a later one fails: loading the same orders again
    is a no-op, so the caller simply re-runs. Within a batch the newest copy of an order wins
    (an order can reach us twice: pages are not snapshots). Batches are written on a thread of
    their own, so the database works on one while the next is fetched and parsed.
    """
    stats = LoadStats()
    batch: dict[str, ParsedOrder] = {}
    quarantined: list[dict] = []
    with _acyclic(), _short_gil_slices(), _BatchWriter(warehouse) as writer:
        for order in orders:
            try:
                parsed = parse_order(order, timezones)
            except MalformedRecord as exc:
                quarantined.append(quarantine_row(vendor_id, "order", exc, source, now))
            else:
                current = batch.get(parsed.order.order_id)
                if current is None or _newer(parsed, current):
                    batch[parsed.order.order_id] = parsed
            if len(batch) + len(quarantined) >= batch_orders:
                writer.put(_typed(batch, quarantined, vendor_id, source, now, stats))
                batch, quarantined = {}, []
        if batch or quarantined:
            writer.put(_typed(batch, quarantined, vendor_id, source, now, stats))
    stats.add(writer.written)
    return stats


def _typed(
    batch: dict[str, ParsedOrder],
    quarantined: list[dict],
    vendor_id: str,
    source: str,
    now: dt.datetime,
    stats: LoadStats,
) -> Batch:
    """The batch as Arrow tables. Should an order's rows not fit the tables (a value of a type
    the parser let through), that order is quarantined with the contract's words, not the
    batch lost."""
    orders = list(batch.values())
    try:
        typed = Batch.of(vendor_id, orders, quarantined, now)
    except ContractViolation:
        fitting = []
        for parsed in orders:
            try:
                Batch.of(vendor_id, [parsed], [], now)
                fitting.append(parsed)
            except ContractViolation as exc:
                problem = f"does not fit the raw tables: {exc}"
                payload = orjson.loads(parsed.order.raw_payload)
                error = MalformedRecord("Square order", parsed.order.order_id, problem, payload)
                quarantined.append(quarantine_row(vendor_id, "order", error, source, now))
        orders = fitting
        typed = Batch.of(vendor_id, orders, quarantined, now)
    stats.exclusions.update(exclusion_reasons(orders))
    return typed


@contextlib.contextmanager
def _acyclic() -> Iterator[None]:
    """Orders are trees of dicts, freed by reference counting; while a batch of them is alive
    the cyclic collector would rescan it, and the rest of the heap, again and again (it doubled
    the cost of a load)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# The interval at which a thread that holds the GIL hands it over to one waiting for it.
SWITCH_INTERVAL_S = 0.0005
_slices_lock = threading.Lock()
_slices_users = 0
_slices_before = 0.0


@contextlib.contextmanager
def _short_gil_slices() -> Iterator[None]:
    """The parser holds the GIL while it runs; the page fetcher and the batch writer need it for
    a moment after every reply from Square or PostgreSQL, and wait for the parser's slice to end
    first: 5 ms by default, a stall of the database at each of a batch's dozens of statements and
    chunks (a load of a million line items ran ~20 % longer on a busy machine). Shorter slices
    while any load runs; the interpreter's own interval is restored when the last one ends."""
    global _slices_users, _slices_before
    with _slices_lock:
        if _slices_users == 0:
            _slices_before = sys.getswitchinterval()
            sys.setswitchinterval(min(_slices_before, SWITCH_INTERVAL_S))
        _slices_users += 1
    try:
        yield
    finally:
        with _slices_lock:
            _slices_users -= 1
            if _slices_users == 0:
                sys.setswitchinterval(_slices_before)


class _BatchWriter:
    """Writes batches on its own thread and connection, at most one batch behind the parser:
    memory holds the batch being written and the one being parsed, and no more. The parser
    makes the Arrow tables; this thread only waits on the database, without the GIL."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.written = LoadStats()
        self._queue: queue.Queue[Batch | None] = queue.Queue(1)
        self._error: BaseException | None = None
        # A warehouse of its own: a connection is used by one thread at a time.
        own = Warehouse(warehouse.location)
        self._thread = threading.Thread(target=self._run, args=(own,), name="order-writer")

    def __enter__(self) -> _BatchWriter:
        self._thread.start()
        return self

    def _run(self, warehouse: Warehouse) -> None:
        written_one = False
        with warehouse.connected():
            while (item := self._queue.get()) is not None:
                if self._error is None:
                    try:
                        # The first batch creates the tables; the others skip those six statements.
                        stats = write_batch(warehouse, item, ensure_tables=not written_one)
                        self.written.add(stats)
                        written_one = True
                    except BaseException as exc:  # handed to the parsing thread to raise
                        self._error = exc

    def put(self, batch: Batch) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(batch)

    def __exit__(self, *exc_info: object) -> None:
        self._queue.put(None)  # whatever was queued is written first: a whole batch
        self._thread.join()
        if self._error is not None and exc_info[0] is None:
            raise self._error


def clear_loaded_from_quarantine(session: Session, vendor_id: str) -> None:
    """Drop quarantined orders that have since loaded (a newer good copy, or the same one after
    a fix); a bad copy newer than the stored good one stays, since the stored one is older."""
    session.execute(
        "delete from raw.square_quarantine q where q.vendor_id = ? and q.record_kind = 'order' "
        "and exists (select 1 from raw.square_orders o where o.vendor_id = q.vendor_id "
        "and o.order_id = q.record_key and o.ingested_at >= q.quarantined_at)",
        [vendor_id],
    )


def retry_quarantined(
    warehouse: Warehouse, vendor_id: str, timezones: dict[str, str], now: dt.datetime
) -> LoadStats:
    """Load a vendor's quarantined orders again from their stored payloads (no Square call):
    those whose problem is gone (say, their location has been loaded since) leave the
    quarantine; the others stay, with today's reason."""
    with warehouse.session() as session:
        if not session.table_exists(QUARANTINE.table):
            return LoadStats()
        held = session.query(
            "select raw_payload, source from raw.square_quarantine "
            "where vendor_id = ? and record_kind = 'order' order by record_key",
            [vendor_id],
        )
    stats = LoadStats()
    if held.empty:
        return stats
    for source, group in held.groupby("source", sort=True):
        payloads = (orjson.loads(text) for text in group["raw_payload"])
        stats.add(load_orders(warehouse, vendor_id, payloads, timezones, now, source=source))
    with warehouse.session() as session:
        clear_loaded_from_quarantine(session, vendor_id)
    return stats


def rebuild_orders(
    warehouse: Warehouse, vendor_id: str, timezones: dict[str, str], now: dt.datetime
) -> LoadStats:
    """Rebuild a vendor's order, line item and return rows from the stored raw payloads, with
    today's parser, without calling Square; quarantined orders get another chance too.

    Reads the stored orders in key order, a chunk at a time, so memory stays bounded.
    """
    stats = LoadStats()
    after = ""
    while True:
        chunk = warehouse.query(
            "select order_id, raw_payload from raw.square_orders where vendor_id = ? and "
            f"order_id > ? order by order_id limit {REBUILD_CHUNK}",
            [vendor_id, after],
        )
        if chunk.empty:
            break
        payloads = [orjson.loads(text) for text in chunk["raw_payload"]]
        stats.add(load_orders(warehouse, vendor_id, payloads, timezones, now, source="rebuild"))
        after = chunk["order_id"].iloc[-1]
    stats.add(retry_quarantined(warehouse, vendor_id, timezones, now))
    with warehouse.session() as session:
        clear_loaded_from_quarantine(session, vendor_id)
    return stats
