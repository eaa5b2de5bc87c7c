"""Alerts: one message per incident on every channel, a resolve when it clears, rate limits, and
never a secret, against a local webhook and a local SMTP server."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from data_contracts import contract
from marketprep.alert_channels import DeliveryError, EmailChannel, Message, channels, redact
from marketprep.alerts import Incident, Limits, held_back_incidents, notify

# microseconds, as a real clock has them: PostgreSQL once read them back as whole seconds
T0 = dt.datetime(2026, 6, 6, 4, 30, 0, 123456, tzinfo=dt.UTC)
LIMITS = Limits(min_interval=dt.timedelta(minutes=60), max_per_hour=20)
BOB = Incident(
    "held_back:vendor:bob",
    "held_back",
    "Vendor bob held back",
    "- raw/square_catalog:matches_contract: not refreshed by the last load",
)


def alerts(warehouse):
    return warehouse.query("select * from ops.alerts order by opened_at, incident_key")


def test_one_alert_per_incident_then_one_resolve(any_warehouse, alert_settings, webhook, smtp):
    warehouse = any_warehouse
    targets = channels(alert_settings())

    for minutes in (0, 5, 10):  # observed on three evaluations: still one incident
        notify(warehouse, "held_back", [BOB], T0 + dt.timedelta(minutes=minutes), targets, LIMITS)

    assert len(webhook.posts) == 1 and len(smtp.messages) == 1
    assert "Vendor bob held back" in webhook.texts[0]
    assert smtp.subjects == ["[MarketPrep] Vendor bob held back"]
    assert smtp.envelopes[0][1] == ["ops@example.com", "oncall@example.com"]

    outcome = notify(warehouse, "held_back", [], T0 + dt.timedelta(minutes=15), targets, LIMITS)

    assert outcome.resolved == ["held_back:vendor:bob"]
    assert len(webhook.posts) == 2 and "Resolved: Vendor bob held back" in webhook.texts[1]
    assert smtp.subjects[1] == "[MarketPrep] Resolved: Vendor bob held back"
    [row] = alerts(warehouse).to_dict("records")
    assert row["status"] == "resolved" and row["delivery"] == "webhook, email"
    notify(warehouse, "held_back", [], T0 + dt.timedelta(minutes=20), targets, LIMITS)
    assert len(webhook.posts) == 2  # resolved once, not again


def test_incidents_of_other_kinds_are_left_alone(warehouse, alert_settings, webhook):
    targets = channels(alert_settings())
    notify(warehouse, "held_back", [BOB], T0, targets, LIMITS)

    notify(warehouse, "check_failed", [], T0, targets, LIMITS)

    assert alerts(warehouse)["status"].tolist() == ["open"]
    assert len(webhook.posts) == 1


def test_unknown_state_neither_resolves_nor_reopens(warehouse, alert_settings, webhook):
    targets = channels(alert_settings())
    notify(warehouse, "held_back", [BOB], T0, targets, LIMITS)

    notify(warehouse, "held_back", [], T0, targets, LIMITS, unknown={BOB.key})

    assert alerts(warehouse)["status"].tolist() == ["open"]
    assert len(webhook.posts) == 1


def test_flapping_incident_waits_for_the_interval(warehouse, alert_settings, webhook):
    targets = channels(alert_settings())
    notify(warehouse, "held_back", [BOB], T0, targets, LIMITS)
    notify(warehouse, "held_back", [], T0 + dt.timedelta(minutes=10), targets, LIMITS)

    again = notify(warehouse, "held_back", [BOB], T0 + dt.timedelta(minutes=20), targets, LIMITS)

    assert again.opened == [BOB.key] and again.sent == [] and again.waiting == 1
    assert len(webhook.posts) == 2  # open, resolve
    later = notify(warehouse, "held_back", [BOB], T0 + dt.timedelta(minutes=71), targets, LIMITS)
    assert later.sent == [f"open {BOB.key}"] and len(webhook.posts) == 3


def test_volume_limit_holds_the_rest_and_drops_what_cleared(warehouse, alert_settings, webhook):
    targets = channels(alert_settings())
    limits = Limits(min_interval=dt.timedelta(minutes=60), max_per_hour=2)
    incidents = [
        Incident(f"held_back:vendor:{v}", "held_back", f"Vendor {v} held back", "stale")
        for v in ("ann", "bob", "cid")
    ]

    first = notify(warehouse, "held_back", incidents, T0, targets, limits)
    assert len(first.sent) == 2 and first.waiting == 1 and len(webhook.posts) == 2

    # cid's alert never went out; it clears before the hour is over: nothing is said about it.
    notify(warehouse, "held_back", incidents[:2], T0 + dt.timedelta(minutes=30), targets, limits)
    assert len(webhook.posts) == 2
    notify(warehouse, "held_back", incidents[:2], T0 + dt.timedelta(minutes=90), targets, limits)
    assert len(webhook.posts) == 2
    rows = alerts(warehouse).set_index("incident_key")
    assert rows.loc["held_back:vendor:cid", "status"] == "resolved"
    assert rows["open_sent_at"].isna().tolist().count(True) == 1


def test_no_secret_reaches_a_message_or_the_table(warehouse, alert_settings, webhook, smtp):
    settings = alert_settings(events_token="phq-secret-token-77", smtp_password="pw-9911")
    from marketprep.alert_channels import settings_secrets

    leaky = Incident(
        "run_failed:marketprep_daily",
        "run_failed",
        "Run failed",
        f"POST {webhook.url} failed; Authorization: Bearer sq0atp-VENDORTOKEN123456; "
        "https://app.ticketmaster.com/discovery?apikey=tm-key-4455&size=5; "
        "token=phq-secret-token-77; postgresql://alice:hunter22@db:5432/x; pw-9911",
    )

    notify(
        warehouse,
        "run_failed",
        [leaky],
        T0,
        channels(settings),
        LIMITS,
        secrets=settings_secrets(settings),
    )

    stored = alerts(warehouse).to_json()
    sent = json.dumps(webhook.posts) + "".join(m.as_string() for m in smtp.messages)
    for secret in (
        "secret-hook",
        "VENDORTOKEN123456",
        "tm-key-4455",
        "phq-secret-token-77",
        "hunter22",
        "pw-9911",
    ):
        assert secret not in stored and secret not in sent, secret
    assert "[redacted]" in webhook.texts[0]


def test_failing_channel_is_recorded_and_the_other_still_delivers(
    warehouse, alert_settings, webhook, smtp
):
    targets = channels(alert_settings())
    webhook.status = 500

    notify(warehouse, "held_back", [BOB], T0, targets, LIMITS)

    [row] = alerts(warehouse).to_dict("records")
    assert row["delivery"] == "email; webhook: HTTP 500"
    assert len(smtp.messages) == 1
    notify(warehouse, "held_back", [BOB], T0 + dt.timedelta(minutes=1), targets, LIMITS)
    assert len(smtp.messages) == 1  # delivered once is delivered


def test_undelivered_alert_is_retried(warehouse, alert_settings, webhook):
    targets = channels(alert_settings(smtp_host=""))
    webhook.status = 503

    first = notify(warehouse, "held_back", [BOB], T0, targets, LIMITS)
    assert first.sent == [] and first.errors == ["webhook: HTTP 503"]
    assert alerts(warehouse)["open_sent_at"].isna().all()

    webhook.status = 200
    second = notify(warehouse, "held_back", [BOB], T0 + dt.timedelta(minutes=1), targets, LIMITS)
    assert second.sent == [f"open {BOB.key}"] and len(webhook.posts) == 2


def test_without_channels_incidents_are_only_recorded(warehouse, alert_settings):
    settings = alert_settings(alert_webhook_url="", smtp_host="")

    outcome = notify(warehouse, "held_back", [BOB], T0, channels(settings), LIMITS)

    assert channels(settings) == [] and outcome.sent == [f"open {BOB.key}"]
    assert alerts(warehouse)["delivery"].tolist() == ["recorded only (no channel configured)"]


def test_password_is_never_sent_without_starttls(smtp):
    channel = EmailChannel("127.0.0.1", smtp.port, "mp@localhost", ("ops@example.com",), "mp", "pw")

    with pytest.raises(DeliveryError, match="no STARTTLS"):
        channel.send(Message("subject", "text"))

    assert smtp.messages == []


def test_unreachable_webhook_error_does_not_quote_the_url():
    from marketprep.alert_channels import WebhookChannel

    with pytest.raises(DeliveryError) as raised:
        WebhookChannel("http://127.0.0.1:9/services/T1/B2/very-secret").send(Message("s", "t"))

    assert "very-secret" not in str(raised.value) and str(raised.value).startswith("webhook:")


@pytest.mark.parametrize(
    ("text", "leaked"),
    [
        ("Authorization: Bearer EAAAl2bSeCreT0123", "EAAAl2bSeCreT0123"),
        ("GET /x?apikey=abc123xyz&size=5", "abc123xyz"),
        ('{"access_token": "tok-123456"}', "tok-123456"),
        ("postgresql://app:s3cr3t@db:5432/prod", "s3cr3t"),
        ("https://hooks.slack.com/services/T0/B0/XyZ", "XyZ"),
    ],
)
def test_redact_removes_credential_shapes(text, leaked):
    assert leaked not in redact(text)


def test_held_back_incidents_are_one_per_failing_subject(warehouse):
    causes = {
        "ann": [
            {
                "subject": "market:ballard",
                "check": "raw/weather_daily:matches_contract",
                "reason": "stale",
            }
        ],
        "bob": [
            {
                "subject": "market:ballard",
                "check": "raw/weather_daily:matches_contract",
                "reason": "stale",
            },
            {
                "subject": "vendor:bob",
                "check": "raw/square_catalog:matches_contract",
                "reason": "token revoked",
            },
        ],
    }
    warehouse.replace(
        contract("serving.vendor_status"),
        [
            {
                "vendor_id": vendor,
                "status": "held_back",
                "version": 3,
                "rows_served": 4,
                "stale_since": T0,
                "reason": "x",
                "causes": json.dumps(found),
                "run_id": "r",
                "updated_at": T0,
            }
            for vendor, found in causes.items()
        ]
        + [
            {
                "vendor_id": "cid",
                "status": "published",
                "version": 3,
                "rows_served": 4,
                "stale_since": None,
                "reason": None,
                "causes": None,
                "run_id": "r",
                "updated_at": T0,
            }
        ],
    )

    incidents = {i.key: i for i in held_back_incidents(warehouse)}

    assert sorted(incidents) == ["held_back:market:ballard", "held_back:vendor:bob"]
    assert "ann, bob" in incidents["held_back:market:ballard"].summary
    assert "token revoked" in incidents["held_back:vendor:bob"].detail
