"""Which failed checks fail a run: errors do, warnings (fallbacks, unknown events) do not."""

import dagster as dg

from marketprep.runner import errors_among


def evaluation(
    check: str, passed: bool, severity: dg.AssetCheckSeverity
) -> dg.AssetCheckEvaluation:
    return dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey(["marts", "feature_product_market_day"]),
        check_name=check,
        passed=passed,
        severity=severity,
    )


def test_only_failed_error_checks_count():
    evaluations = [
        evaluation("weather_covers_planning_days", False, dg.AssetCheckSeverity.ERROR),
        evaluation("weather_from_primary_source", False, dg.AssetCheckSeverity.WARN),
        evaluation("events_known_for_planning_days", True, dg.AssetCheckSeverity.WARN),
        evaluation("unique_rows", True, dg.AssetCheckSeverity.ERROR),
    ]
    assert errors_among(evaluations) == [
        "marts/feature_product_market_day:weather_covers_planning_days"
    ]
