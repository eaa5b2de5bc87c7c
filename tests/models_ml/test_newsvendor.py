import math

import pytest

from models_ml.newsvendor import MAX_SERVICE_LEVEL, MIN_SERVICE_LEVEL, service_level


@pytest.mark.parametrize(
    ("price", "unit_cost", "salvage", "expected"),
    [
        (10.0, 4.0, 0.0, 0.6),  # Cu 6, Co 4
        (10.0, 4.0, 2.0, 0.75),  # a leftover still fetches 2: Co 2
        (8, 2, 0, 0.75),  # integers are prices too
    ],
)
def test_service_level_is_the_critical_ratio(price, unit_cost, salvage, expected):
    assert service_level(price, unit_cost, salvage) == pytest.approx(expected)


def test_low_margin_is_raised_to_the_median():
    # Cu 1, Co 4: the profit-optimal τ is 0.2, below the floor.
    assert service_level(5.0, 4.0) == MIN_SERVICE_LEVEL


def test_free_goods_are_capped():
    # Nothing to lose on a leftover: τ would be 1, bring an unbounded amount.
    assert service_level(5.0, 0.0) == MAX_SERVICE_LEVEL


@pytest.mark.parametrize(
    ("price", "unit_cost", "salvage", "named"),
    [
        (-1.0, 0.5, 0.0, "price"),
        (math.nan, 0.5, 0.0, "price"),
        ("10", 0.5, 0.0, "price"),
        (10.0, math.inf, 0.0, "unit_cost"),
        (10.0, -0.5, 0.0, "unit_cost"),
        (10.0, 2.0, -1.0, "salvage"),
        (3.0, 3.5, 0.0, "does not exceed unit_cost"),
        (3.0, 3.0, 0.0, "does not exceed unit_cost"),
        (10.0, 2.0, 2.5, "salvage 2.5 exceeds unit_cost"),
    ],
)
def test_invalid_inputs_say_what_is_wrong(price, unit_cost, salvage, named):
    with pytest.raises(ValueError, match=named):
        service_level(price, unit_cost, salvage)
