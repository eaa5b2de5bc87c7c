"""The command line: tokens only through stdin or a named variable, and errors as exit code 2."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from data_contracts import contract
from marketprep.cli import main
from marketprep.settings import load_settings
from marketprep.vendors import active_vendors
from marketprep.warehouse import Warehouse

TOKEN = "EAAAl-cli-secret-token-987654"


@pytest.fixture(autouse=True)
def local_install(tmp_path, monkeypatch):
    """Every command runs against a warehouse and key file under tmp_path."""
    for name in ("MARKETPREP_SECRET_KEY", "MARKETPREP_ENV", "MARKETPREP_TEST_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MARKETPREP_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MARKETPREP_WAREHOUSE_URL", f"duckdb:///{tmp_path / 'warehouse.duckdb'}")


def stored_vendors():
    settings = load_settings()
    return active_vendors(Warehouse(settings.warehouse), settings)


def test_vendors_add_reads_the_token_from_stdin_and_never_prints_it(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{TOKEN}\n"))

    code = main(["vendors", "add", "--vendor-id", "sunny-farm", "--name", "Sunny Farm"])
    added = capsys.readouterr()
    assert main(["vendors", "list"]) == 0
    listed = capsys.readouterr()

    assert code == 0
    assert added.out == "registered vendor sunny-farm\n"
    assert listed.out == "sunny-farm\tSunny Farm\n"
    for stream in (added.out, added.err, listed.out, listed.err):
        assert TOKEN not in stream
    assert [(v.vendor_id, v.square_token) for v in stored_vendors()] == [("sunny-farm", TOKEN)]


def test_vendors_add_reads_the_token_from_a_named_variable(monkeypatch, capsys):
    monkeypatch.setenv("MARKETPREP_TEST_TOKEN", TOKEN)

    code = main(
        ["vendors", "add", "--vendor-id", "sunny-farm", "--token-env", "MARKETPREP_TEST_TOKEN"]
    )

    assert code == 0
    assert TOKEN not in capsys.readouterr().out
    assert [(v.vendor_name, v.square_token) for v in stored_vendors()] == [("sunny-farm", TOKEN)]


def test_vendors_add_with_unset_token_variable_exits_2(capsys):
    code = main(
        ["vendors", "add", "--vendor-id", "sunny-farm", "--token-env", "MARKETPREP_TEST_TOKEN"]
    )

    assert code == 2
    assert "MARKETPREP_TEST_TOKEN is empty or unset" in capsys.readouterr().err
    assert stored_vendors() == []


def test_vendors_add_with_empty_stdin_exits_2(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    code = main(["vendors", "add", "--vendor-id", "sunny-farm"])

    assert code == 2
    assert (
        "marketprep: vendor sunny-farm: the Square access token is empty" in capsys.readouterr().err
    )


@pytest.mark.parametrize(
    "argv", [["--token", TOKEN], [f"--token={TOKEN}"]], ids=["space", "equals"]
)
def test_a_token_given_as_an_argument_is_refused_without_echoing_it(capsys, argv):
    """`--token` must not pass for an abbreviated `--token-env` (whose error names the variable)."""
    with pytest.raises(SystemExit) as exited:
        main(["vendors", "add", "--vendor-id", "sunny-farm", *argv])

    captured = capsys.readouterr()
    assert exited.value.code == 2
    assert "pipe it on stdin or use --token-env" in captured.err
    assert TOKEN not in captured.out + captured.err
    assert stored_vendors() == []


def test_export_before_anything_is_published_exits_2(tmp_path, capsys):
    code = main(
        ["export", "--vendor", "sunny-farm", "--format", "csv", "--out", str(tmp_path / "out.csv")]
    )

    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert "marketprep: nothing is published yet" in captured.err
    assert not (tmp_path / "out.csv").exists()


def test_export_for_a_vendor_without_recommendations_exits_2(tmp_path, capsys):
    other_vendor = {
        "vendor_id": "bee-happy",
        "market_id": "ferry-plaza",
        "market_date": dt.date(2026, 6, 6),
        "product_id": "honey",
        "product_name": "Honey",
        "recommended_units": 70,
        "units_low": 60,
        "units_high": 80,
        "service_level": 0.8,
        "model": "prophet",
        "explanation": "usual Saturday",
        "published_at": dt.datetime(2026, 6, 5, 11, 30, tzinfo=dt.UTC),
        "run_id": "run-1",
        "is_stale": False,
        "stale_reason": None,
    }
    Warehouse(load_settings().warehouse).replace(
        contract("serving.recommendations"), [other_vendor]
    )

    code = main(
        ["export", "--vendor", "sunny-farm", "--format", "parquet", "--out", str(tmp_path / "o.pq")]
    )

    assert code == 2
    assert (
        "marketprep: vendor 'sunny-farm' has no published recommendations"
        in capsys.readouterr().err
    )
    assert not (tmp_path / "o.pq").exists()


def test_bad_setting_exits_2_naming_the_variable(monkeypatch, capsys):
    monkeypatch.setenv("MARKETPREP_WAREHOUSE_URL", "mysql://root@localhost/marketprep")

    assert main(["prep-sheet", "--vendor", "sunny-farm"]) == 2
    assert "MARKETPREP_WAREHOUSE_URL" in capsys.readouterr().err


def test_bad_date_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["prep-sheet", "--vendor", "sunny-farm", "--date", "next saturday"])

    assert exited.value.code == 2
    assert "'next saturday' is not a date like 2026-06-06" in capsys.readouterr().err
