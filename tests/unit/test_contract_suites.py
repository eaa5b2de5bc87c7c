"""Great Expectations suites from the contracts: each rule catches its bad rows and names whose
rows they are; clean frames pass; nothing reaches the network."""

from __future__ import annotations

import datetime as dt
import json
import socket
from decimal import Decimal

import pandas as pd
import pytest

from data_contracts import _parse, contract
from data_contracts.gx import expectation_suite, validate

RECOMMENDATIONS = contract("forecast.recommendations")
T = dt.datetime(2026, 6, 6, 17, 0, tzinfo=dt.UTC)
# A contract of our own, shaped like raw.square_orders, so these tests do not move when the
# ingest owners tune the real one.
ORDERS_YAML = """
table: raw.test_orders
owner: test
primary_key: [vendor_id, order_id]
partition_column: market_date
unique:
  - [vendor_id, location_id, closed_at, total_amount]
audit: {subject: vendor_id, window: partition}
columns:
  - {name: vendor_id, type: string, nullable: false}
  - {name: order_id, type: string, nullable: false}
  - {name: order_version, type: int64, nullable: false, min: 0}
  - {name: location_id, type: string, nullable: false}
  - {name: state, type: string, nullable: false, values: [OPEN, COMPLETED, CANCELED, DRAFT]}
  - {name: created_at, type: timestamp_tz, nullable: false}
  - {name: updated_at, type: timestamp_tz, nullable: false}
  - {name: closed_at, type: timestamp_tz, nullable: true, required_when: {state: COMPLETED}}
  - {name: market_date, type: date, nullable: false}
  - {name: total_amount, type: int64, nullable: true, min: 0}
  - {name: currency, type: string, nullable: true}
  - {name: raw_payload, type: json, nullable: false, json_schema: {type: object, required: [id, total_money]}}
  - {name: ingested_at, type: timestamp_tz, nullable: false}
"""


@pytest.fixture(scope="module")
def orders_contract(tmp_path_factory):
    path = tmp_path_factory.mktemp("contracts") / "raw.test_orders.yaml"
    path.write_text(ORDERS_YAML)
    return _parse(path)


def order(vendor: str, n: int, **overrides) -> dict:
    payload = {
        "id": f"{vendor}-{n}",
        "location_id": "L1",
        "state": "COMPLETED",
        "created_at": "2026-06-06T17:00:00Z",
        "updated_at": "2026-06-06T17:00:00Z",
        "total_money": {"amount": 500, "currency": "USD"},
        "line_items": [{"uid": "a", "quantity": "1"}],
    }
    row = {
        "vendor_id": vendor,
        "order_id": f"{vendor}-{n}",
        "order_version": 1,
        "location_id": "L1",
        "state": "COMPLETED",
        "created_at": T,
        "updated_at": T,
        "closed_at": T + dt.timedelta(minutes=n),
        "market_date": T.date(),
        "total_amount": 500,
        "currency": "USD",
        "raw_payload": json.dumps(payload),
        "ingested_at": T,
    }
    return row | overrides


def orders(*rows: dict) -> pd.DataFrame:
    good = [order(v, n) for v in ("ann", "bob") for n in range(3)]
    return pd.DataFrame([*good, *rows])


def problems_of(frame: pd.DataFrame, table_contract) -> dict[str, list[str]]:
    return validate(table_contract, frame).by_subject()


def test_clean_rows_pass(orders_contract):
    validation = validate(orders_contract, orders())

    assert validation.problems == []
    assert validation.rows == 6 and validation.expectations > 10


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        (order("cid", 1, state="SHIPPED"), "state not one of"),
        (order("cid", 1, total_amount=-5), "total_amount below 0"),
        (order("cid", 1, closed_at=None), "closed_at is null where state = COMPLETED"),
        (order("cid", 1, raw_payload='{"id": "x"}'), "raw_payload does not match its JSON schema"),
        (order("cid", 1, raw_payload="not json"), "raw_payload does not match its JSON schema"),
        (order("cid", 1, location_id=None), "location_id is null"),
    ],
)
def test_each_rule_names_the_vendor_whose_rows_break_it(orders_contract, bad, says):
    found = problems_of(orders(bad, order("cid", 2)), orders_contract)

    assert list(found) == ["cid"]
    assert any(p.startswith(says) for p in found["cid"]), found


def test_open_orders_need_no_close_time(orders_contract):
    assert problems_of(orders(order("cid", 1, state="OPEN", closed_at=None)), orders_contract) == {}


def test_duplicated_primary_key_and_duplicated_sale_are_caught(orders_contract):
    again = order("bob", 0)  # the same order twice
    offline_copy = order("cid", 1) | {"order_id": "cid-1-copy"}  # one sale, two order ids

    found = problems_of(orders(again, order("cid", 1), offline_copy), orders_contract)

    assert sorted(found) == ["bob", "cid"]
    assert any("(vendor_id, order_id) not unique" in p for p in found["bob"])
    assert any(
        "(vendor_id, location_id, closed_at, total_amount) not unique" in p for p in found["cid"]
    )


def test_ordered_columns():
    row = {
        "vendor_id": "ann",
        "market_id": "m",
        "market_date": T.date(),
        "product_id": "p",
        "product_name": "Bread",
        "recommended_units": 12,
        "units_low": 14,
        "units_high": 20,
        "service_level": 0.8,
        "model": "prophet",
        "explanation": "usual",
        "published_at": T,
        "run_id": "r",
    }
    frame = pd.DataFrame([row, row | {"vendor_id": "bob", "units_low": 2}])

    assert problems_of(frame, RECOMMENDATIONS) == {
        "ann": ["units_low > recommended_units: 1 row(s)"]
    }


def test_column_drift_is_the_tables_problem_not_a_vendors(orders_contract):
    frame = orders().drop(columns=["currency"]).assign(currency_code="USD")

    validation = validate(orders_contract, frame)

    assert validation.by_subject() == {}
    assert [p.describe() for p in validation.table_problems] == [
        "columns differ from the contract: missing ['currency']; not in the contract ['currency_code']"
    ]


def test_postgres_shaped_values_are_compared_as_numbers(orders_contract):
    """psycopg hands back Decimal for numeric and None for null, in object columns."""
    frame = orders(order("cid", 1, total_amount=Decimal("-1"))).astype(object)
    frame = frame.where(frame.notna(), None)

    assert list(problems_of(frame, orders_contract)) == ["cid"]


def test_suite_lists_the_contract_rules(orders_contract):
    from data_contracts.gx import _context

    _context()
    kinds = [e.expectation_type for e in expectation_suite(orders_contract).expectations]

    assert kinds[0] == "expect_table_columns_to_match_set"
    assert "expect_compound_columns_to_be_unique" in kinds
    assert "expect_column_values_to_be_in_set" in kinds


def test_validation_attempts_no_network(orders_contract, monkeypatch):
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)

    validation = validate(orders_contract, orders(order("cid", 1, total_amount=-5)))

    assert attempts == []
    assert list(validation.by_subject()) == ["cid"]
