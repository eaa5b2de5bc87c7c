"""Geohash encoding, for Ticketmaster's `geoPoint` (its `latlong` parameter is deprecated, WIRE §6.1).

A geohash interleaves longitude and latitude bisections, five bits per base-32 character; nine
characters pin a point to about 5 m, far finer than any event-search radius.
"""

from __future__ import annotations

import math

BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz"


def encode(latitude: float, longitude: float, precision: int = 9) -> str:
    """The geohash of a WGS84 point, e.g. encode(40.6892, -74.0445, 5) == "dr5r7"."""
    if not (math.isfinite(latitude) and -90 <= latitude <= 90):
        raise ValueError(f"latitude {latitude!r} is outside -90..90")
    if not (math.isfinite(longitude) and -180 <= longitude <= 180):
        raise ValueError(f"longitude {longitude!r} is outside -180..180")
    if not 1 <= precision <= 12:
        raise ValueError(f"precision {precision} is outside 1..12")
    ranges = {"lat": [-90.0, 90.0], "lon": [-180.0, 180.0]}
    values = {"lat": latitude, "lon": longitude}
    bits, axis, chars = 0, "lon", []
    for bit_index in range(precision * 5):
        low, high = ranges[axis]
        middle = (low + high) / 2
        bits <<= 1
        if values[axis] >= middle:
            bits |= 1
            ranges[axis][0] = middle
        else:
            ranges[axis][1] = middle
        axis = "lat" if axis == "lon" else "lon"
        if bit_index % 5 == 4:
            chars.append(BASE32[bits])
            bits = 0
    return "".join(chars)
