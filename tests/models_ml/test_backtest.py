"""`marketprep backtest`: cutoffs, one row per series × cutoff × day, baselines, bad series."""

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from marketprep.cli import main
from models_ml.backtest import OUTPUT_COLUMNS, cutoff_dates, read_history

DAYS = [date(2024, 1, 1) + timedelta(days=d) for d in range(120)]


@pytest.fixture
def history_csv(tmp_path):
    rng = np.random.default_rng(4)
    weekday_level = np.array([20, 22, 25, 30, 40, 60, 35])
    rows = [
        {"series_id": "bread", "date": day, "units": rng.poisson(weekday_level[day.weekday()])}
        for day in DAYS
    ]
    rows += [{"series_id": "honey", "date": day, "units": rng.poisson(3)} for day in DAYS[::7]]
    rows += [
        {"series_id": "broken", "date": day, "units": -1 if i == 5 else 4}
        for i, day in enumerate(DAYS)
    ]
    path = tmp_path / "history.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_cutoffs_are_the_k_most_recent_h_days_apart():
    history = pd.DataFrame({"date": pd.to_datetime(["2024-01-01", "2024-03-01"])})
    assert cutoff_dates(history, 7, 3) == [
        pd.Timestamp("2024-02-09"),
        pd.Timestamp("2024-02-16"),
        pd.Timestamp("2024-02-23"),
    ]


def test_backtest_writes_one_row_per_series_cutoff_and_day(
    history_csv, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("MARKETPREP_FORECAST_WORKERS", "1")  # no process start-up in a unit test
    out = tmp_path / "out.csv"
    code = main(
        [
            "backtest",
            "--history", str(history_csv),
            "--horizon-days", "7",
            "--cutoffs", "3",
            "--service-level", "0.7",
            "--out", str(out),
        ]
    )  # fmt: skip
    printed = capsys.readouterr()
    assert code == 0
    rows = pd.read_csv(out, parse_dates=["cutoff", "date"])
    assert list(rows.columns) == OUTPUT_COLUMNS
    assert set(rows["series_id"]) == {"bread", "honey"}  # broken is reported, not fatal
    assert "series broken" in printed.err and "negative" in printed.err
    bread = rows[rows["series_id"] == "bread"]
    assert sorted(bread["cutoff"].unique()) == list(
        pd.to_datetime(["2024-04-08", "2024-04-15", "2024-04-22"])
    )
    assert len(bread) == 3 * 7
    assert (
        (bread["date"] > bread["cutoff"])
        & (bread["date"] <= bread["cutoff"] + pd.Timedelta(days=7))
    ).all()
    assert (rows["units_low"] <= rows["recommended_units"]).all()
    assert (rows["recommended_units"] <= rows["units_high"]).all()
    # The table has every model next to both baselines.
    assert "seasonal naive" in printed.out and "weekday" in printed.out
    assert printed.out.count("\n") >= 4


def test_a_bad_file_is_named(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("series_id,date,units\na,2024-13-01,3\n")
    with pytest.raises(ValueError, match="bad.csv: date '2024-13-01'"):
        read_history(str(path))
    path.write_text("series_id,day,units\na,2024-01-01,3\n")
    with pytest.raises(ValueError, match=r"missing columns \['date'\]"):
        read_history(str(path))
