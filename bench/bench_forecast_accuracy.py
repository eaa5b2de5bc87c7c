"""Forecast accuracy: `marketprep backtest` on the two real panels of bench/forecast_datasets.py.

`uv run python bench/bench_forecast_accuracy.py` builds bike.csv and retail.csv in a temporary
folder and runs, for each, exactly the command an analyst would:

    marketprep backtest --history bike.csv --horizon-days 7 --cutoffs 26 --service-level 0.7 --out …
    marketprep backtest --history retail.csv --horizon-days 7 --cutoffs 8 --service-level 0.7 --out …

printing its table: pinball loss at τ = 0.7 per unit sold of the chosen models next to seasonal
naive (the same weekday last week) and the weekday quantile (the 0.7-quantile of the last 8
same-weekday values), WAPE, bias, newsvendor cost and coverage.
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import forecast_datasets

RUNS = {"bike": ("7", "26"), "retail": ("7", "8")}


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        forecast_datasets.main(folder)
        failed = 0
        for name, (horizon, cutoffs) in RUNS.items():
            command = [
                "marketprep",
                "backtest",
                "--history", str(Path(folder) / f"{name}.csv"),
                "--horizon-days", horizon,
                "--cutoffs", cutoffs,
                "--service-level", "0.7",
                "--out", str(Path(folder) / f"{name}_forecasts.csv"),
            ]  # fmt: skip
            print(f"\n--- {name}: {' '.join(command[:2] + command[4:])}", flush=True)
            started = time.perf_counter()
            failed += subprocess.run(command).returncode != 0
            print(f"({time.perf_counter() - started:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
