"""The two real demand panels the forecasting benchmark backtests, built reproducibly.

Each is written in `marketprep backtest`'s input format (series_id, date, units and optional
covariates), one row per day the series could sell:

- bike: /work/shared/datasets/bike_sharing_daily.csv, one series of daily rentals (cnt) with
  temp_max (the normalised `temp` times 41 °C, the scale the UCI documentation gives), is_holiday
  (`holiday`) and precip_mm as a wet-day flag: the data records the weather situation, not an
  amount, so a day with light or heavy rain or snow (weathersit 3 or 4) is 1 mm, others 0.
- retail: /work/shared/datasets/online_retail.csv.xz, the TOP_PRODUCTS products with the largest
  net quantity sold to the United Kingdom. A product's units on a day are the day's quantities
  with that day's cancellations netted, floored at 0 (more returned than sold is not negative
  demand). Its rows are the retailer's trading days (a date with at least one UK invoice) from
  the product's first sale on, with 0 on trading days it did not sell; the shop was closed on
  Saturdays and over Christmas, and those days are not demand of 0, so they have no rows. Only
  stock codes that are products (five digits and an optional letter suffix) count, not postage,
  fees or manual adjustments, and only lines with a price: the zero-price lines are the
  warehouse's stock adjustments ("damaged", "found", "wrongly coded", up to 10,200 units on one
  line), which no customer ordered.

Run `uv run python bench/forecast_datasets.py OUT_DIR` to write bike.csv and retail.csv.
`retail(skip=1000)` builds the same panel from slower sellers (ranks 1,001–1,100: about 4 units
on a day, nothing on two days in three), to check the count-aware side of the models.
"""

import sys
from pathlib import Path

import pandas as pd

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
TOP_PRODUCTS = 100
_PRODUCT_CODE = r"^\d{5}[A-Za-z]*$"


def bike() -> pd.DataFrame:
    raw = pd.read_csv(DATASETS / "bike_sharing_daily.csv", parse_dates=["dteday"])
    return pd.DataFrame(
        {
            "series_id": "bike",
            "date": raw["dteday"].dt.date,
            "units": raw["cnt"].astype(float),
            "temp_max": (raw["temp"] * 41).round(1),
            "precip_mm": (raw["weathersit"] >= 3).astype(float),
            "is_holiday": raw["holiday"].astype(bool),
        }
    )


def retail(top: int = TOP_PRODUCTS, skip: int = 0) -> pd.DataFrame:
    """The products ranked skip + 1 … skip + top by net quantity (skip > 0: slower sellers)."""
    raw = pd.read_csv(
        DATASETS / "online_retail.csv.xz",
        usecols=["Invoice", "StockCode", "Quantity", "InvoiceDate", "Price", "Country"],
        dtype={"Invoice": str, "StockCode": str},
    )
    raw = raw[(raw["Country"] == "United Kingdom") & (raw["Price"] > 0)]
    raw["date"] = pd.to_datetime(raw["InvoiceDate"], format="%m/%d/%Y %H:%M").dt.normalize()
    trading_days = pd.Index(
        raw.loc[~raw["Invoice"].str.startswith("C"), "date"].drop_duplicates().sort_values()
    )
    products = raw[raw["StockCode"].str.match(_PRODUCT_CODE)]
    daily = products.groupby(["StockCode", "date"])["Quantity"].sum().clip(lower=0)
    top_codes = daily.groupby("StockCode").sum().nlargest(skip + top).index[skip:]
    frames = []
    for code in sorted(top_codes):
        sales = daily.loc[code]
        first_sale = sales[sales > 0].index.min()
        days = trading_days[trading_days >= first_sale]
        units = sales.reindex(days, fill_value=0.0)
        frames.append(
            pd.DataFrame({"series_id": code, "date": days.date, "units": units.to_numpy(float)})
        )
    return pd.concat(frames, ignore_index=True)


def main(out_dir: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    bike().to_csv(out / "bike.csv", index=False)
    retail().to_csv(out / "retail.csv", index=False)
    print(f"wrote {out / 'bike.csv'} and {out / 'retail.csv'}")


if __name__ == "__main__":
    main(sys.argv[1])
