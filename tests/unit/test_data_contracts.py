"""Data contracts: every YAML parses, columns_from copies columns, and malformed files are named."""

from __future__ import annotations

import pytest

from data_contracts import CONTRACTS_DIR, LOGICAL_TYPES, _parse, all_contracts, contract

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


def test_columns_from_copies_the_other_tables_columns():
    serving = contract("serving.recommendations")
    staging = contract("forecast.recommendations")

    assert serving.columns == staging.columns
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
