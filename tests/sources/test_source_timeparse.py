from datetime import UTC, datetime, timedelta, timezone

import pytest

from sources.timeparse import format_rfc3339, parse_local, parse_rfc3339


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-08-06T02:47:37.140Z", datetime(2019, 8, 6, 2, 47, 37, 140000, tzinfo=UTC)),
        ("2019-08-06T02:47:37Z", datetime(2019, 8, 6, 2, 47, 37, tzinfo=UTC)),
        ("2019-03-04T21:54:45+00:00", datetime(2019, 3, 4, 21, 54, 45, tzinfo=UTC)),
        ("2025-06-07T20:30:00-05:00", datetime(2025, 6, 8, 1, 30, tzinfo=UTC)),
        ("2025-06-07T20:30:00.5+05:30", datetime(2025, 6, 7, 15, 0, 0, 500000, tzinfo=UTC)),
        # Nanosecond fractions are cut to microseconds, not rounded into the next second.
        ("2025-06-07T23:59:59.999999999Z", datetime(2025, 6, 7, 23, 59, 59, 999999, tzinfo=UTC)),
        ("2025-06-10 09:30:00+00:00", datetime(2025, 6, 10, 9, 30, tzinfo=UTC)),
    ],
)
def test_parse_rfc3339_variants_give_the_same_instant_in_utc(text, expected):
    parsed = parse_rfc3339(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text", ["2025-06-07", "2025-06-07T12:00:00", "20250607T120000Z", "yesterday", 1717772400, None]
)
def test_parse_rfc3339_rejects_what_names_no_instant(text):
    with pytest.raises(ValueError, match="2025|yesterday|1717772400|None"):
        parse_rfc3339(text)


def test_parse_local_reads_zoneless_wall_clock_and_refuses_offsets():
    assert parse_local("2024-07-04T23:59:59") == datetime(2024, 7, 4, 23, 59, 59)
    assert parse_local("2025-06-06T20:00") == datetime(2025, 6, 6, 20, 0)
    with pytest.raises(ValueError, match="offset"):
        parse_local("2024-06-07T03:00:00Z")


def test_format_rfc3339_writes_utc_with_z_and_refuses_naive():
    chicago_summer = timezone(timedelta(hours=-5))
    assert format_rfc3339(datetime(2025, 6, 1, 19, 0, tzinfo=chicago_summer)) == (
        "2025-06-02T00:00:00Z"
    )
    assert format_rfc3339(datetime(2025, 6, 1, 0, 0, 0, 1500, tzinfo=UTC)) == (
        "2025-06-01T00:00:00.001500Z"
    )
    with pytest.raises(ValueError, match="naive"):
        format_rfc3339(datetime(2025, 6, 1))
