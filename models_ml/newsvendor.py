"""The newsvendor rule: which quantile of tomorrow's demand a vendor should bring.

A unit brought but not sold costs ``Co = unit_cost - salvage`` (overage); a customer turned away
costs the margin ``Cu = price - unit_cost`` (underage). Expected profit is maximised by bringing
the ``τ = Cu / (Cu + Co)`` quantile of demand (the critical ratio).
"""

import math
from numbers import Real

# Below the median a vendor sells out on most market days. The margin ignores what that costs in
# goodwill (regulars who stop coming), so we never recommend less than the median.
MIN_SERVICE_LEVEL = 0.5
# A zero-cost item would give τ = 1 (bring everything you can carry). Quantiles above ~0.95 of a
# few hundred predictive samples from a year or two of weekly history are mostly noise.
MAX_SERVICE_LEVEL = 0.95


def service_level(price: float, unit_cost: float, salvage: float = 0.0) -> float:
    """Critical ratio ``τ = Cu / (Cu + Co)``, clipped to [MIN_SERVICE_LEVEL, MAX_SERVICE_LEVEL].

    ``price``, ``unit_cost`` and ``salvage`` are per unit in the same currency and major units.
    ``salvage`` is what an unsold unit is still worth (0 for bread you throw away). The caller
    decides the cost when the vendor has not told us one.

    Raises ValueError when an input is not a finite number, is negative, or when the economics
    make the rule meaningless (price not above cost, salvage above cost).
    """
    for name, value in (("price", price), ("unit_cost", unit_cost), ("salvage", salvage)):
        if not isinstance(value, Real) or not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
        if value < 0:
            raise ValueError(f"{name} must not be negative, got {value!r}")
    if price <= unit_cost:
        raise ValueError(
            f"price {price} does not exceed unit_cost {unit_cost}: every unit sold loses money, "
            "so no quantity is worth bringing; check the product's price and cost"
        )
    if salvage > unit_cost:
        raise ValueError(
            f"salvage {salvage} exceeds unit_cost {unit_cost}: an unsold unit would make money; "
            "salvage is what a leftover unit is still worth and cannot exceed its cost"
        )
    underage = price - unit_cost
    overage = unit_cost - salvage
    tau = underage / (underage + overage)
    return min(max(tau, MIN_SERVICE_LEVEL), MAX_SERVICE_LEVEL)
