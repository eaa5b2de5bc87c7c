"""`marketprep`: the operator's command line."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

from marketprep.settings import load_settings


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-06-06") from None


class _RefuseToken(argparse.Action):
    """Without it argparse reads `--token X` as the abbreviation of `--token-env X` and echoes X."""

    def __call__(self, parser, namespace, values, option_string=None):
        parser.error(
            "never pass the Square token as an argument: pipe it on stdin or use --token-env"
        )


def _vendors_add(args: argparse.Namespace) -> int:
    from marketprep.vendors import register_vendor
    from marketprep.warehouse import Warehouse

    if args.token_env:
        token = os.environ.get(args.token_env, "")
        if not token:
            print(f"environment variable {args.token_env} is empty or unset", file=sys.stderr)
            return 2
    else:
        token = sys.stdin.readline().strip()
    settings = load_settings()
    register_vendor(
        Warehouse(settings.warehouse), settings, args.vendor_id, args.name or args.vendor_id, token
    )
    print(f"registered vendor {args.vendor_id}")
    return 0


def _vendors_list(args: argparse.Namespace) -> int:
    from marketprep.vendors import active_vendors
    from marketprep.warehouse import Warehouse

    settings = load_settings()
    for vendor in active_vendors(Warehouse(settings.warehouse), settings):
        print(
            f"{vendor.vendor_id}\t{vendor.vendor_name}"
            + (f"\tPROBLEM: {vendor.problem}" if vendor.problem else "")
        )
    return 0


def _import_sales(args: argparse.Namespace) -> int:
    from marketprep.history_import import GenericMapping, import_sales
    from marketprep.vendors import VENDOR_ID, VENDORS
    from marketprep.warehouse import Warehouse

    if not VENDOR_ID.match(args.vendor):
        raise ValueError(f"vendor id {args.vendor!r} is not a MarketPrep vendor id")
    path = Path(args.file)
    if not path.is_file():
        raise ValueError(f"{path} is not a file")
    mapping = None
    if args.mapping:
        mapping_path = Path(args.mapping)
        mapping = GenericMapping.from_json(mapping_path.read_text(), str(mapping_path))
    settings = load_settings()
    warehouse = Warehouse(settings.warehouse)
    report = import_sales(
        warehouse,
        args.vendor,
        path,
        args.format,
        dt.datetime.now(dt.UTC),
        mapping=mapping,
        location_id=args.location_id,
        timezone=args.timezone,
        currency=args.currency,
    )
    print(f"{path.name} for {args.vendor}: {report.summary()}")
    warehouse.ensure_tables([VENDORS])
    if warehouse.query("select 1 from raw.vendors where vendor_id = ?", [args.vendor]).empty:
        print(
            f"note: vendor {args.vendor} is not registered; its history is stored, and planned "
            "for once it is (`marketprep vendors add`)"
        )
    if report.rows_quarantined:
        print(
            f"{report.rows_quarantined} rows could not be read; see raw.square_quarantine "
            f"where source = 'import:{path.name}'"
        )
    return 0


def _run(args: argparse.Namespace) -> int:
    from marketprep.runner import run_daily

    outcome = run_daily(
        load_settings(), args.date, history_days=args.history_days, full_refresh=args.full_refresh
    )
    print(f"run {outcome.run_id}: {'succeeded' if outcome.success else 'FAILED'}")
    for step in outcome.failed_steps:
        print(f"  failed step: {step}")
    for check in outcome.failed_checks:
        print(f"  failed check: {check}")
    return 0 if outcome.success else 1


def _export(args: argparse.Namespace) -> int:
    from marketprep.serving import export
    from marketprep.warehouse import Warehouse

    rows = export(Warehouse(load_settings().warehouse), args.vendor, args.format, Path(args.out))
    print(f"wrote {rows} rows to {args.out}")
    return 0


def _prep_sheet(args: argparse.Namespace) -> int:
    from marketprep.serving import prep_sheet
    from marketprep.warehouse import Warehouse

    print(prep_sheet(Warehouse(load_settings().warehouse), args.vendor, args.date))
    return 0


def _backtest(args: argparse.Namespace) -> int:
    from marketprep.backtest_cli import run_backtest

    return run_backtest(
        Path(args.history),
        args.horizon_days,
        args.cutoffs,
        args.service_level,
        Path(args.out),
        load_settings().forecast_workers,
    )


def _feedback_import(args: argparse.Namespace) -> int:
    from marketprep.feedback import import_feedback
    from marketprep.warehouse import Warehouse

    written = import_feedback(Warehouse(load_settings().warehouse), Path(args.file))
    print(f"imported {written} feedback rows from {args.file}; the next run refits their series")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from marketprep.demo import run_demo

    return run_demo(args.date or dt.date.today(), seed=args.seed)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="marketprep", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)

    vendors = commands.add_parser("vendors", help="register and list vendors").add_subparsers(
        dest="vendors_command", required=True
    )
    add = vendors.add_parser(
        "add", help="register a vendor; the Square token is read from stdin or --token-env"
    )
    add.add_argument("--vendor-id", required=True)
    add.add_argument("--name")
    add.add_argument(
        "--token-env", help="name of an environment variable holding the token (never the token)"
    )
    add.add_argument("--token", action=_RefuseToken, help=argparse.SUPPRESS)
    add.set_defaults(handler=_vendors_add)
    vendors.add_parser("list", help="list active vendors").set_defaults(handler=_vendors_list)

    run = commands.add_parser("run", help="run the daily job in-process for a logical date")
    run.add_argument("--date", type=_date, required=True, help="the market morning planned for")
    run.add_argument(
        "--history-days", type=int, default=1, help="days of sales to ingest before --date"
    )
    run.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild the incremental dbt models from all raw history, not just these days",
    )
    run.set_defaults(handler=_run)

    sales = commands.add_parser(
        "import-sales",
        help="load a vendor's sales history from a CSV file (a Square Items export, or any CSV "
        "with a column mapping)",
    )
    sales.add_argument("--vendor", required=True)
    sales.add_argument("--file", required=True, help="the CSV file (.csv, or .csv.xz/.gz/.bz2)")
    sales.add_argument(
        "--format",
        choices=["square-items", "generic"],
        default="square-items",
        help="square-items: the Square Dashboard's Items (items detail) export; generic: any "
        "CSV of sale lines, read through --mapping",
    )
    sales.add_argument("--mapping", help="JSON column mapping for --format generic")
    sales.add_argument(
        "--location-id", help="the Square location every row belongs to (else the Location column)"
    )
    sales.add_argument(
        "--timezone", help="IANA zone of a location Square has not told MarketPrep about"
    )
    sales.add_argument("--currency", default="USD", help="currency of a Square export's amounts")
    sales.set_defaults(handler=_import_sales)

    export = commands.add_parser("export", help="write a vendor's published recommendations")
    export.add_argument("--vendor", required=True)
    export.add_argument("--format", choices=["csv", "parquet"], required=True)
    export.add_argument("--out", required=True)
    export.set_defaults(handler=_export)

    sheet = commands.add_parser(
        "prep-sheet", help="print a vendor's prep sheet for its next market day"
    )
    sheet.add_argument("--vendor", required=True)
    sheet.add_argument("--date", type=_date)
    sheet.set_defaults(handler=_prep_sheet)

    backtest = commands.add_parser(
        "backtest",
        help="forecast a sales history from past cutoffs and score it against the baselines",
    )
    backtest.add_argument(
        "--history",
        required=True,
        help="CSV: series_id,date,units[,price,unit_cost,temp_max,precip_mm,is_holiday]",
    )
    backtest.add_argument(
        "--horizon-days", type=int, required=True, help="days forecast per cutoff"
    )
    backtest.add_argument(
        "--cutoffs", type=int, required=True, help="how many cutoffs, H days apart"
    )
    backtest.add_argument(
        "--service-level",
        type=float,
        help="τ for every series (default: each series' newsvendor ratio from price and unit_cost)",
    )
    backtest.add_argument("--out", required=True, help="CSV of the forecasts, one row per day")
    backtest.set_defaults(handler=_backtest)

    feedback = commands.add_parser("feedback", help="vendor-reported actuals").add_subparsers(
        dest="feedback_command", required=True
    )
    feedback_import = feedback.add_parser(
        "import",
        help="load a CSV of vendor_id,market_id,product_id,market_date and units_brought, "
        "units_sold, sold_out",
    )
    feedback_import.add_argument("file")
    feedback_import.set_defaults(handler=_feedback_import)

    demo = commands.add_parser("demo", help="the whole pipeline on the local sandbox")
    demo.add_argument("--date", type=_date, help="the market morning to plan for (default: today)")
    demo.add_argument("--seed", type=int, default=7)
    demo.set_defaults(handler=_demo)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.handler(args)
    except (LookupError, ValueError) as exc:
        print(f"marketprep: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
