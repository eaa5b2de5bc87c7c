"""Warehouse.upsert_many on both backends: newest version wins, children follow their parent,
re-loading is a no-op, and a failed batch leaves nothing behind. Plus what COPY must keep exact."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import duckdb
import psycopg
import pytest
from contract_factory import make_contract

from marketprep.warehouse import ContractViolation

ORDERS = make_contract(
    "unit_test.orders",
    ("vendor_id", "string", False),
    ("order_id", "string", False),
    ("version", "int64", False),
    ("updated_at", "timestamp_tz", False),
    ("note", "string", True),
    key=("vendor_id", "order_id"),
)
LINES = make_contract(
    "unit_test.lines",
    ("vendor_id", "string", False),
    ("order_id", "string", False),
    ("line_uid", "string", False),
    ("units", "int64", False),
    key=("vendor_id", "order_id", "line_uid"),
)
KEY = ("vendor_id", "order_id")
VERSION = ("version", "updated_at")
T0 = dt.datetime(2025, 6, 7, 15, 0, tzinfo=dt.UTC)
DUPLICATE_KEY = (duckdb.ConstraintException, psycopg.errors.UniqueViolation)


def order(order_id: str, version: int, *, vendor: str = "farm-a", minutes: int = 0, note=None):
    return {
        "vendor_id": vendor,
        "order_id": order_id,
        "version": version,
        "updated_at": T0 + dt.timedelta(minutes=minutes),
        "note": note,
    }


def line(order_id: str, uid: str, units: int, *, vendor: str = "farm-a") -> dict:
    return {"vendor_id": vendor, "order_id": order_id, "line_uid": uid, "units": units}


def upsert(warehouse, orders: list[dict], lines: list[dict]) -> dict[str, int]:
    return warehouse.upsert_many([(ORDERS, orders), (LINES, lines)], key=KEY, version=VERSION)


def stored(warehouse) -> tuple[dict, list[tuple]]:
    orders = warehouse.query(
        "select order_id, version, coalesce(note, '<null>') as note from unit_test.orders"
    )
    lines = warehouse.query(
        "select order_id, line_uid, units from unit_test.lines order by order_id, line_uid"
    )
    return (
        {
            r.order_id: (int(r.version), None if r.note == "<null>" else r.note)
            for r in orders.itertuples()
        },
        [(r.order_id, r.line_uid, int(r.units)) for r in lines.itertuples()],
    )


def test_new_keys_are_inserted_and_loading_again_changes_nothing(warehouse):
    batch = (
        [order("A", 1), order("B", 2)],
        [line("A", "1", 3), line("A", "2", 1), line("B", "1", 5)],
    )

    first = upsert(warehouse, *batch)
    before = stored(warehouse)
    again = upsert(warehouse, *batch)

    assert first == again == {"unit_test.orders": 2, "unit_test.lines": 3}
    assert stored(warehouse) == before
    assert before == (
        {"A": (1, None), "B": (2, None)},
        [("A", "1", 3), ("A", "2", 1), ("B", "1", 5)],
    )


def test_a_newer_version_replaces_the_parent_and_all_its_children(warehouse):
    upsert(
        warehouse,
        [order("A", 1), order("B", 1)],
        [line("A", "1", 3), line("A", "2", 1), line("B", "1", 5)],
    )

    upsert(warehouse, [order("A", 2, note="returned one")], [line("A", "1", 2)])

    orders, lines = stored(warehouse)
    assert orders == {"A": (2, "returned one"), "B": (1, None)}
    assert lines == [("A", "1", 2), ("B", "1", 5)]  # line A/2 is gone with version 1


def test_a_stale_version_is_dropped_with_its_children(warehouse):
    upsert(warehouse, [order("A", 3)], [line("A", "1", 9)])

    written = upsert(
        warehouse,
        [order("A", 2, note="late page"), order("C", 1)],
        [line("A", "1", 1), line("A", "7", 1), line("C", "1", 4)],
    )

    assert written == {"unit_test.orders": 1, "unit_test.lines": 1}
    assert stored(warehouse) == ({"A": (3, None), "C": (1, None)}, [("A", "1", 9), ("C", "1", 4)])


def test_equal_versions_are_ordered_by_the_next_version_column(warehouse):
    upsert(warehouse, [order("A", 0, minutes=10, note="imported later")], [line("A", "1", 1)])

    upsert(warehouse, [order("A", 0, minutes=5, note="older")], [line("A", "1", 7)])
    assert stored(warehouse) == ({"A": (0, "imported later")}, [("A", "1", 1)])

    upsert(warehouse, [order("A", 0, minutes=20, note="newer")], [line("A", "1", 7)])
    assert stored(warehouse) == ({"A": (0, "newer")}, [("A", "1", 7)])


def test_other_vendors_with_the_same_order_id_are_untouched(warehouse):
    upsert(warehouse, [order("A", 1, vendor="farm-b")], [line("A", "1", 4, vendor="farm-b")])

    upsert(warehouse, [order("A", 5)], [line("A", "1", 1)])

    rows = warehouse.query("select vendor_id, version from unit_test.orders order by vendor_id")
    assert list(rows.itertuples(index=False, name=None)) == [("farm-a", 5), ("farm-b", 1)]
    assert len(warehouse.query("select * from unit_test.lines")) == 2


def test_a_failing_child_rolls_the_whole_batch_back(warehouse):
    upsert(warehouse, [order("A", 1)], [line("A", "1", 3)])

    with pytest.raises(DUPLICATE_KEY):
        upsert(warehouse, [order("A", 2), order("B", 1)], [line("A", "1", 1), line("A", "1", 2)])
    with pytest.raises(ContractViolation, match="unit_test.lines.units"):
        upsert(warehouse, [order("B", 1)], [line("B", "1", None)])

    assert stored(warehouse) == ({"A": (1, None)}, [("A", "1", 3)])


def test_two_upserts_in_one_session_commit_together(warehouse):
    from marketprep.warehouse import to_arrow

    with warehouse.session() as session:
        session.upsert(
            [
                (ORDERS, to_arrow(ORDERS, [order("A", 1)])),
                (LINES, to_arrow(LINES, [line("A", "1", 1)])),
            ],
            key=KEY,
            version=VERSION,
        )
        session.upsert([(ORDERS, to_arrow(ORDERS, [order("B", 1)]))], key=KEY)

    assert set(stored(warehouse)[0]) == {"A", "B"}


def test_an_empty_batch_creates_the_tables_and_writes_nothing(warehouse):
    assert upsert(warehouse, [], []) == {"unit_test.orders": 0, "unit_test.lines": 0}
    assert stored(warehouse) == ({}, [])


def test_text_survives_copy_exactly(warehouse):
    """PostgreSQL's COPY reads CSV: an empty string must stay '' and never become NULL, and
    quotes, commas, newlines, backslashes and non-ASCII must come back as they went in."""
    notes = ["", None, 'say "hi", then\nleave', "C:\\temp\\.", "\\.", "Œufs – 2 lb", "  "]
    batch = [order(f"N{i}", 1, note=note) for i, note in enumerate(notes)]

    upsert(warehouse, batch, [])

    back = stored(warehouse)[0]
    assert [back[f"N{i}"][1] for i in range(len(notes))] == notes


def test_connected_keeps_transactions_apart_and_frees_the_file_afterwards(warehouse):
    with warehouse.connected():
        upsert(warehouse, [order("A", 1)], [line("A", "1", 1)])
        with pytest.raises(RuntimeError), warehouse.session() as session:
            session.execute("delete from unit_test.orders")
            raise RuntimeError("stop half-way")
        with warehouse.session() as outer:
            outer.execute("delete from unit_test.lines")
            # A session opened inside another gets its own connection and sees committed rows.
            assert len(warehouse.query("select * from unit_test.lines")) == 1
        upsert(warehouse, [order("B", 1)], [])

    assert stored(warehouse) == ({"A": (1, None), "B": (1, None)}, [])
    if warehouse.kind == "duckdb":
        # dbt opens the file from its own process once the ingest is done: it must be free.
        path = warehouse.location.duckdb_path
        script = f"import duckdb; duckdb.connect({str(path)!r}).execute('select 1')"
        subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
