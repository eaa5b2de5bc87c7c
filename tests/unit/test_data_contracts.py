"""Data contracts: every YAML parses, columns_from copies columns, and malformed files are named."""

from __future__ import annotations

import pytest

from data_contracts import (
    CONTRACTS_DIR,
    LOGICAL_TYPES,
    _parse,
    all_contracts,
    audited_contracts,
    contract,
)

CONTRACT_FILES = sorted(CONTRACTS_DIR.glob("*.yaml"))

GOOD_COLUMNS = """\
columns:
  - {name: vendor_id, type: string, nullable: false}
  - {name: units, type: int64, nullable: true}
"""


@pytest.mark.parametrize("path", CONTRACT_FILES, ids=lambda p: p.stem)
def test_every_contract_parses_and_is_named_after_its_table(path):
    parsed = _parse(path)

    assert parsed.table == path.stem  # columns_from and contract() look files up by table name
    assert parsed.columns, "a contract without columns creates an unusable table"
    assert all(c.type in LOGICAL_TYPES for c in parsed.columns)
    assert set(parsed.primary_key) <= set(parsed.column_names)
    assert parsed.partition_column is None or parsed.partition_column in parsed.column_names


def test_all_contracts_holds_every_file():
    assert sorted(all_contracts()) == [p.stem for p in CONTRACT_FILES]


def test_columns_from_copies_the_other_tables_columns_then_adds_its_own():
    serving = contract("serving.recommendations")
    staging = contract("forecast.recommendations")

    assert serving.columns[: len(staging.columns)] == staging.columns
    assert serving.column_names[len(staging.columns) :] == ["is_stale", "stale_reason"]
    assert contract("serving.recommendation_history").column_names == [
        *serving.column_names,
        "version",
    ]
    assert serving.primary_key == ("vendor_id", "market_id", "market_date", "product_id")
    assert serving.schema == "serving"


def test_unknown_table_lists_the_known_ones():
    with pytest.raises(KeyError, match="no contract for table 'raw.nope'.*raw.vendors"):
        contract("raw.nope")


def test_a_good_temp_contract_parses(tmp_path):
    path = tmp_path / "raw.things.yaml"
    path.write_text("table: raw.things\nprimary_key: [vendor_id]\n" + GOOD_COLUMNS)

    parsed = _parse(path)

    assert parsed.column_names == ["vendor_id", "units"]
    assert [c.nullable for c in parsed.columns] == [False, True]


def test_unknown_type_raises_with_file_name(tmp_path):
    path = tmp_path / "raw.things.yaml"
    path.write_text(
        "table: raw.things\ncolumns:\n  - {name: weight, type: float32, nullable: false}\n"
    )

    with pytest.raises(
        ValueError, match=r"raw\.things\.yaml: column weight has unknown type 'float32'"
    ):
        _parse(path)


def test_primary_key_on_undeclared_column_raises_with_file_name(tmp_path):
    path = tmp_path / "raw.things.yaml"
    path.write_text("table: raw.things\nprimary_key: [vendor_id, product_id]\n" + GOOD_COLUMNS)

    with pytest.raises(ValueError, match=r"raw\.things\.yaml: primary key column 'product_id'"):
        _parse(path)


def test_quality_fields_parse(tmp_path):
    path = tmp_path / "raw.things.yaml"
    path.write_text(
        "table: raw.things\nprimary_key: [vendor_id, thing_id]\n"
        "unique:\n  - [vendor_id, made_at]\nordered:\n  - [low, high]\n"
        "audit:\n  subject: vendor_id\n  window: partition\n"
        "  freshness: {column: made_at, max_age_hours: 26, max_lag_hours: 1}\n"
        "columns:\n"
        "  - {name: vendor_id, type: string, nullable: false}\n"
        "  - {name: thing_id, type: string, nullable: false}\n"
        "  - {name: kind, type: string, nullable: false, values: [a, b]}\n"
        "  - {name: low, type: int64, nullable: true, min: 0, required_when: {kind: a}}\n"
        "  - {name: high, type: int64, nullable: true, max: 100}\n"
        "  - {name: payload, type: json, nullable: false, json_schema: {type: object}}\n"
        "  - {name: made_at, type: timestamp_tz, nullable: false}\n"
    )

    parsed = _parse(path)

    assert parsed.unique == (("vendor_id", "made_at"),)
    assert parsed.ordered == (("low", "high"),)
    assert (parsed.audit.subject, parsed.audit.window) == ("vendor_id", "partition")
    assert parsed.audit.freshness.max_lag_hours == 1
    assert parsed.column("kind").values == ("a", "b")
    assert parsed.column("low").required_when == (("kind", "a"),)
    assert (parsed.column("low").min, parsed.column("high").max) == (0, 100)
    assert parsed.column("payload").json_schema == {"type": "object"}


@pytest.mark.parametrize(
    ("column", "message"),
    [
        ("{name: x, type: string, nullable: false, min: 0}", "has a range but type string"),
        ("{name: x, type: int64, nullable: false, json_schema: {}}", "json_schema but type int64"),
        # an unquoted comma in a flow mapping splits the description into junk keys
        ("{name: x, type: string, nullable: false, description: a, b}", "unknown key"),
        ("{name: x, type: string, nullable: true, required_when: {y: 1}}", "unknown 'y'"),
    ],
)
def test_malformed_quality_fields_name_the_file(tmp_path, column, message):
    path = tmp_path / "raw.things.yaml"
    path.write_text(f"table: raw.things\ncolumns:\n  - {column}\n")

    with pytest.raises(ValueError, match=message):
        _parse(path)


def test_audit_subject_must_be_a_column(tmp_path):
    path = tmp_path / "raw.things.yaml"
    path.write_text("table: raw.things\naudit: {subject: market_id}\n" + GOOD_COLUMNS)

    with pytest.raises(ValueError, match="audit subject 'market_id' is not a column"):
        _parse(path)


def test_every_audited_table_names_who_its_rows_belong_to():
    for audited in audited_contracts():
        assert audited.audit.subject in ("vendor_id", "market_id"), audited.table
        assert audited.owner, audited.table


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("owners: ingest\n", r"unknown key\(s\) \['owners'\]"),  # a typo would silently do nothing
        ("dbt_model: things\nmax_row_drop: 1.5\n", "max_row_drop must be a fraction"),
        ("max_row_drop: 0.5\n", "max_row_drop is checked by dbt, so it needs a dbt_model"),
    ],
)
def test_malformed_table_fields_name_the_file(tmp_path, text, message):
    path = tmp_path / "raw.things.yaml"
    path.write_text("table: raw.things\n" + text + GOOD_COLUMNS)

    with pytest.raises(ValueError, match=message):
        _parse(path)


def test_a_reference_names_schema_table_and_column(tmp_path):
    path = tmp_path / "raw.things.yaml"
    path.write_text(
        "table: raw.things\ncolumns:\n"
        "  - {name: x, type: string, nullable: true, references: marts.dim_markets}\n"
    )

    with pytest.raises(ValueError, match="not schema.table.column"):
        _parse(path)
