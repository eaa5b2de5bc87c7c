"""The fallback for series too short (or too flat) for a model: what sold on recent market days.

It is honest about what it is: the empirical quantiles of the last few observations, the same
for every upcoming day, with no weather, event or season effect. With one observation the range
collapses to that value, and with none every quantile is 0 (nothing has ever sold here). Its
range is the spread of recent sales, not a calibrated interval.
"""

import numpy as np

MODEL_NAME = "recent_quantile"


def recent_quantiles(
    units_sold: np.ndarray, levels: np.ndarray, window: int, horizon: int
) -> np.ndarray:
    """Quantiles at ``levels`` of the last ``window`` values of ``units_sold`` (oldest first).

    Returns an array of shape (horizon, len(levels)), one identical row per future market day.
    """
    recent = np.asarray(units_sold, dtype=float)[-window:]
    quantiles = np.quantile(recent, levels) if recent.size else np.zeros(len(levels))
    return np.tile(quantiles, (horizon, 1))
