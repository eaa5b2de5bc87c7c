"""Which physical market a Square location stands for.

Vendors at the same market have separate Square accounts and locations, so a market is keyed by
where it is. Coordinates rounded to 3 decimals (~100 m of latitude) absorb the few metres by which
vendors' pins differ; a pin that lands across a rounding boundary from its neighbours still gets
its own id, which the operator fixes by correcting the pin in Square.
"""

from __future__ import annotations

import math


def market_id_for(latitude: float, longitude: float) -> str:
    """Stable market id, e.g. `mkt_47.669_-122.387`, from WGS84 coordinates."""
    if not (math.isfinite(latitude) and -90 <= latitude <= 90):
        raise ValueError(f"latitude {latitude!r} is outside -90..90")
    if not (math.isfinite(longitude) and -180 <= longitude <= 180):
        raise ValueError(f"longitude {longitude!r} is outside -180..180")
    # `+ 0.0` turns a rounded -0.0 into 0.0 so both sides of the equator/meridian print alike.
    lat = round(latitude, 3) + 0.0
    lon = round(longitude, 3) + 0.0
    return f"mkt_{lat:.3f}_{lon:.3f}"
