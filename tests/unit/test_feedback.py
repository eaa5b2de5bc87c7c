"""`marketprep feedback import`: reports land in raw.vendor_feedback, replace earlier ones, bad rows are named."""

from __future__ import annotations

import pytest

from marketprep.cli import main
from marketprep.feedback import FEEDBACK, read_feedback
from marketprep.settings import load_settings
from marketprep.warehouse import Warehouse

HEADER = "vendor_id,market_id,product_id,market_date,units_brought,units_sold,sold_out\n"


@pytest.fixture(autouse=True)
def local_install(tmp_path, monkeypatch):
    monkeypatch.setenv("MARKETPREP_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MARKETPREP_WAREHOUSE_URL", f"duckdb:///{tmp_path / 'warehouse.duckdb'}")


def stored():
    return Warehouse(load_settings().warehouse).query(
        f"select * from {FEEDBACK.table} order by market_date"
    )


def test_import_lands_and_a_second_report_replaces_the_first(tmp_path, capsys):
    path = tmp_path / "week1.csv"
    path.write_text(HEADER + "v1,m1,p1,2026-06-06,30,30,yes\nv1,m1,p1,2026-06-13,30,22,\n")
    assert main(["feedback", "import", str(path)]) == 0
    assert "imported 2 feedback rows" in capsys.readouterr().out
    rows = stored()
    assert rows["sold_out"].tolist()[0] is True and rows["sold_out"].isna().tolist()[1]

    again = tmp_path / "fix.csv"
    again.write_text(HEADER + "v1,m1,p1,2026-06-13,30,25,no\n")
    assert main(["feedback", "import", str(again)]) == 0
    rows = stored()
    assert len(rows) == 2
    assert rows["units_sold"].tolist() == [30.0, 25.0]
    assert rows["source_file"].tolist() == ["week1.csv", "fix.csv"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("v1,m1,p1,06/06/2026,30,30,yes\n", "line 2: market_date '06/06/2026'"),
        ("v1,m1,p1,2026-06-06,-3,30,yes\n", "line 2: units_brought '-3' must be a count"),
        ("v1,m1,p1,2026-06-06,30,lots,yes\n", "line 2: units_sold 'lots' is not a number"),
        ("v1,m1,p1,2026-06-06,30,30,maybe\n", "sold_out 'maybe' is not yes/no"),
        ("v1,,p1,2026-06-06,30,30,yes\n", "line 2: market_id is empty"),
        ("v1,m1,p1,2026-06-06,30,30,yes\n" * 2, "1 repeated reports"),
    ],
)
def test_bad_rows_are_named(tmp_path, body, message):
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + body)
    with pytest.raises(ValueError, match=message):
        read_feedback(path)
    assert main(["feedback", "import", str(path)]) == 2  # the CLI says it and writes nothing


def test_a_file_without_any_report_column_is_refused(tmp_path):
    path = tmp_path / "keys.csv"
    path.write_text("vendor_id,market_id,product_id,market_date\nv1,m1,p1,2026-06-06\n")
    with pytest.raises(ValueError, match="needs at least one of the columns"):
        read_feedback(path)
