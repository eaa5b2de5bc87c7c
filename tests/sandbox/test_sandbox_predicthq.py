"""The fake PredictHQ Events API through plain `requests`: `next` paging, filters, auth."""

from __future__ import annotations

import datetime as dt

import requests

from sandbox.geo import distance_km


def _get(server, url: str | None = None, token: str | None = None, **params) -> requests.Response:
    headers = {"Authorization": f"Bearer {token or server.token}", "Accept": "application/json"}
    return requests.get(
        url or server.url + "/v1/events/", params=params, headers=headers, timeout=10
    )


def _window(world, km: float = 10) -> dict:
    market = world.markets[0]
    return {
        "within": f"{km}km@{market.latitude},{market.longitude}",
        "active.gte": world.config.start.isoformat(),
        "active.lte": world.config.horizon_end.isoformat(),
        "active.tz": market.timezone,
    }


def test_pages_follow_next_until_null(predicthq_server, small_world):
    first = _get(predicthq_server, **_window(small_world), limit=4).json()
    count, results, url, pages = first["count"], list(first["results"]), first["next"], 1
    assert first["previous"] is None and first["overflow"] is False
    while url:
        page = _get(predicthq_server, url=url).json()
        assert page["count"] == count and page["previous"].startswith(
            predicthq_server.url + "/v1/events/?"
        )
        results += page["results"]
        url, pages = page["next"], pages + 1
    assert pages == -(-count // 4) > 2
    ids = [e["id"] for e in results]
    assert len(ids) == len(set(ids)) == count
    starts = [e["start"] for e in results if e["timezone"]]
    assert starts == sorted(starts, reverse=True)  # default sort: -start
    assert [r.query.get("offset") for r in predicthq_server.requests] == [None] + [
        str(4 * i) for i in range(1, pages)
    ]


def test_filters_select_events_near_the_point_in_the_window(predicthq_server, small_world):
    market = small_world.markets[0]
    query = _window(small_world, km=3) | {
        "active.gte": "2025-06-01",
        "active.lte": "2025-06-30",
        "limit": 500,
    }
    events = _get(predicthq_server, **query).json()["results"]
    assert events
    for event in events:
        assert event["state"] == "active"  # the default state
        if event["scope"] == "locality":
            lon, lat = event["location"]
            assert distance_km(lat, lon, market.latitude, market.longitude) <= 3
        first_day = dt.date.fromisoformat((event.get("start_local") or event["start"])[:10])
        last_day = dt.date.fromisoformat((event.get("end_local") or event["end"])[:10])
        assert first_day <= dt.date(2025, 6, 30) and last_day >= dt.date(2025, 6, 1)
    assert any(e["category"] == "public-holidays" for e in events)  # country-wide: any US point

    everything = _get(
        predicthq_server, **_window(small_world, km=50), limit=500, state="active,predicted,deleted"
    ).json()
    states = {e["state"] for e in everything["results"]}
    assert "deleted" in states
    assert not any(
        e["state"] == "deleted"
        for e in _get(predicthq_server, **_window(small_world, km=50), limit=500).json()["results"]
    )
    concerts = _get(
        predicthq_server, **_window(small_world, km=50), limit=500, category="concerts,sports"
    ).json()
    assert {e["category"] for e in concerts["results"]} <= {"concerts", "sports"}


def test_overflow_caps_paging(predicthq_server, small_world):
    query = _window(small_world, km=50) | {"limit": 5}
    total = _get(predicthq_server, **query).json()["count"]
    predicthq_server.app.max_results = 7
    try:
        first = _get(predicthq_server, **query).json()
        second = _get(predicthq_server, url=first["next"]).json()
    finally:
        predicthq_server.app.max_results = 10_000
    assert first["overflow"] is True and first["count"] == total > 7
    assert len(second["results"]) == 2 and second["next"] is None


def test_auth_path_and_parameter_errors(predicthq_server, small_world):
    assert _get(predicthq_server, token="wrong").json() == {"error": "Authorization required"}
    assert _get(predicthq_server, token="wrong").status_code == 401
    no_slash = _get(
        predicthq_server, url=predicthq_server.url + "/v1/events", **_window(small_world)
    )
    assert no_slash.status_code == 404
    for bad in (
        {"within": "10@47,-122"},
        {"within": "1.5m@47,-122"},
        {"category": "picnics"},
        {"active.gte": "June"},
        {"limit": "0"},
    ):
        response = _get(predicthq_server, **bad)
        assert response.status_code == 400 and "error" in response.json(), bad
