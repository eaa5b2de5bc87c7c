"""Reading what was published: a vendor's recommendations, their export and the printable prep sheet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from marketprep.warehouse import Warehouse

SERVING_TABLE = "serving.recommendations"


def vendor_recommendations(warehouse: Warehouse, vendor_id: str) -> pd.DataFrame:
    with warehouse.session() as session:
        if not session.table_exists(SERVING_TABLE):
            raise LookupError(
                "nothing is published yet: run the pipeline first (make demo or marketprep run)"
            )
        return session.query(
            f"select * from {SERVING_TABLE} where vendor_id = ? order by market_date, market_id, product_name",
            [vendor_id],
        )


def export(warehouse: Warehouse, vendor_id: str, fmt: str, out: Path) -> int:
    """Write a vendor's published recommendations to CSV or Parquet; returns the row count."""
    rows = vendor_recommendations(warehouse, vendor_id)
    if rows.empty:
        raise LookupError(f"vendor {vendor_id!r} has no published recommendations")
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        rows.to_csv(out, index=False)
    elif fmt == "parquet":
        rows.to_parquet(out, index=False)
    else:
        raise ValueError(f"export format {fmt!r}: use csv or parquet")
    return len(rows)


def prep_sheet(warehouse: Warehouse, vendor_id: str, market_date: dt.date | None = None) -> str:
    """Plain-text prep sheet for one vendor's next market day (or the given one): what to load in the van."""
    rows = vendor_recommendations(warehouse, vendor_id)
    if rows.empty:
        raise LookupError(f"vendor {vendor_id!r} has no published recommendations")
    rows["market_date"] = pd.to_datetime(rows["market_date"]).dt.date
    day = market_date or rows["market_date"].min()
    day_rows = rows[rows["market_date"] == day]
    if day_rows.empty:
        raise LookupError(f"vendor {vendor_id!r} has no market on {day}")
    width = max(len("Product"), *day_rows["product_name"].str.len())
    lines = []
    for market_id, market in day_rows.groupby("market_id", sort=True):
        # the warehouse hands timestamps back in the session's (the machine's) time zone
        published_at = pd.Timestamp(market["published_at"].iloc[0]).tz_convert("UTC")
        lines += [
            f"Prep sheet: {vendor_id} at {market_id}, {day:%A %d %B %Y}",
            f"(service level {market['service_level'].iloc[0]:.0%}; published {published_at:%Y-%m-%d %H:%M} UTC)",
        ]
        if "is_stale" in market.columns and market["is_stale"].any():
            # held back by the quality gates: the last good numbers, not today's
            lines.append("NOT UPDATED by the latest run: these are the numbers published above.")
        lines += [
            "",
            f"{'Product':<{width}}  {'Bring':>5}  {'Range':>9}  Why",
        ]
        for row in market.itertuples():
            span = f"{row.units_low}-{row.units_high}"
            lines.append(
                f"{row.product_name:<{width}}  {row.recommended_units:>5}  {span:>9}  {row.explanation}"
            )
        lines += [f"{'Total':<{width}}  {int(market['recommended_units'].sum()):>5}", ""]
    return "\n".join(lines)
