"""Vendor feedback: what a vendor brought, sold and sold out of, from a CSV into raw.vendor_feedback.

The file has one row per vendor × market × product × market day with vendor_id, market_id,
product_id, market_date and at least one of units_brought, units_sold, sold_out. A re-import of
a day replaces the earlier report of that day. dbt carries the reports into the feature table
(units_sold corrected, is_censored), so the next run refits exactly the series that got one.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from data_contracts import contract
from marketprep.warehouse import Warehouse

FEEDBACK = contract("raw.vendor_feedback")
KEY = ["vendor_id", "market_id", "product_id", "market_date"]
REPORTED = ["units_brought", "units_sold", "sold_out"]
_TRUE = {"1", "true", "t", "yes", "y"}
_FALSE = {"0", "false", "f", "no", "n"}


def read_feedback(path: Path) -> pd.DataFrame:
    """The file as raw.vendor_feedback rows; every problem names the file, line and column."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [column for column in KEY if column not in frame.columns]
    if missing:
        raise ValueError(f"{path.name}: missing columns {missing}; it has {list(frame.columns)}")
    if not any(column in frame.columns for column in REPORTED):
        raise ValueError(f"{path.name}: needs at least one of the columns {REPORTED}")
    rows = pd.DataFrame({column: frame[column].str.strip() for column in KEY})
    for line, row in enumerate(rows.itertuples(index=False), start=2):
        for column in ("vendor_id", "market_id", "product_id"):
            if not getattr(row, column):
                raise ValueError(f"{path.name} line {line}: {column} is empty")
    rows["market_date"] = [
        _date(text, f"{path.name} line {line}") for line, text in _lines(rows["market_date"])
    ]
    for column in ("units_brought", "units_sold"):
        values = frame[column] if column in frame.columns else pd.Series("", index=frame.index)
        rows[column] = [
            _units(text, f"{path.name} line {line}", column) for line, text in _lines(values)
        ]
    sold_out = (
        frame["sold_out"] if "sold_out" in frame.columns else pd.Series("", index=frame.index)
    )
    rows["sold_out"] = [_flag(text, f"{path.name} line {line}") for line, text in _lines(sold_out)]
    duplicated = rows.duplicated(KEY)
    if duplicated.any():
        first = rows[duplicated].iloc[0]
        raise ValueError(
            f"{path.name}: {int(duplicated.sum())} repeated reports, e.g. {first.vendor_id}/"
            f"{first.market_id}/{first.product_id} on {first.market_date}; one row per day"
        )
    rows["source_file"] = path.name
    rows["imported_at"] = dt.datetime.now(dt.UTC)
    return rows


def import_feedback(warehouse: Warehouse, path: Path) -> int:
    """Write the file's reports, replacing earlier reports of the same days, in one transaction."""
    rows = read_feedback(path)
    if rows.empty:
        return 0
    warehouse.ensure_tables([FEEDBACK])
    # Replace exactly the reported days: delete by key, then insert.
    keys = rows[KEY].assign(market_date=rows["market_date"].astype(str))
    conditions = " or ".join(
        ["(vendor_id = ? and market_id = ? and product_id = ? and market_date = cast(? as date))"]
        * len(keys)
    )
    params = [value for row in keys.itertuples(index=False) for value in row]
    return warehouse.replace(FEEDBACK, rows, where=conditions, params=params)


def _lines(values: pd.Series):
    return enumerate((str(value).strip() for value in values), start=2)


def _date(text: str, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{where}: market_date {text!r} is not a date like 2026-06-06") from None


def _units(text: str, where: str, column: str) -> float | None:
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{where}: {column} {text!r} is not a number") from None
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"{where}: {column} {text!r} must be a count ≥ 0")
    return value


def _flag(text: str, where: str) -> bool | None:
    lowered = text.lower()
    if lowered == "":
        return None
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{where}: sold_out {text!r} is not yes/no (use true/false or 1/0)")
