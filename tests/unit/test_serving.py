"""Reading what was published: the prep sheet and the export of serving.recommendations."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest

from data_contracts import contract
from marketprep.serving import export, prep_sheet

SERVING = contract("serving.recommendations")
NEXT_SATURDAY = dt.date(2026, 6, 6)
WEEK_AFTER = dt.date(2026, 6, 13)
PUBLISHED = dt.datetime(2026, 6, 5, 11, 30, tzinfo=dt.UTC)


def published(
    vendor_id: str, market_date: dt.date, product: str, units: tuple[int, int, int]
) -> dict:
    recommended, low, high = units
    return {
        "vendor_id": vendor_id,
        "market_id": "ferry-plaza",
        "market_date": market_date,
        "product_id": product.lower().replace(" ", "-"),
        "product_name": product,
        "recommended_units": recommended,
        "units_low": low,
        "units_high": high,
        "service_level": 0.8,
        "model": "prophet",
        "explanation": f"{product}: usual Saturday",
        "published_at": PUBLISHED,
        "run_id": "run-1",
        "is_stale": False,
        "stale_reason": None,
    }


ROWS = [
    published("sunny-farm", NEXT_SATURDAY, "Heirloom Tomatoes", (24, 18, 30)),
    published("sunny-farm", NEXT_SATURDAY, "Basil", (9, 6, 12)),
    published("sunny-farm", NEXT_SATURDAY, "Peaches", (40, 31, 52)),
    published("sunny-farm", WEEK_AFTER, "Plums", (15, 10, 20)),
    published("bee-happy", NEXT_SATURDAY, "Honey", (70, 60, 80)),
]


@pytest.fixture
def served(duckdb_warehouse):
    """serving.recommendations holding ROWS."""
    duckdb_warehouse.replace(SERVING, ROWS)
    return duckdb_warehouse


@pytest.fixture
def served_anywhere(warehouse):
    """The same, on each backend."""
    warehouse.replace(SERVING, ROWS)
    return warehouse


def sheet_lines(sheet: str) -> dict[str, str]:
    """Product (or Total) -> the rest of its line."""
    table = sheet.split("Why\n", 1)[1]
    return {
        m[1].strip(): m[2] for m in re.finditer(r"^(\S.*?)  +(\d+.*)$", table, flags=re.MULTILINE)
    }


def test_prep_sheet_shows_the_next_market_day_only(served):
    sheet = prep_sheet(served, "sunny-farm")

    assert "sunny-farm at ferry-plaza, Saturday 06 June 2026" in sheet
    assert "Plums" not in sheet
    assert "Honey" not in sheet
    assert set(sheet_lines(sheet)) == {"Heirloom Tomatoes", "Basil", "Peaches", "Total"}


def test_prep_sheet_lists_units_and_range_per_product(served_anywhere):
    lines = sheet_lines(prep_sheet(served_anywhere, "sunny-farm"))

    assert lines["Heirloom Tomatoes"].split()[:2] == ["24", "18-30"]
    assert lines["Basil"].split()[:2] == ["9", "6-12"]
    assert lines["Peaches"].split()[:2] == ["40", "31-52"]
    assert "Basil: usual Saturday" in lines["Basil"]


def test_prep_sheet_total_is_the_sum_of_units(served):
    lines = sheet_lines(prep_sheet(served, "sunny-farm"))

    products = [int(line.split()[0]) for name, line in lines.items() if name != "Total"]
    assert int(lines["Total"]) == sum(products) == 24 + 9 + 40


def test_prep_sheet_says_when_the_numbers_were_held_back(duckdb_warehouse):
    held = [
        row | {"is_stale": True, "stale_reason": "Square sync failed"}
        if row["vendor_id"] == "sunny-farm"
        else row
        for row in ROWS
    ]
    duckdb_warehouse.replace(SERVING, held)

    stale = prep_sheet(duckdb_warehouse, "sunny-farm")
    fresh = prep_sheet(duckdb_warehouse, "bee-happy")

    assert "NOT UPDATED by the latest run" in stale
    assert "Square sync failed" not in stale  # the operators' reason, not the vendor's concern
    assert "NOT UPDATED" not in fresh


def test_prep_sheet_for_a_given_day(served):
    sheet = prep_sheet(served, "sunny-farm", WEEK_AFTER)

    assert set(sheet_lines(sheet)) == {"Plums", "Total"}
    assert "Saturday 13 June 2026" in sheet


def test_prep_sheet_publication_time_is_utc_on_any_machine(served, local_timezone):
    local_timezone("America/Los_Angeles")

    sheet = prep_sheet(served, "sunny-farm")

    assert "published 2026-06-05 11:30 UTC" in sheet
    assert "service level 80%" in sheet


def test_prep_sheet_for_a_day_without_market(served):
    with pytest.raises(LookupError, match="'sunny-farm' has no market on 2026-06-07"):
        prep_sheet(served, "sunny-farm", dt.date(2026, 6, 7))


def test_export_csv_round_trips(served, tmp_path):
    out = tmp_path / "exports" / "sunny-farm.csv"

    written = export(served, "sunny-farm", "csv", out)

    back = pd.read_csv(out)
    assert written == len(back) == 4
    assert list(back.columns) == SERVING.column_names
    assert set(back["vendor_id"]) == {"sunny-farm"}
    assert sorted(zip(back["product_name"], back["recommended_units"], strict=True)) == [
        ("Basil", 9),
        ("Heirloom Tomatoes", 24),
        ("Peaches", 40),
        ("Plums", 15),
    ]
    assert sorted(back["market_date"].unique()) == ["2026-06-06", "2026-06-13"]


def test_export_parquet_round_trips(served_anywhere, tmp_path):
    out = tmp_path / "sunny-farm.parquet"

    written = export(served_anywhere, "sunny-farm", "parquet", out)

    back = pd.read_parquet(out)
    expected = [r for r in ROWS if r["vendor_id"] == "sunny-farm"]
    assert written == len(back) == len(expected)
    key = ["market_date", "product_name"]
    back_rows = back.assign(published_at=back["published_at"].dt.tz_convert("UTC")).sort_values(key)
    expected_rows = (
        pd.DataFrame(expected)
        .assign(published_at=lambda f: pd.to_datetime(f["published_at"]))
        .sort_values(key)
    )

    def values(column: pd.Series) -> list:
        return column.astype(object).where(column.notna(), None).tolist()  # NaN or None: null

    for column in SERVING.column_names:
        assert values(back_rows[column]) == values(expected_rows[column]), column


def test_export_refuses_an_unknown_format(served, tmp_path):
    with pytest.raises(ValueError, match="export format 'xlsx': use csv or parquet"):
        export(served, "sunny-farm", "xlsx", tmp_path / "out.xlsx")


@pytest.mark.parametrize(
    "read",
    [
        lambda wh, tmp: prep_sheet(wh, "nobody"),
        lambda wh, tmp: export(wh, "nobody", "csv", tmp / "out.csv"),
    ],
    ids=["prep-sheet", "export"],
)
def test_unknown_vendor_raises_lookup_error(served, tmp_path, read):
    with pytest.raises(LookupError, match="vendor 'nobody' has no published recommendations"):
        read(served, tmp_path)
    assert not (tmp_path / "out.csv").exists()


def test_nothing_published_yet_says_to_run_the_pipeline(duckdb_warehouse):
    with pytest.raises(LookupError, match="nothing is published yet: run the pipeline first"):
        prep_sheet(duckdb_warehouse, "sunny-farm")
