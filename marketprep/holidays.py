"""Public holidays of the markets' countries, as raw.public_holidays rows.

The `holidays` package (the calendar Prophet itself uses) knows each country's public holidays for
any year, offline. The feature table joins them by the market's country and day, so every model,
not only Prophet, sees that a market day is a holiday.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

import holidays


@dataclass
class HolidayRows:
    """The rows to load, and the countries the calendar does not know (named, not fatal)."""

    rows: list[dict] = field(default_factory=list)
    unknown_countries: list[str] = field(default_factory=list)


def holiday_rows(
    countries: Iterable[str], first_year: int, last_year: int, loaded_at: dt.datetime
) -> HolidayRows:
    """One row per country × holiday day in [first_year, last_year]; a day that is two holidays
    at once keeps both names, joined by '; '."""
    if first_year > last_year:
        raise ValueError(f"first_year {first_year} is after last_year {last_year}")
    result = HolidayRows()
    years = range(first_year, last_year + 1)
    for country in sorted(set(countries)):
        try:
            calendar = holidays.country_holidays(country, years=years)
        except NotImplementedError:
            result.unknown_countries.append(country)
            continue
        for day, name in sorted(calendar.items()):
            result.rows.append(
                {
                    "country": country,
                    "holiday_date": day,
                    "holiday_name": name,
                    "loaded_at": loaded_at,
                }
            )
    return result
