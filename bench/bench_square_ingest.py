"""Square ingestion into PostgreSQL: throughput against COPY of the same rows, and peak memory.

For each size (100,000 and 1,000,000 line items by default):
1. A fake Square (`sandbox.square_bulk`, its own process) serves one vendor's history of that
   many line items through SearchOrders, its pages rendered before the clock starts (Square's
   servers, not ours, make the JSON in production).
2. The ingest, in a fresh process: `marketprep.ingest.sync_square_locations` and
   `sync_square_orders` as the daily job runs them (a first sync: the CLOSED_AT backfill of the
   whole history), real `requests` client over loopback, pages of 1,000 orders, batches upserted
   into a new PostgreSQL database. Its wall time, CPU time and peak RSS (VmHWM) are reported,
   and the CPU time the fake Square used meanwhile (it shares the machine's cores).
3. COPY: every row the ingest wrote (raw.square_orders with its raw payloads, and
   raw.square_order_line_items) is exported to CSV files, then loaded back with
   `COPY ... FROM STDIN (FORMAT csv)` into empty tables of the same definition (keys included).
   Only the loading is timed.
The ratio is ingest throughput over COPY throughput, both in line items per second.
4. The write path alone: the same orders parsed into batches beforehand (not timed), then
   written one batch after another with `write_batch` (`Warehouse` upsert: keys staged, stored
   and stale versions found, replaced rows deleted, COPY) into a fresh database; only the writes
   are timed, against the same COPY baseline.

Run alone: `uv run python bench/bench_square_ingest.py [--lines 100000,1000000]`.
Needs PostgreSQL on 127.0.0.1:5432 (trust auth); creates and drops its own database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from sandbox.scratch_db import scratch_database

START = dt.datetime(2020, 1, 6, 15, tzinfo=dt.UTC)
TABLES = ("raw.square_orders", "raw.square_order_line_items")
SIM_END = dt.date(2025, 7, 1)


def _bulk(count: int):
    from sandbox.simulator import SimConfig, build_world
    from sandbox.square_bulk import BulkOrders

    world = build_world(SimConfig(end=SIM_END, history_days=28, n_vendors=1))
    return BulkOrders(world.vendors[0], count, START)


def serve(lines: int) -> None:
    """Child: the fake Square for `lines` line items; prints its URL and, for each line read from
    stdin, the CPU seconds it has used so far; serves until stdin closes."""
    from sandbox.fake_http import FakeServer
    from sandbox.square_bulk import BulkSquareApp, error_body
    from sources.square import MAX_ORDERS_PER_PAGE

    probe = _bulk(10**9)
    bulk = _bulk(probe.orders_for_lines(lines))
    app = BulkSquareApp(bulk)
    app.prerender(MAX_ORDERS_PER_PAGE)
    with FakeServer("square-bulk", app, error_body) as server:
        started = {"url": server.url, "orders": bulk.count, "cpu_seconds": time.process_time()}
        print(json.dumps(started), flush=True)
        for _ in sys.stdin:
            print(json.dumps({"cpu_seconds": time.process_time()}), flush=True)


def ingest(url: str, warehouse_url: str, orders: int, home: str) -> None:
    """Child: one first sync of the vendor into the warehouse; prints time and peak RSS."""
    from marketprep.ingest import sync_square_locations, sync_square_orders
    from marketprep.settings import load_settings
    from marketprep.vendors import register_vendor
    from marketprep.warehouse import Warehouse

    bulk = _bulk(orders)
    vendor = bulk.vendor
    settings = load_settings(
        {
            "MARKETPREP_HOME": home,
            "MARKETPREP_WAREHOUSE_URL": warehouse_url,
            "MARKETPREP_SQUARE_BASE_URL": url,
        }
    )
    warehouse = Warehouse(settings.warehouse)
    register_vendor(warehouse, settings, vendor.vendor_id, vendor.name, vendor.access_token)
    now = bulk.moment(orders) + dt.timedelta(hours=1)
    (located,) = sync_square_locations(warehouse, settings, now)
    assert located.status == "ok", located.error
    first, last = (START - dt.timedelta(days=1)).date(), now.date()
    rss_before = _peak_rss_mb()
    cpu_before = time.process_time()
    began = time.perf_counter()
    (result,) = sync_square_orders(warehouse, settings, first, last, now)
    seconds = time.perf_counter() - began
    cpu = time.process_time() - cpu_before
    assert result.status == "ok", result.error
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": cpu,
                "lines": result.rows,
                "peak_rss_mb": _peak_rss_mb(),
                "rss_before_mb": rss_before,
            }
        ),
        flush=True,
    )


def _peak_rss_mb() -> float:
    """This process's own peak resident memory. Not ru_maxrss: Linux carries the parent's peak
    across the exec of a child, so after the 100k run the 1M ingest would report the bench
    process's peak (it parsed 100k orders for the write path) instead of its own."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status: peak RSS is measured on Linux only")


def write_path(orders: int) -> float:
    """Seconds `write_batch` takes for `orders` orders, parsed into batches beforehand."""
    from marketprep.ingest.square_orders import BATCH_ORDERS, Batch, write_batch
    from marketprep.settings import parse_warehouse_url
    from marketprep.warehouse import Warehouse
    from sources.square_parse import parse_order

    bulk = _bulk(orders)
    zones = {bulk.location_id: bulk.vendor.locations[0]["timezone"]}
    now = dt.datetime.now(dt.UTC)
    with scratch_database("marketprep_bench") as url:
        warehouse = Warehouse(parse_warehouse_url(url))
        seconds = 0.0
        with warehouse.connected():
            for start in range(0, orders, BATCH_ORDERS):
                parsed = [
                    parse_order(bulk.order(i), zones)
                    for i in range(start, min(orders, start + BATCH_ORDERS))
                ]
                batch = Batch.of(bulk.vendor.vendor_id, parsed, [], now)
                began = time.perf_counter()
                write_batch(warehouse, batch)
                seconds += time.perf_counter() - began
        return seconds


def _child(*args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, __file__, "--child", *args], text=True, stdout=subprocess.PIPE, **popen
    )


def copy_baseline(url: str, folder: Path) -> dict[str, float]:
    """Export what the ingest wrote to CSV files, then time COPY of them into empty twins."""
    timings = {}
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("create schema copy_twin")
        for table in TABLES:
            name = table.split(".")[1]
            path = folder / f"{name}.csv"
            with (
                path.open("wb") as out,
                connection.cursor().copy(f"copy {table} to stdout (format csv)") as copy,
            ):
                for chunk in copy:
                    out.write(chunk)
            connection.execute(f"create table copy_twin.{name} (like {table} including all)")
            connection.execute("checkpoint")
            began = time.perf_counter()
            with (
                connection.transaction(),
                path.open("rb") as source,
                connection.cursor().copy(f"copy copy_twin.{name} from stdin (format csv)") as copy,
            ):
                while chunk := source.read(1 << 20):
                    copy.write(chunk)
            timings[name] = time.perf_counter() - began
            timings[f"{name}_mb"] = path.stat().st_size / 1e6
    return timings


def _ingest_and_copy(url: str, lines: int) -> tuple[dict, dict, dict, dict]:
    """The ingest of `lines` line items from a fake Square into `url`, then the COPY baseline of
    what it wrote: (COPY timings, the ingest's figures, the fake's CPU, the fake's start)."""
    server = _child("serve", str(lines), stdin=subprocess.PIPE)
    try:
        started = json.loads(server.stdout.readline())
        with tempfile.TemporaryDirectory() as folder:
            run = _child("ingest", started["url"], url, str(started["orders"]), folder)
            measured = json.loads(run.stdout.readline())
            if run.wait() != 0:
                raise RuntimeError("the ingest process failed; its error is above")
            # The fake's CPU competes with the ingest for the same cores; reported, not removed.
            server.stdin.write("cpu\n")
            server.stdin.flush()
            served = json.loads(server.stdout.readline())
            copied = copy_baseline(url, Path(folder))
    finally:
        server.stdin.close()
        server.wait(timeout=60)
    return copied, measured, served, started


def measure(lines: int) -> dict:
    with scratch_database("marketprep_bench") as url:
        copied, measured, served, started = _ingest_and_copy(url, lines)
    copy_seconds = copied["square_orders"] + copied["square_order_line_items"]
    writes = write_path(started["orders"])
    return {
        "write_s": writes,
        "write_ratio": copy_seconds / writes,
        "lines": measured["lines"],
        "orders": started["orders"],
        "ingest_s": measured["seconds"],
        "ingest_lines_per_s": measured["lines"] / measured["seconds"],
        "ingest_cpu_s": measured["cpu_seconds"],
        "copy_s": copy_seconds,
        "copy_lines_only_s": copied["square_order_line_items"],
        "copy_lines_per_s": measured["lines"] / copy_seconds,
        "csv_mb": copied["square_orders_mb"] + copied["square_order_line_items_mb"],
        "ratio": copy_seconds / measured["seconds"],
        "peak_rss_mb": measured["peak_rss_mb"],
        "rss_before_mb": measured["rss_before_mb"],
        "server_cpu_s": served["cpu_seconds"] - started["cpu_seconds"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", default="100000,1000000", help="comma-separated sizes")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    # bench/run_all.py hands every script the same arguments; the others' are not ours.
    args, _ = parser.parse_known_args()
    if args.child:
        role, *rest = args.child
        if role == "serve":
            serve(int(rest[0]))
        else:
            ingest(rest[0], rest[1], int(rest[2]), rest[3])
        return 0
    load = os.getloadavg()[0]
    print(f"Square ingestion vs COPY on PostgreSQL (load average {load:.1f} at start)")
    print(
        "| line items | orders | ingest | ingest lines/s | COPY (orders + lines) | COPY lines/s "
        "| ratio | write path alone | ingest peak RSS | ingest CPU | fake Square CPU |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for size in (int(s) for s in args.lines.split(",")):
        r = measure(size)
        print(
            f"| {r['lines']:,} | {r['orders']:,} | {r['ingest_s']:.1f} s "
            f"| {r['ingest_lines_per_s']:,.0f} | {r['copy_s']:.1f} s "
            f"(lines alone {r['copy_lines_only_s']:.1f} s; {r['csv_mb']:,.0f} MB of CSV) "
            f"| {r['copy_lines_per_s']:,.0f} | {r['ratio']:.2f} "
            f"| {r['write_s']:.1f} s, ratio {r['write_ratio']:.2f} "
            f"| {r['peak_rss_mb']:.0f} MB ({r['rss_before_mb']:.0f} MB before the sync) "
            f"| {r['ingest_cpu_s']:.1f} s ({r['ingest_cpu_s'] / r['orders'] * 1e6:.0f} µs/order) "
            f"| {r['server_cpu_s']:.1f} s |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
