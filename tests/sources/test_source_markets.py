import pytest

from sources.markets import market_id_for


def test_vendors_a_few_metres_apart_share_the_market_id():
    assert market_id_for(47.66912, -122.38705) == "mkt_47.669_-122.387"
    assert market_id_for(47.66938, -122.38661) == "mkt_47.669_-122.387"


def test_markets_a_kilometre_apart_get_different_ids():
    assert market_id_for(47.669, -122.387) != market_id_for(47.678, -122.387)


def test_negative_zero_prints_like_zero():
    assert market_id_for(-0.0001, -0.0004) == "mkt_0.000_0.000"


@pytest.mark.parametrize(("lat", "lon"), [(91.0, 0.0), (0.0, -181.0), (float("nan"), 0.0)])
def test_out_of_range_coordinates_are_refused(lat, lon):
    with pytest.raises(ValueError, match="latitude|longitude"):
        market_id_for(lat, lon)
