"""Daily weather at each market: a Seattle-like climate with day-to-day persistence.

One regional series (temperature anomalies follow an AR(1) process, rain follows a two-state
Markov chain) is shared by all markets, which are only a few km apart; each market adds a small
local offset and noise, so neighbouring markets get similar but not identical days.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from sandbox.world import Market

RAIN_PERSISTENCE = 0.35  # how much more likely rain is after a rainy day than on average
ANOMALY_AR = 0.7
ANOMALY_SD = 2.0  # °C, innovation of the AR(1) temperature anomaly


def _season(day: dt.date) -> float:
    """+1 in late July (warmest), -1 in late January (coldest)."""
    return math.cos(2 * math.pi * (day.timetuple().tm_yday - 210) / 365.25)


def _normals(day: dt.date) -> tuple[float, float, float, float]:
    """(mean max °C, mean min °C, chance of a wet day, mean mm on a wet day) for a calendar day."""
    s = _season(day)
    t_max = 16.5 + 9.0 * s
    t_min = t_max - 7.0 - 2.5 * s
    wet_chance = 0.38 - 0.26 * s
    wet_mm = 5.5 - 2.0 * s
    return t_max, t_min, wet_chance, wet_mm


def climatology(day: dt.date) -> dict[str, float]:
    """The long-run average day: what a place outside the simulated markets gets."""
    t_max, t_min, wet_chance, wet_mm = _normals(day)
    return {
        "temp_max_c": round(t_max, 1),
        "temp_min_c": round(t_min, 1),
        "precip_mm": round(wet_chance * wet_mm, 1),
    }


def simulate_weather(
    markets: list[Market], first: dt.date, last: dt.date, rng: np.random.Generator
) -> dict[tuple[str, dt.date], dict[str, float]]:
    """Weather for every market and every day first..last (inclusive)."""
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    n = len(days)
    anomaly_noise = rng.normal(0.0, ANOMALY_SD, n)
    rain_draw = rng.random(n)
    wet_amount = rng.gamma(0.9, 1.0, n)

    regional: list[tuple[float, float, float]] = []
    anomaly, wet = 0.0, False
    for i, day in enumerate(days):
        t_max, t_min, wet_chance, wet_mm = _normals(day)
        anomaly = ANOMALY_AR * anomaly + anomaly_noise[i]
        # Two-state chain whose long-run wet share stays `wet_chance`.
        if wet:
            p_wet = wet_chance + RAIN_PERSISTENCE * (1 - wet_chance)
        else:
            p_wet = wet_chance * (1 - RAIN_PERSISTENCE)
        wet = bool(rain_draw[i] < p_wet)
        mm = wet_amount[i] * wet_mm / 0.9 if wet else 0.0
        # Rain days are cloudy: cooler afternoons, milder nights.
        high = t_max + anomaly - 2.0 * wet - 0.1 * min(mm, 15.0)
        low = t_min + 0.6 * anomaly + 1.0 * wet
        regional.append((high, low, mm))

    weather: dict[tuple[str, dt.date], dict[str, float]] = {}
    for market in markets:
        # Inland markets run a little warmer than those by the Sound.
        offset = 0.6 if market.longitude > -122.25 else -0.2
        temp_noise = rng.normal(0.0, 0.4, n)
        rain_scale = rng.lognormal(0.0, 0.25, n)
        local_draw = rng.random(n)
        shower = rng.gamma(1.2, 0.8, n)
        for i, day in enumerate(days):
            t_max, t_min, mm = regional[i]
            if mm > 0:
                mm = 0.0 if local_draw[i] < 0.08 else mm * rain_scale[i]
            elif local_draw[i] < 0.03:
                mm = shower[i]  # a local shower on a regionally dry day
            high = t_max + offset + temp_noise[i]
            weather[(market.market_key, day)] = {
                "temp_max_c": round(high, 1),
                "temp_min_c": round(min(t_min + offset + 0.5 * temp_noise[i], high - 1.0), 1),
                "precip_mm": round(mm, 1) if mm >= 0.1 else 0.0,
            }
    return weather
