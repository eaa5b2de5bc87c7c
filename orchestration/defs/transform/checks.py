"""Checks on the feature table's upcoming market days: where their weather and events came from.

They sit on the features rather than on raw.weather_daily because climatology, the last weather
fallback, is computed in dbt: only the built features show whether some source covered a day.
"""

import dagster as dg

from marketprep import coverage
from orchestration.defs.resources import MarketPrepResource

FEATURES = ["marts", "feature_product_market_day"]
WEATHER_COVERS_PLANNING_DAYS = "weather_covers_planning_days"
WEATHER_FROM_PRIMARY_SOURCE = "weather_from_primary_source"
EVENTS_KNOWN_FOR_PLANNING_DAYS = "events_known_for_planning_days"


def _result(verdict: coverage.Verdict, severity: dg.AssetCheckSeverity) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=verdict.passed,
        severity=severity,
        description=verdict.description,
        metadata=verdict.counts,
    )


@dg.asset_check(asset=FEATURES, name=WEATHER_COVERS_PLANNING_DAYS, blocking=True)
def weather_covers_planning_days(marketprep: MarketPrepResource) -> dg.AssetCheckResult:
    """Every upcoming market day has weather from some source (Open-Meteo, NWS or climatology)."""
    days = marketprep.warehouse.query(coverage.PLANNING_DAYS_SQL)
    return _result(coverage.weather_gaps(days), dg.AssetCheckSeverity.ERROR)


@dg.asset_check(asset=FEATURES, name=WEATHER_FROM_PRIMARY_SOURCE)
def weather_from_primary_source(marketprep: MarketPrepResource) -> dg.AssetCheckResult:
    """Warns when an upcoming market day's weather came from a fallback (NWS, climatology)."""
    days = marketprep.warehouse.query(coverage.PLANNING_DAYS_SQL)
    return _result(coverage.weather_fallbacks(days), dg.AssetCheckSeverity.WARN)


@dg.asset_check(asset=FEATURES, name=EVENTS_KNOWN_FOR_PLANNING_DAYS)
def events_known_for_planning_days(marketprep: MarketPrepResource) -> dg.AssetCheckResult:
    """Warns when an upcoming market day's events are unknown or came from the fallback."""
    days = marketprep.warehouse.query(coverage.PLANNING_DAYS_SQL)
    return _result(coverage.events_coverage(days), dg.AssetCheckSeverity.WARN)
