"""The audits that gate publication: each flags its problem and passes clean frames."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from marketprep.audit import audit_forecasts, audit_recommendations

SATURDAY = dt.date(2026, 6, 6)
SERIES = {"vendor_id": "sunny-farm", "market_id": "ferry-plaza"}


def forecasts(*quantiles: tuple[float, float, float, float]) -> pd.DataFrame:
    """One forecast row per (low, p50, high, at_service_level), product p1, p2, ..."""
    return pd.DataFrame(
        [
            SERIES
            | {
                "product_id": f"p{i}",
                "market_date": SATURDAY,
                "units_low": low,
                "units_p50": p50,
                "units_high": high,
                "units_at_service_level": at_level,
            }
            for i, (low, p50, high, at_level) in enumerate(quantiles, start=1)
        ]
    )


def history(**max_units: float) -> pd.DataFrame:
    rows = [SERIES | {"product_id": p, "max_units": m} for p, m in max_units.items()]
    return pd.DataFrame(rows, columns=["vendor_id", "market_id", "product_id", "max_units"])


def recommendations(
    *units: tuple[int, int, int], explanation: str = "usual Saturday"
) -> pd.DataFrame:
    """One recommendation per (recommended, low, high), product p1, p2, ..."""
    return pd.DataFrame(
        [
            SERIES
            | {
                "product_id": f"p{i}",
                "market_date": SATURDAY,
                "recommended_units": rec,
                "units_low": low,
                "units_high": high,
                "explanation": explanation,
            }
            for i, (rec, low, high) in enumerate(units, start=1)
        ]
    )


def expected(*product_ids: str) -> pd.DataFrame:
    return pd.DataFrame([SERIES | {"product_id": p, "market_date": SATURDAY} for p in product_ids])


def test_clean_forecasts_pass():
    frame = forecasts((8, 12, 16, 14), (0, 0, 1, 0))

    assert audit_forecasts(frame, history(p1=20, p2=3)) == []


def test_missing_quantile_is_flagged():
    problems = audit_forecasts(forecasts((8, 12, 16, 14), (8, None, 16, 14)), history(p1=20, p2=20))

    assert problems == ["1 forecast rows have missing quantiles"]


def test_negative_quantile_is_flagged():
    problems = audit_forecasts(forecasts((-2, 12, 16, 14)), history(p1=20))

    assert problems == ["1 forecast rows have negative quantiles"]


@pytest.mark.parametrize(
    "quantiles", [(13, 12, 16, 14), (8, 17, 16, 14)], ids=["low>p50", "p50>high"]
)
def test_disordered_quantiles_are_flagged(quantiles):
    problems = audit_forecasts(forecasts(quantiles), history(p1=20))

    assert problems == ["1 forecast rows have low > median or median > high"]


def test_implausible_jump_is_flagged():
    problems = audit_forecasts(
        forecasts((8, 12, 16, 14), (400, 500, 600, 550)), history(p1=20, p2=20)
    )

    assert len(problems) == 1
    assert problems[0].startswith("1 forecasts jump far above history, e.g. sunny-farm/p2")
    assert "median 500 vs record 20" in problems[0]


def test_new_series_without_history_may_forecast_a_few_units():
    """No record yet: a small forecast is plausible, a large one is not."""
    assert audit_forecasts(forecasts((2, 5, 9, 7)), history()) == []
    assert len(audit_forecasts(forecasts((30, 40, 50, 45)), history())) == 1


def test_clean_recommendations_pass():
    frame = recommendations((14, 8, 16), (0, 0, 1))

    assert audit_recommendations(frame, expected("p1", "p2")) == []


def test_negative_recommendation_is_flagged():
    problems = audit_recommendations(recommendations((-1, -3, 2)), expected("p1"))

    assert "1 recommendations are negative" in problems


@pytest.mark.parametrize("units", [(20, 8, 16), (5, 8, 16)], ids=["above-high", "below-low"])
def test_recommendation_outside_its_range_is_flagged(units):
    problems = audit_recommendations(recommendations(units), expected("p1"))

    assert problems == ["1 recommendations fall outside their own range"]


@pytest.mark.parametrize("explanation", ["", "   ", None])
def test_missing_explanation_is_flagged(explanation):
    problems = audit_recommendations(
        recommendations((14, 8, 16), explanation=explanation), expected("p1")
    )

    assert problems == ["some recommendations have no explanation"]


def test_uncovered_expected_row_is_flagged():
    problems = audit_recommendations(recommendations((14, 8, 16)), expected("p1", "p2"))

    assert problems == [
        "1 active product market days have no recommendation, "
        "e.g. sunny-farm/p2 at ferry-plaza on 2026-06-06"
    ]


def test_coverage_does_not_depend_on_date_representation():
    """Frames read back from a warehouse may hold Timestamps on one side and dates on the other."""
    want = expected("p1")
    want["market_date"] = pd.to_datetime(want["market_date"])

    assert audit_recommendations(recommendations((14, 8, 16)), want) == []


def test_missing_units_are_flagged():
    frame = recommendations((14, 8, 16))
    frame.loc[0, "units_high"] = None

    assert audit_recommendations(frame, expected("p1")) == ["recommendations have missing units"]
