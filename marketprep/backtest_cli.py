"""`marketprep backtest`: the analysts' backtest of a sales-history CSV, written and summarised."""

from __future__ import annotations

import sys
from pathlib import Path

from models_ml.backtest import OUTPUT_COLUMNS, backtest, format_summary, read_history, summary
from models_ml.settings import ForecastSettings


def run_backtest(
    history: Path,
    horizon_days: int,
    cutoffs: int,
    service_level: float | None,
    out: Path,
    workers: int,
) -> int:
    """Backtest ``history``, write one row per series × cutoff × day to ``out``, print the table.

    Returns 0, or 1 when no series could be scored (every one failed or had no day to score).
    """
    result = backtest(
        read_history(str(history)),
        horizon_days,
        cutoffs,
        service_level,
        ForecastSettings(workers=workers),
    )
    for failure in result.errors.itertuples(index=False):
        print(f"series {failure.series_id}: {failure.error}", file=sys.stderr)
    if result.rows.empty:
        print(
            f"no forecast to score in {history}: no series had days after a cutoff", file=sys.stderr
        )
        return 1
    out.parent.mkdir(parents=True, exist_ok=True)
    result.rows[OUTPUT_COLUMNS].to_csv(out, index=False)
    series = result.rows["series_id"].nunique()
    print(
        f"wrote {len(result.rows)} forecasts of {series} series from {cutoffs} cutoffs to {out}; "
        f"{len(result.errors)} series failed"
    )
    print(
        "pinball@τ and cost are per unit sold; each figure is followed by the same on the same "
        "days for seasonal naive (previous same weekday) and the weekday quantile (τ-quantile "
        "of the last 8 same-weekday values)"
    )
    print(format_summary(summary(result.rows)))
    return 0
