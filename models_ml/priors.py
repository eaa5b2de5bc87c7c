"""Priors for new products: what the vendor's similar products sell on a typical market day.

A product with a few days of history says little about itself; a vendor's other breads say a
lot about a new bread. Its demand is modelled as Poisson with a rate whose Gamma prior has the
mean of its peers' typical day and the weight of PRIOR_DAYS market days; each observed day
updates it (the conjugate Poisson-Gamma model). The predictive distribution is a negative
binomial, count-aware and wider than a Poisson, because the rate itself is uncertain: with no
history it is the peers' level, and with every day of its own the product moves away from it.
"""

import numpy as np
import pandas as pd
from scipy import stats

from models_ml.settings import ForecastSettings

MODEL_NAME = "category_prior"
# How many market days of its own outweigh the peers' evidence: two is a weak prior, and after
# a month of Saturdays the product speaks for itself.
PRIOR_DAYS = 2.0
_KEY = ["vendor_id", "market_id", "product_id"]


def prior_quantiles(
    units_sold: np.ndarray, prior_units: float, levels: np.ndarray, horizon: int
) -> np.ndarray:
    """Quantiles at ``levels`` of the Poisson-Gamma predictive, one identical row per future day.

    ``units_sold`` is the product's own (short) history; ``prior_units`` the peers' typical day.
    """
    if not np.isfinite(prior_units) or prior_units < 0:
        raise ValueError(f"prior_units must be a finite number ≥ 0, got {prior_units!r}")
    units = np.asarray(units_sold, dtype=float)
    shape = PRIOR_DAYS * prior_units + units.sum()
    rate = PRIOR_DAYS + len(units)
    if shape <= 0:
        return np.zeros((horizon, len(levels)))
    quantiles = stats.nbinom.ppf(levels, shape, rate / (rate + 1.0))
    return np.tile(quantiles, (horizon, 1))


def series_priors(
    features: pd.DataFrame, settings: ForecastSettings
) -> dict[tuple[str, str, str], float]:
    """The prior typical day for each series with fewer than settings.min_history observed days.

    A series' typical day is the mean of its last settings.baseline_window observed days; only
    series with at least settings.min_history days count as peers. The prior is the median
    typical day of the vendor's peers in the same category (at any market), else of all the
    vendor's peers; a vendor with no established product gets none (the baseline applies).
    ``features`` is the feature table; without a category column only the vendor level is used.
    """
    history = features[~features["is_future"].astype(bool) & features["units_sold"].notna()]
    if history.empty:
        return {}
    history = history.sort_values("market_date", kind="stable")
    grouped = history.groupby(_KEY, sort=False)
    counts = grouped.size()
    typical = grouped["units_sold"].apply(lambda units: units.tail(settings.baseline_window).mean())
    category = (
        features.groupby(_KEY, sort=False)["category"].last()
        if "category" in features.columns
        else pd.Series(None, index=counts.index, dtype=object)
    )
    established = counts >= settings.min_history
    peers = pd.DataFrame(
        {"typical": typical[established], "category": category.reindex(counts.index)[established]}
    ).reset_index()
    by_category = peers.dropna(subset=["category"]).groupby(["vendor_id", "category"])["typical"]
    by_category = by_category.median().to_dict()
    by_vendor = peers.groupby("vendor_id")["typical"].median().to_dict()

    short_keys = [key for key in features.groupby(_KEY, sort=False).groups if key not in counts]
    short_keys += [key for key, is_established in established.items() if not is_established]
    found = {}
    for key in short_keys:
        vendor_id = key[0]
        own_category = category.get(key)
        prior = by_category.get((vendor_id, own_category), by_vendor.get(vendor_id))
        if prior is not None:
            found[key] = float(prior)
    return found
