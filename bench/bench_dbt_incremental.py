"""The daily incremental dbt build against a full refresh, on DuckDB and PostgreSQL (issue 5).

Target: a daily incremental run over three simulated years for 200 vendors costs no more than
10 % of a full refresh, measured in the same run, on both backends.

For each backend, in a fresh warehouse (a DuckDB file in a temporary folder; a new PostgreSQL
database, dropped afterwards):
1. Load: `dbt_raw_history.write_history` writes the raw history up to the day before D into
   the raw tables (created from the contracts, Arrow into DuckDB, COPY into PostgreSQL), as
   the ingest leaves them on the morning of D. PostgreSQL then gets an ANALYZE of the raw
   tables, as autovacuum would give them after such a load.
2. Full refresh: `dbt build --full-refresh --vars '{"run_date": D}'`.
3. The new partition: `write_next_day` adds day D as the next morning's ingest writes it.
4. Incremental: `dbt build --vars '{"run_date": D+1, "window_start": D, "window_end": D}'`.
5. Full refresh of the same data: `dbt build --full-refresh --vars '{"run_date": D+1}'`, the
   comparison on equal data; its row counts and unit sums must equal the incremental run's.
Each dbt build is the venv's `dbt` (what `uv run dbt` runs) in its own process, with
`--project-dir dbt_project --profiles-dir dbt_project` (a copy taken when the bench starts, so
edits made meanwhile do not mix into one run), the profile's environment from
`Settings.dbt_env()`, and a target and log path of its own. Reported per build: wall time
(process start to exit: parsing, connecting, compiling, running), dbt's elapsed time, and the
sums of model and test execution times from run_results.json; then incremental / full refresh
ratios, row counts, and the slowest nodes.

Run alone: `uv run python bench/bench_dbt_incremental.py [--vendors 200] [--years 3]
[--backends duckdb,postgres]` (`--help` for the rest). PostgreSQL on 127.0.0.1:5432 (trust auth).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import dbt_raw_history as history

from marketprep.settings import load_settings
from marketprep.warehouse import Warehouse
from sandbox.scratch_db import scratch_database

REPO_ROOT = Path(__file__).resolve().parents[1]
FEATURES = "marts.feature_product_market_day"
SALES = "marts.fct_product_sales"
TOP_NODES = 10


@dataclass
class DbtRun:
    """One `dbt build`: its times, and what run_results.json says of every node."""

    label: str
    command: str
    wall_s: float
    elapsed_s: float
    models_s: float
    tests_s: float
    models: int
    tests: int
    failed: list[str]
    incremental_models: list[str]
    nodes: list[dict]
    counts: dict[str, float] = field(default_factory=dict)


def run_dbt(
    project_dir: Path,
    work_dir: Path,
    env: dict[str, str],
    variables: dict[str, str],
    *,
    full_refresh: bool,
    label: str,
    timeout_s: float | None = None,
) -> DbtRun:
    """`dbt build` in its own process; a failing node, or a build still running after
    `timeout_s` (then stopped), is reported, not raised."""
    dbt = Path(sys.executable).parent / "dbt"
    target = work_dir / "target"
    args = [
        "build",
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(project_dir),
        "--target-path",
        str(target),
        "--log-path",
        str(work_dir / "logs" / label.replace(" ", "_").replace(",", "")),
        "--vars",
        json.dumps(variables),
        *(["--full-refresh"] if full_refresh else []),
        # as the orchestration builds: dbt's unit tests read fixtures, not the warehouse
        "--exclude-resource-type",
        "unit_test",
    ]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MARKETPREP_DBT_")}
    command = "dbt " + " ".join(a if a != str(project_dir) else "dbt_project" for a in args)
    results_file = target / "run_results.json"
    results_file.unlink(missing_ok=True)  # the previous build's must not pass for this one's
    start = time.perf_counter()
    try:
        completed = subprocess.run(
            [str(dbt), *args],
            env={**clean, **env, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout_s,
        )
    except subprocess.TimeoutExpired:
        wall = time.perf_counter() - start
        return DbtRun(
            label=label,
            command=command,
            wall_s=wall,
            elapsed_s=0.0,
            models_s=0.0,
            tests_s=0.0,
            models=0,
            tests=0,
            failed=[f"stopped after {wall:.0f} s"],
            incremental_models=[],
            nodes=[],
        )
    wall = time.perf_counter() - start
    if not results_file.exists():
        raise RuntimeError(
            f"dbt build ({label}) wrote no run_results.json:\n{completed.stdout[-4000:]}\n{completed.stderr[-2000:]}"
        )
    run_results = json.loads(results_file.read_text())
    manifest = json.loads((target / "manifest.json").read_text())
    names = {uid: node["name"] for uid, node in manifest["nodes"].items()}
    nodes = [
        {
            "node": names.get(r["unique_id"], r["unique_id"]),
            "kind": r["unique_id"].split(".")[0],
            "status": r["status"],
            "seconds": round(r["execution_time"], 3),
            "rows": (r.get("adapter_response") or {}).get("rows_affected"),
        }
        for r in run_results["results"]
    ]
    models = [n for n in nodes if n["kind"] == "model"]
    tests = [n for n in nodes if n["kind"] == "test"]
    return DbtRun(
        label=label,
        command=command,
        wall_s=wall,
        elapsed_s=run_results.get("elapsed_time", 0.0),
        models_s=sum(n["seconds"] for n in models),
        tests_s=sum(n["seconds"] for n in tests),
        models=len(models),
        tests=len(tests),
        failed=[
            f"{n['node']}: {n['status']}"
            for n in nodes
            if n["status"] not in ("success", "pass", "skipped", "warn")
        ]
        + ([f"dbt exited {completed.returncode}"] if completed.returncode else []),
        incremental_models=sorted(
            node["name"]
            for node in manifest["nodes"].values()
            if node["resource_type"] == "model" and node["config"]["materialized"] == "incremental"
        ),
        nodes=nodes,
    )


def counts(warehouse: Warehouse) -> dict[str, float]:
    """Rows a user would look at, and unit sums that tell two builds of the same data apart."""
    queries = {
        "raw line items": "select count(*) as n from raw.square_order_line_items",
        "raw orders": "select count(*) as n from raw.square_orders",
        "fct_product_sales rows": f"select count(*) as n from {SALES}",
        "fct_product_sales units": f"select round(cast(sum(units_sold) as numeric), 3) as n from {SALES}",
        "feature rows": f"select count(*) as n from {FEATURES}",
        "feature rows upcoming": f"select count(*) as n from {FEATURES} where is_future",
        "feature units": f"select round(cast(sum(units_sold) as numeric), 3) as n from {FEATURES}",
    }
    found = {}
    for name, sql in queries.items():
        try:
            value = warehouse.query(sql)["n"].iloc[0]
        except Exception as error:  # a model the build could not make
            print(f"    ({name}: {str(error).splitlines()[0]})")
            continue
        found[name] = float(value) if value is not None else 0.0
    return found


@contextmanager
def backend(kind: str, work_dir: Path, keep: bool) -> Iterator[str]:
    """A fresh, empty warehouse URL: a DuckDB file, or a new PostgreSQL database."""
    if kind == "duckdb":
        yield f"duckdb:///{work_dir / 'warehouse.duckdb'}"
        return
    with scratch_database("marketprep_bench_dbt", keep=keep) as url:
        yield url


def vacuum_analyze(url: str) -> float:
    """VACUUM ANALYZE of the raw tables, as autovacuum leaves them after a load: statistics for
    the planner, and hint bits set so the first build does not pay for writing them."""
    import psycopg

    start = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as connection:
        for contract in history.RAW_CONTRACTS:
            connection.execute(f"vacuum analyze {contract.table}")
    return time.perf_counter() - start


def bench_backend(kind: str, args: argparse.Namespace, root: Path) -> dict:
    work_dir = root / kind
    work_dir.mkdir(parents=True)
    day, next_day = args.day.isoformat(), (args.day + dt.timedelta(days=1)).isoformat()
    world = history.build_world(args.vendors, args.years, args.day, args.seed)
    with backend(kind, work_dir, args.keep) as url:
        settings = load_settings(
            {"MARKETPREP_WAREHOUSE_URL": url, "MARKETPREP_HOME": str(work_dir)}
        )
        warehouse = Warehouse(settings.warehouse)
        print(f"\n--- {kind}: {settings.warehouse.redacted_url}", flush=True)
        start = time.perf_counter()
        loaded = history.write_history(
            warehouse, world, progress=lambda text: print(f"  {text}", flush=True)
        )
        load_s = time.perf_counter() - start
        vacuum_s = vacuum_analyze(url) if kind == "postgres" else 0.0
        print(
            f"  history {world.first_day} .. {args.day - dt.timedelta(days=1)}: loaded in "
            f"{load_s:.1f} s (drawing {loaded.generate_s:.1f} s, writing {loaded.write_s:.1f} s)"
            + (f", then VACUUM ANALYZE {vacuum_s:.1f} s" if vacuum_s else "")
            + f"; {loaded.rows[history.LINES.table]:,} line items, "
            f"{loaded.rows[history.ORDERS.table]:,} orders, "
            f"{loaded.rows[history.RETURNS.table]:,} returned lines",
            flush=True,
        )
        env = settings.dbt_env()
        if kind == "postgres":  # a runaway statement is cancelled, and the bench goes on
            env["PGOPTIONS"] = f"-c statement_timeout={args.statement_timeout}s"

        def build(label: str, variables: dict[str, str], full_refresh: bool) -> DbtRun:
            run = run_dbt(
                args.project_dir,
                work_dir,
                env,
                variables,
                full_refresh=full_refresh,
                label=label,
                timeout_s=args.build_timeout,
            )
            run.counts = counts(warehouse)
            report_run(run)
            return run

        runs = [build("full refresh", {"run_date": day}, full_refresh=True)]
        added = history.write_next_day(warehouse, world)
        print(
            f"  new partition {day}: {added.rows[history.LINES.table]:,} line items, "
            f"{added.rows[history.ORDERS.table]:,} orders, "
            f"{added.rows[history.WEATHER.table]:,} weather rows "
            f"written in {added.generate_s + added.write_s:.1f} s",
            flush=True,
        )
        window = {"run_date": next_day, "window_start": day, "window_end": day}
        runs.append(build("incremental", window, full_refresh=False))
        runs.append(build("full refresh, same data", {"run_date": next_day}, full_refresh=True))
    return {
        "backend": kind,
        "load_s": load_s,
        "vacuum_s": vacuum_s,
        "generate_s": loaded.generate_s,
        "write_s": loaded.write_s,
        "rows": loaded.rows,
        "next_day_rows": added.rows,
        "runs": [asdict(run) for run in runs],
    }


def report_run(run: DbtRun) -> None:
    print(
        f"  {run.label}: wall {run.wall_s:.1f} s, dbt elapsed {run.elapsed_s:.1f} s, "
        f"{run.models} models {run.models_s:.1f} s + {run.tests} tests {run.tests_s:.1f} s "
        f"= {run.models_s + run.tests_s:.1f} s",
        flush=True,
    )
    print(f"    {run.command}")
    print(f"    incremental models: {', '.join(run.incremental_models) or 'none (all tables)'}")
    for failure in run.failed:
        print(f"    FAILED {failure}")
    for name, value in run.counts.items():
        print(f"    {name}: {value:,.3f}".rstrip("0").rstrip("."))
    slowest = sorted(run.nodes, key=lambda n: -n["seconds"])[:TOP_NODES]
    print(
        "    slowest: "
        + "; ".join(f"{n['kind']} {n['node'][:70]} {n['seconds']:.1f} s" for n in slowest)
    )


def summary(results: list[dict]) -> bool:
    """The figures as a Markdown table; True when every build passed and the incremental run
    built what the full refresh of the same data builds."""
    print(
        "\n| backend | build | wall | dbt elapsed | start-up and parsing | models | tests "
        "| models + tests | result |\n|---|---|---|---|---|---|---|---|---|"
    )
    for result in results:
        for run in result["runs"]:
            work = run["models_s"] + run["tests_s"]
            status = "ok" if not run["failed"] else "failed: " + ", ".join(run["failed"])
            print(
                f"| {result['backend']} | {run['label']} | {run['wall_s']:.1f} s "
                f"| {run['elapsed_s']:.1f} s | {run['wall_s'] - run['elapsed_s']:.1f} s "
                f"| {run['models_s']:.1f} s | {run['tests_s']:.1f} s | {work:.1f} s | {status} |"
            )
    print()
    ok = True
    for result in results:
        full, incremental, again = result["runs"]
        backend_name = result["backend"]
        inc_work = incremental["models_s"] + incremental["tests_s"]
        for reference in (full, again):
            work = reference["models_s"] + reference["tests_s"]
            print(
                f"{backend_name}: incremental / {reference['label']}: wall "
                f"{incremental['wall_s'] / reference['wall_s']:.1%}, models + tests "
                f"{inc_work / work if work else float('nan'):.1%}"
            )
        built = {k: v for k, v in incremental["counts"].items() if not k.startswith("raw")}
        rebuilt = {k: v for k, v in again["counts"].items() if not k.startswith("raw")}
        matches = built == rebuilt and bool(built)
        print(
            f"{backend_name}: incremental result equals the full refresh of the same data: "
            + ("yes" if matches else f"NO: {built} against {rebuilt}")
        )
        failures = [f for run in result["runs"] for f in run["failed"]]
        ok = ok and matches and not failures
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vendors", type=int, default=200)
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument(
        "--day",
        type=dt.date.fromisoformat,
        default=dt.date(2025, 6, 14),
        help="D, the new partition (a Saturday in June: every market is held)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--backends", default="duckdb,postgres")
    parser.add_argument("--project-dir", type=Path, default=REPO_ROOT / "dbt_project")
    parser.add_argument(
        "--statement-timeout",
        type=int,
        default=900,
        help="seconds after which PostgreSQL cancels one dbt statement (the slowest full-refresh "
        "statement takes about 150 s)",
    )
    parser.add_argument(
        "--build-timeout", type=int, default=3600, help="seconds after which a dbt build is stopped"
    )
    parser.add_argument("--keep", action="store_true", help="keep the warehouses and dbt targets")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    print(
        f"dbt incremental vs full refresh: {args.vendors} vendors, {args.years:g} years of history "
        f"up to {args.day - dt.timedelta(days=1)}, new partition {args.day}",
        flush=True,
    )
    results = []
    root = Path(tempfile.mkdtemp(prefix="bench_dbt_incremental_"))
    # a copy, so that every build of the run sees the same project while it is being edited
    args.project_dir = Path(
        shutil.copytree(
            args.project_dir,
            root / "dbt_project",
            ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"),
        )
    )
    try:
        for kind in args.backends.split(","):
            results.append(bench_backend(kind.strip(), args, root))
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of the generator and loader process: {peak:.0f} MB")
    ok = summary(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
