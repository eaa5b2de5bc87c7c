"""The warehouse API on both backends: replace semantics, atomicity, types and `?` parameters."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pandas as pd
import psycopg
import pytest
from contract_factory import make_contract

from data_contracts import LOGICAL_TYPES
from marketprep.warehouse import ARROW_TYPES, SQL_TYPES, ContractViolation, to_arrow

LA = ZoneInfo("America/Los_Angeles")


SAMPLES = make_contract(
    "unit_test.samples",
    ("sample_id", "string", False),
    ("vendor_id", "string", False),
    ("quantity", "decimal", False),
    ("sold_at", "timestamp_tz", False),
    ("market_date", "date", False),
    ("is_deleted", "bool", False),
    ("rank", "int32", True),
    ("amount", "int64", True),
    ("precip_mm", "float64", True),
    ("note", "string", True),
    ("payload", "json", True),
    key=("sample_id",),
)
TALLIES = make_contract(
    "unit_test.tallies",
    ("vendor_id", "string", False),
    ("units", "int64", False),
    key=("vendor_id",),
)
DUPLICATE_KEY = (duckdb.ConstraintException, psycopg.errors.UniqueViolation)


def sample(sample_id: str, vendor_id: str = "farm-a", **values) -> dict:
    row = {
        "sample_id": sample_id,
        "vendor_id": vendor_id,
        "quantity": Decimal("1.5"),
        "sold_at": dt.datetime(2026, 6, 6, 9, 30, tzinfo=LA),
        "market_date": dt.date(2026, 6, 6),
        "is_deleted": False,
        "rank": 3,
        "amount": 450,
        "precip_mm": 0.0,
        "note": "ok",
        "payload": "{}",
    }
    return row | values


def plain(value):
    """A value read back, as the Python object it stands for (NaN/NaT -> None, numpy -> builtin)."""
    if value is None or (isinstance(value, float | np.floating | type(pd.NaT)) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    return value


def read(warehouse, table: str, order_by: str) -> list[dict]:
    frame = warehouse.query(f"select * from {table} order by {order_by}")
    return [{k: plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def test_every_logical_type_has_arrow_and_sql_types():
    assert set(ARROW_TYPES) == set(LOGICAL_TYPES) == set(SQL_TYPES)


def test_types_round_trip(warehouse):
    rows = [
        sample(
            "s1",
            quantity=Decimal("1234567890123.12345"),  # 18 digits: a float would lose the tail
            sold_at=dt.datetime(2026, 6, 6, 23, 59, 59, 123456, tzinfo=LA),
            market_date=dt.date(2026, 6, 6),
            is_deleted=True,
            rank=100,
            amount=2**40,
            precip_mm=12.25,
            note="Heirloom tomatoes, 1 lb",
            payload='{"rain": -0.15}',
        ),
        sample(
            "s2",
            quantity=Decimal("0.00001"),
            is_deleted=False,
            rank=None,
            amount=None,
            precip_mm=None,
            note=None,
            payload=None,
        ),
    ]

    warehouse.replace(SAMPLES, rows)
    back = read(warehouse, SAMPLES.table, "sample_id")

    assert back == rows  # datetimes compare as instants, across time zones
    assert [type(r["quantity"]) for r in back] == [Decimal, Decimal]
    assert back[0]["sold_at"].utcoffset() is not None
    assert type(back[0]["market_date"]) is dt.date
    assert [r["is_deleted"] for r in back] == [True, False]


def test_replace_twice_gives_the_same_rows(warehouse):
    rows = [sample("s1"), sample("s2"), sample("s3", vendor_id="farm-b")]

    warehouse.replace(SAMPLES, rows)
    first = read(warehouse, SAMPLES.table, "sample_id")
    written = warehouse.replace(SAMPLES, rows)

    assert written == 3
    assert read(warehouse, SAMPLES.table, "sample_id") == first
    assert len(first) == 3


def test_replace_without_where_replaces_the_whole_table(warehouse):
    warehouse.replace(SAMPLES, [sample("s1"), sample("s2", vendor_id="farm-b")])

    warehouse.replace(SAMPLES, [sample("s9")])

    assert [r["sample_id"] for r in read(warehouse, SAMPLES.table, "sample_id")] == ["s9"]


def test_scoped_replace_only_touches_its_rows(warehouse):
    warehouse.replace(SAMPLES, [sample("a1"), sample("a2"), sample("b1", vendor_id="farm-b")])

    warehouse.replace(SAMPLES, [sample("a3", amount=999)], where="vendor_id = ?", params=["farm-a"])

    back = read(warehouse, SAMPLES.table, "sample_id")
    assert [(r["sample_id"], r["vendor_id"]) for r in back] == [("a3", "farm-a"), ("b1", "farm-b")]
    assert back[1] == sample("b1", vendor_id="farm-b")


def test_replace_many_rolls_back_every_table_when_an_insert_fails(warehouse):
    warehouse.replace_many(
        [(SAMPLES, [sample("s1")]), (TALLIES, [{"vendor_id": "farm-a", "units": 1}])]
    )
    before = read(warehouse, SAMPLES.table, "sample_id")

    duplicate_key = [{"vendor_id": "farm-a", "units": 2}, {"vendor_id": "farm-a", "units": 3}]
    with pytest.raises(DUPLICATE_KEY):
        warehouse.replace_many([(SAMPLES, [sample("s2"), sample("s3")]), (TALLIES, duplicate_key)])

    assert read(warehouse, SAMPLES.table, "sample_id") == before
    assert read(warehouse, TALLIES.table, "vendor_id") == [{"vendor_id": "farm-a", "units": 1}]


def test_replace_many_writes_nothing_when_a_later_table_breaks_itsmake_contract(warehouse):
    warehouse.replace(SAMPLES, [sample("s1")])

    with pytest.raises(ContractViolation, match="unit_test.tallies.units"):
        warehouse.replace_many(
            [(SAMPLES, [sample("s2")]), (TALLIES, [{"vendor_id": "farm-a", "units": None}])]
        )

    assert [r["sample_id"] for r in read(warehouse, SAMPLES.table, "sample_id")] == ["s1"]


def test_null_in_non_nullable_column_names_table_and_column(warehouse):
    with pytest.raises(ContractViolation, match=r"unit_test\.samples\.market_date is not nullable"):
        warehouse.replace(SAMPLES, [sample("s1"), sample("s2", market_date=None)])


def test_missing_column_is_named():
    row = sample("s1")
    del row["quantity"]

    with pytest.raises(
        ContractViolation, match=r"unit_test\.samples: rows lack column\(s\) \['quantity'\]"
    ):
        to_arrow(SAMPLES, pd.DataFrame([row]))


@pytest.mark.parametrize(
    ("column", "value"),
    [("amount", "450 cents"), ("quantity", 1.5), ("amount", 7.5), ("rank", 2**40)],
    ids=["text-in-int", "float-in-decimal", "fraction-in-int", "overflow-int32"],
)
def test_value_that_does_not_fit_its_type_is_named(column, value):
    """Checked before any connection opens, so the same on both backends."""
    with pytest.raises(
        ContractViolation, match=rf"unit_test\.samples\.{column}: values do not fit"
    ):
        to_arrow(SAMPLES, [sample("s1", **{column: value})])


def test_whole_floats_in_an_int_column_are_ints():
    """pandas turns an int column with a gap into floats; those must still load as ints."""
    frame = pd.DataFrame([sample("s1", amount=450), sample("s2", amount=None)])
    assert frame["amount"].dtype == "float64"

    assert to_arrow(SAMPLES, frame).column("amount").to_pylist() == [450, None]


def test_query_with_question_mark_params(warehouse):
    warehouse.replace(
        SAMPLES,
        [
            sample("s1", amount=100),
            sample("s2", amount=500),
            sample("s3", vendor_id="farm-b", amount=900),
        ],
    )

    found = warehouse.query(
        "select sample_id from unit_test.samples where vendor_id = ? and amount > ?"
        " order by sample_id",
        ["farm-a", 200],
    )

    assert found["sample_id"].tolist() == ["s2"]


def test_query_with_literal_percent(warehouse):
    warehouse.replace(SAMPLES, [sample("s1", note="apples"), sample("s2", note="pears")])

    like = warehouse.query("select sample_id from unit_test.samples where note like 'a%'")
    with_params = warehouse.query(
        "select sample_id, '50%' as share from unit_test.samples where note like ?", ["p%"]
    )
    without_params = warehouse.query("select '50%' as share")

    assert like["sample_id"].tolist() == ["s1"]
    assert with_params.to_dict("records") == [{"sample_id": "s2", "share": "50%"}]
    assert without_params["share"].tolist() == ["50%"]


def test_session_rolls_back_on_error(warehouse):
    warehouse.replace(SAMPLES, [sample("s1")])

    with pytest.raises(RuntimeError), warehouse.session() as session:
        session.execute("delete from unit_test.samples")
        raise RuntimeError("stop half-way")

    assert len(warehouse.query("select * from unit_test.samples")) == 1
