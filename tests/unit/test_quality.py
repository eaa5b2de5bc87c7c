"""The quality gates over a real warehouse on both backends: a table's physical schema, its suite
and freshness, and the verdict that holds vendors back or stops the run."""

from __future__ import annotations

import datetime as dt

from data_contracts import contract
from marketprep import quality

NOW = dt.datetime(2026, 6, 6, 11, 0, tzinfo=dt.UTC)
RECOMMENDATIONS = contract("forecast.recommendations")
WEATHER = contract("raw.weather_daily")


def recommendation(vendor: str, product: str, units: int = 10) -> dict:
    return {
        "vendor_id": vendor,
        "market_id": "ballard",
        "market_date": dt.date(2026, 6, 7),
        "product_id": product,
        "product_name": "Bread",
        "recommended_units": units,
        "units_low": 5,
        "units_high": 15,
        "service_level": 0.8,
        "model": "prophet",
        "explanation": "usual",
        "published_at": NOW,
        "run_id": "r",
    }


def weather(market: str, day: int, fetched_hours_ago: float) -> dict:
    return {
        "market_id": market,
        "weather_date": dt.date(2026, 6, day),
        "source": "open_meteo_forecast",
        "temp_max_c": 21.0,
        "temp_min_c": 11.0,
        "precip_mm": 0.0,
        "fetched_at": NOW - dt.timedelta(hours=fetched_hours_ago),
    }


def test_rows_breaking_the_contract_are_pinned_on_their_vendor(warehouse):
    warehouse.replace(
        RECOMMENDATIONS,
        [
            recommendation("ann", "p1"),
            recommendation("bob", "p1", units=20),
            recommendation("bob", "p2"),
        ],
    )

    audit = quality.audit_table(warehouse, RECOMMENDATIONS, NOW)

    assert audit.rows == 3 and audit.table_problems == []
    assert audit.by_subject == {"bob": ["recommended_units > units_high: 1 row(s)"]}


def test_a_retyped_or_renamed_column_is_the_tables_problem(warehouse):
    warehouse.replace(RECOMMENDATIONS, [recommendation("ann", "p1")])
    with warehouse.session() as session:
        session.execute("alter table forecast.recommendations rename column model to model_name")

    audit = quality.audit_table(warehouse, RECOMMENDATIONS, NOW)

    assert audit.by_subject == {}
    assert "forecast.recommendations.model is missing" in audit.table_problems
    assert any("columns its contract lacks: ['model_name']" in p for p in audit.table_problems)


def test_physical_types_are_checked_against_the_contract(warehouse):
    warehouse.replace(RECOMMENDATIONS, [recommendation("ann", "p1")])
    with warehouse.session() as session:
        session.execute("alter table forecast.recommendations alter column units_low type text")
        assert quality.physical_schema_problems(session, RECOMMENDATIONS) == [
            "forecast.recommendations.units_low is text, the contract says int64"
            if warehouse.kind == "postgres"
            else "forecast.recommendations.units_low is varchar, the contract says int64"
        ]


def test_freshness_flags_the_old_subject_and_the_one_left_behind(warehouse):
    warehouse.replace(
        WEATHER,
        [
            weather("ballard", 6, fetched_hours_ago=1),
            weather("fremont", 6, fetched_hours_ago=20),  # its fetch failed this morning
            weather("lake-city", 6, fetched_hours_ago=50),  # nothing for two days
        ],
    )

    with warehouse.session() as session:
        stale = quality.freshness_problems(session, WEATHER, NOW)

    assert sorted(stale) == ["fremont", "lake-city"]
    assert "19.0 h behind the other market_ids" in stale["fremont"][0]
    assert stale["lake-city"][0].startswith("raw.weather_daily not refreshed for 50 h (limit 26 h")


def test_a_markets_problem_holds_back_every_vendor_there():
    findings = quality.findings_for(
        "market_id", {"fremont": ["stale weather"]}, {"fremont": {"ann", "bob"}, "ballard": {"cid"}}
    )

    assert findings == [
        quality.Finding("ann", "market:fremont", "stale weather"),
        quality.Finding("bob", "market:fremont", "stale weather"),
    ]


def test_verdict_holds_back_some_vendors_but_blocks_when_all_fail():
    ann = quality.Finding("ann", "vendor:ann", "negative forecasts")
    bob = quality.Finding("bob", "vendor:bob", "negative forecasts")
    gone = quality.Finding("old", "vendor:old", "nulls")

    some = quality.judge("k", 10, [ann, gone], [], {"ann", "bob"})
    every = quality.judge("k", 10, [ann, bob], [], {"ann", "bob"})
    drift = quality.judge("k", 10, [], ["raw.x.y is missing"], {"ann", "bob"})

    assert (some.vendors_held_back, some.blocks) == (["ann"], False)  # inactive vendors ignored
    assert every.blocks and every.systemic[0].startswith("every active vendor fails (2)")
    assert drift.blocks and drift.describe() == "raw.x.y is missing"


def test_record_replaces_only_its_own_checks_findings(warehouse):
    ann = quality.Finding("ann", "vendor:ann", "nulls")
    bob = quality.Finding("bob", "market:fremont", "stale")
    quality.record(warehouse, quality.judge("a:x", 1, [ann], [], set()), "r1", NOW)
    quality.record(warehouse, quality.judge("b:y", 1, [bob], [], set()), "r1", NOW)

    quality.record(warehouse, quality.judge("a:x", 1, [], [], set()), "r2", NOW)

    rows = warehouse.query("select check_key, vendor_id, subject from ops.check_findings")
    assert rows.values.tolist() == [["b:y", "bob", "market:fremont"]]
