"""The dbt YAML of the contracted tables is generated from the contracts and never drifts from them.

Each contract rule becomes the dbt constraint or test that checks it; a rule dbt cannot check is
an error, not a silent gap.
"""

from __future__ import annotations

import shutil

import pytest
import yaml

import data_contracts.dbt as dbt_yaml
from data_contracts import _parse, all_contracts, contract
from marketprep.warehouse import SQL_TYPES


def test_committed_dbt_yaml_matches_the_contracts():
    assert dbt_yaml.drift() == [], "run `uv run python -m data_contracts.dbt`"


def test_every_contracted_dbt_model_and_source_is_generated():
    files = dbt_yaml.render()
    for table in all_contracts().values():
        if table.dbt_model:
            path = dbt_yaml.model_sql(table.dbt_model).with_suffix(".yml")
            assert yaml.safe_load(files[path])["models"][0]["name"] == table.dbt_model
    sources = yaml.safe_load(files[dbt_yaml.SOURCES_FILE])["sources"][0]["tables"]
    assert [s["name"] for s in sources] == sorted(
        c.name for c in all_contracts().values() if c.dbt_source
    )


def test_generated_files_say_what_they_are_generated_from():
    for path, text in dbt_yaml.render().items():
        first = text.splitlines()[0]
        assert first.startswith("# Generated from data_contracts/tables/"), path
        assert "edit the contract, not this file" in first


@pytest.fixture
def project_copy(tmp_path, monkeypatch):
    """The dbt models folder copied to tmp_path, with the generator pointed at the copy."""
    models = tmp_path / "dbt_project" / "models"
    shutil.copytree(dbt_yaml.MODELS_DIR, models)
    monkeypatch.setattr(dbt_yaml, "DBT_PROJECT", tmp_path / "dbt_project")
    monkeypatch.setattr(dbt_yaml, "MODELS_DIR", models)
    monkeypatch.setattr(dbt_yaml, "SOURCES_FILE", models / "staging" / "__sources.yml")
    return models


def test_check_fails_on_a_hand_edit_and_on_a_stale_file_then_regenerating_fixes_both(
    project_copy, capsys
):
    edited = project_copy / "marts" / "feature_product_market_day.yml"
    edited.write_text(edited.read_text().replace("data_type: date", "data_type: timestamp"))
    stale = project_copy / "marts" / "dim_gone.yml"
    stale.write_text(dbt_yaml.GENERATED.format(sources="x") + "\nmodels: []\n")
    hand_written = project_copy / "intermediate" / "int_sale_lines.yml"
    before = hand_written.read_text()

    assert dbt_yaml.main(["--check"]) == 1
    said = capsys.readouterr().out
    assert "models/marts/feature_product_market_day.yml is out of date" in said
    assert "models/marts/dim_gone.yml was generated from a contract that is gone" in said

    assert dbt_yaml.main([]) == 0
    assert dbt_yaml.main(["--check"]) == 0
    assert not stale.exists()
    assert hand_written.read_text() == before  # hand-written YAML is left alone


CONTRACT = """
table: marts.things
description: One row per thing.
owner: transform
dbt_model: things
primary_key: [vendor_id, thing_id]
unique:
  - [thing_id]
  - [vendor_id, made_at]
ordered:
  - [first_at, last_at]
max_row_drop: 0.25
columns:
  - {name: vendor_id, type: string, nullable: false, description: Vendor.}
  - {name: thing_id, type: string, nullable: false, description: Thing.}
  - {name: market_id, type: string, nullable: true, references: marts.dim_markets.market_id, description: Market.}
  - {name: is_future, type: bool, nullable: false, description: Upcoming.}
  - {name: units, type: float64, nullable: true, min: 0, required_when: {is_future: false}, description: Units.}
  - {name: share, type: float64, nullable: true, min: 0, max: 1, description: Share.}
  - {name: weekday, type: int32, nullable: true, values: [1, 7], description: Weekday.}
  - {name: source, type: string, nullable: true, values: [a, b], description: Source.}
  - {name: made_at, type: timestamp_tz, nullable: true, description: Made.}
  - {name: first_at, type: timestamp_tz, nullable: true, description: First.}
  - {name: last_at, type: timestamp_tz, nullable: true, description: Last.}
"""


@pytest.fixture
def things(tmp_path):
    path = tmp_path / "marts.things.yaml"
    path.write_text(CONTRACT)
    return _parse(path)


def test_each_contract_rule_becomes_its_dbt_constraint_or_test(things):
    model = dbt_yaml.model_properties(things)["models"][0]
    columns = {c["name"]: c for c in model["columns"]}

    assert model["config"]["contract"] == {"enforced": True}
    assert model["description"] == "One row per thing."
    assert [c["name"] for c in model["columns"]] == things.column_names
    assert columns["vendor_id"]["constraints"] == [{"type": "not_null"}]
    assert "constraints" not in columns["units"]
    assert columns["units"]["data_tests"] == [
        {"not_null": {"config": {"where": "is_future = false"}}},
        "non_negative",
    ]
    assert columns["thing_id"]["data_tests"] == ["unique"]
    assert columns["market_id"]["data_tests"] == [
        {"relationships": {"arguments": {"to": "ref('dim_markets')", "field": "market_id"}}}
    ]
    assert columns["share"]["data_tests"] == [
        {"accepted_range": {"arguments": {"min_value": 0, "max_value": 1}}}
    ]
    assert columns["weekday"]["data_tests"] == [
        {"accepted_values": {"arguments": {"values": [1, 7], "quote": False}}}
    ]
    assert columns["source"]["data_tests"] == [
        {"accepted_values": {"arguments": {"values": ["a", "b"]}}}
    ]
    assert model["data_tests"] == [
        {
            "unique_combination_of_columns": {
                "arguments": {"combination_of_columns": ["vendor_id", "thing_id"]}
            }
        },
        {
            "unique_combination_of_columns": {
                "arguments": {"combination_of_columns": ["vendor_id", "made_at"]},
                "config": {"where": "made_at is not null"},  # as the GX suites skip them
            }
        },
        {"non_decreasing_columns": {"arguments": {"columns": ["first_at", "last_at"]}}},
        {
            "row_count_not_dropped": {
                "name": "row_count_not_dropped_things",
                "arguments": {"counted": "ref('things')", "max_drop": 0.25},
            }
        },
    ]
    # the test reads what the post-hook records after every build
    assert model["config"]["post_hook"] == dbt_yaml.RECORD_ROW_COUNT
    assert all("__row_counts" in hook for hook in dbt_yaml.RECORD_ROW_COUNT)


def test_data_types_are_the_warehouse_sql_types(things):
    model = dbt_yaml.model_properties(things)["models"][0]

    assert {c["name"]: c["data_type"] for c in model["columns"]} == {
        c.name: SQL_TYPES[c.type] for c in things.columns
    }
    assert SQL_TYPES["string"] == "text" and SQL_TYPES["timestamp_tz"] == "timestamptz"


def test_a_json_schema_on_a_dbt_model_is_refused(tmp_path):
    path = tmp_path / "marts.things.yaml"
    path.write_text(
        "table: marts.things\ndbt_model: things\ncolumns:\n"
        "  - {name: payload, type: json, nullable: false, json_schema: {type: object}}\n"
    )

    with pytest.raises(ValueError, match="marts.things.payload: dbt cannot check a JSON Schema"):
        dbt_yaml.model_properties(_parse(path))


@pytest.mark.parametrize(
    ("references", "message"),
    [
        ("raw.square_orders.order_id", "raw.square_orders, which is not a dbt model"),
        ("marts.nope.market_id", "marts.nope.market_id, which has no contract"),
        ("marts.dim_markets.nope", "marts.dim_markets.nope: no such column"),
    ],
)
def test_a_reference_must_name_a_column_of_a_contracted_dbt_model(tmp_path, references, message):
    path = tmp_path / "marts.things.yaml"
    path.write_text(
        "table: marts.things\ndbt_model: things\ncolumns:\n"
        f"  - {{name: x, type: string, nullable: true, references: {references}}}\n"
    )

    with pytest.raises(ValueError, match=message):
        dbt_yaml.model_properties(_parse(path))


def test_source_freshness_is_the_contracts_freshness_rule():
    catalog = contract("raw.square_catalog")
    tables = {
        t["name"]: t
        for t in dbt_yaml.sources_properties([catalog, contract("raw.square_orders")])["sources"][
            0
        ]["tables"]
    }

    assert tables["square_catalog"]["config"] == {
        "loaded_at_field": catalog.audit.freshness.column,
        "freshness": {
            "error_after": {"count": int(catalog.audit.freshness.max_age_hours), "period": "hour"}
        },
    }
    assert "config" not in tables["square_orders"]  # no freshness rule, none invented
    assert [c["name"] for c in tables["square_orders"]["columns"]] == contract(
        "raw.square_orders"
    ).column_names
