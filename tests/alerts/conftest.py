"""Local alert receivers and settings that point at them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from receivers import SmtpReceiver, WebhookReceiver

from marketprep.settings import Settings, load_settings, parse_warehouse_url
from marketprep.warehouse import Warehouse


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def alert_settings(tmp_path: Path, webhook, smtp) -> Callable[..., Settings]:
    def make(**overrides: str) -> Settings:
        env = {
            "MARKETPREP_HOME": str(tmp_path / "home"),
            "MARKETPREP_WAREHOUSE_URL": f"duckdb:///{tmp_path / 'warehouse.duckdb'}",
            "MARKETPREP_ALERT_WEBHOOK_URL": webhook.url,
            "MARKETPREP_SMTP_HOST": "127.0.0.1",
            "MARKETPREP_SMTP_PORT": str(smtp.port),
            "MARKETPREP_SMTP_TO": "ops@example.com, oncall@example.com",
        }
        env.update({f"MARKETPREP_{k.upper()}": v for k, v in overrides.items()})
        return load_settings(env)

    return make


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    return Warehouse(parse_warehouse_url(f"duckdb:///{tmp_path / 'warehouse.duckdb'}"))


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Warehouse:
    """The same on each backend, for the tests that show the state machine's SQL works on both."""
    if request.param == "duckdb":
        return Warehouse(parse_warehouse_url(f"duckdb:///{tmp_path / 'warehouse.duckdb'}"))
    return Warehouse(parse_warehouse_url(request.getfixturevalue("postgres_url")))
