"""`make demo`: the whole pipeline on the local sandbox, through the production code path.

The fake Square, Open-Meteo and PredictHQ servers listen on loopback ports, fed by the seeded
market simulator; the pipeline reaches them through the real clients via the base-URL settings.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os

from marketprep.runner import run_daily
from marketprep.serving import prep_sheet
from marketprep.settings import load_settings
from marketprep.vendors import register_vendor
from marketprep.warehouse import Warehouse
from sandbox.servers import start_sandbox
from sandbox.simulator import SimConfig, build_world


def run_demo(market_morning: dt.date, seed: int = 7) -> int:
    """Simulate, serve, register, run, print the prep sheet; returns the process exit code."""
    config = SimConfig(end=market_morning, seed=seed)
    print(
        f"Simulating {config.n_vendors} vendors at {config.n_markets} markets, "
        f"{config.history_days} days of history up to {market_morning}…"
    )
    world = build_world(config)
    with start_sandbox(world) as sandbox:
        # The demo's settings are the operator's plus the sandbox's URLs and events token.
        os.environ.update(sandbox.env())
        settings = load_settings()
        warehouse = Warehouse(settings.warehouse)
        for vendor in world.vendors:
            register_vendor(warehouse, settings, vendor.vendor_id, vendor.name, vendor.access_token)
        print(
            f"Registered {len(world.vendors)} vendors; running the daily job with "
            f"{config.history_days} days of history (one run)…"
        )
        # Step-by-step logs stay in the Dagster UI; the terminal shows warnings and the result.
        # dagster-dbt echoes every dbt event to stdout whatever the log level: into a file.
        dbt_log = settings.home / "logs" / "demo-dbt.log"
        dbt_log.parent.mkdir(parents=True, exist_ok=True)
        with dbt_log.open("w") as log, contextlib.redirect_stdout(log):
            outcome = run_daily(
                settings, market_morning, history_days=config.history_days, log_level="WARNING"
            )
    if not outcome.success:
        print(
            f"Run {outcome.run_id} FAILED: steps {outcome.failed_steps}, checks {outcome.failed_checks}"
            f"; dbt's log: {dbt_log}"
        )
        return 1
    counts = warehouse.query(
        "select count(*) as rows, count(distinct vendor_id) as vendors, min(market_date) as first_day, "
        "max(market_date) as last_day from serving.recommendations"
    ).iloc[0]
    first_vendor = world.vendors[0].vendor_id
    print()
    print(prep_sheet(warehouse, first_vendor))
    print(
        f"serving.recommendations: {counts['rows']} rows for {counts['vendors']} vendors, "
        f"market days {counts['first_day']} to {counts['last_day']}"
    )
    where = settings.warehouse.duckdb_path or settings.warehouse.redacted_url
    print(f"Warehouse: {where}; dbt's log: {dbt_log}")
    print(f"Dagster run {outcome.run_id}: browse it with `make ui` (http://127.0.0.1:3000)")
    return 0
