"""docs/data_dictionary.md is the contracts rendered: it never drifts from them."""

from __future__ import annotations

from data_contracts import all_contracts
from data_contracts.dictionary import DICTIONARY, render


def test_committed_dictionary_matches_the_contracts():
    assert DICTIONARY.read_text() == render(), (
        "docs/data_dictionary.md is out of date: run `uv run python -m data_contracts.dictionary`"
    )


def test_every_contracted_table_and_column_is_documented():
    text = render()
    for contract in all_contracts().values():
        assert f"### `{contract.table}`" in text
        for column in contract.columns:
            assert f"| `{column.name}` | {column.type} |" in text
