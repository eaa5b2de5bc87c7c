"""Sold-out days: what sold is a floor on demand, not demand itself.

On a day the product sold out, customers who came after the last unit went away without a trace
in the sales. Learning from the sales as if they were demand teaches the model to bring what ran
out, which sells out again: the forecast ratchets down. Each censored day's demand is estimated
instead as E[D | D ≥ sold] under a Poisson demand whose rate is what the product sells on nearby
days that did not sell out. A busy day that sold out stays near its sales (it is already above
the usual rate); a day that sold out below the usual rate is lifted towards that rate.
"""

import numpy as np
from scipy import stats

# The uncensored days before a sold-out day that set its usual rate: two months of a weekly
# market, enough to be a level, recent enough to follow the season.
RATE_WINDOW = 8


def corrected_demand(units_sold: np.ndarray, censored: np.ndarray) -> np.ndarray:
    """Demand per day: units_sold where not censored, E[D | D ≥ units_sold] where censored.

    ``units_sold`` (≥ 0) and ``censored`` (bool) are aligned, oldest first. The rate for a
    censored day is the mean of the last RATE_WINDOW uncensored days before it, or, when there
    are none yet, of the ones after it; when every day sold out the rate is the day's own sales,
    which gives about sales + 0.8 √sales: the only evidence is that demand was at least that, and
    the next forecast asks for a little more until a day does not sell out.
    """
    units = np.asarray(units_sold, dtype=float)
    censored = np.asarray(censored, dtype=bool)
    if units.shape != censored.shape:
        raise ValueError(
            f"units_sold has {units.shape[0]} days but censored has {censored.shape[0]}"
        )
    demand = units.copy()
    observed = np.flatnonzero(~censored)
    for day in np.flatnonzero(censored):
        before = observed[observed < day][-RATE_WINDOW:]
        nearby = before if len(before) else observed[observed > day][:RATE_WINDOW]
        rate = units[nearby].mean() if len(nearby) else units[day]
        demand[day] = expected_at_least(units[day], rate)
    return demand


def expected_at_least(floor: float, rate: float) -> float:
    """E[D | D ≥ floor] for D ~ Poisson(rate): rate × P(D ≥ floor − 1) / P(D ≥ floor)."""
    if rate <= 0:
        return float(floor)
    if floor <= 0:
        return float(rate)
    # Poisson identity E[D 1{D ≥ k}] = rate P(D ≥ k − 1); log survival functions so a floor far
    # above the rate does not divide zero by zero. P(D ≥ k) = sf(k − 1).
    k = np.ceil(floor)
    with np.errstate(invalid="ignore"):
        log_ratio = stats.poisson.logsf(k - 2, rate) - stats.poisson.logsf(k - 1, rate)
    if not np.isfinite(log_ratio):
        # Both tails underflow: the floor is so far above the rate that demand was the floor.
        return float(floor)
    return float(max(rate * np.exp(log_ratio), floor))
