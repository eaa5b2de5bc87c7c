"""Settings: every knob comes from a `MARKETPREP_*` environment variable with a safe local default.

Read once at start-up through `load_settings()`; nothing reads the environment at import time.
The README's settings table lists the same variables; `SETTINGS_TABLE` below is what it is generated from.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

DEFAULT_HOME = ".marketprep"


@dataclass(frozen=True)
class Setting:
    env: str
    default: str
    description: str


SETTINGS_TABLE: tuple[Setting, ...] = (
    Setting(
        "MARKETPREP_HOME",
        DEFAULT_HOME,
        "Local state folder: DuckDB file, Dagster instance, secret key.",
    ),
    Setting(
        "MARKETPREP_WAREHOUSE_URL",
        "duckdb:///<MARKETPREP_HOME>/warehouse.duckdb",
        "Warehouse: `duckdb:///path/file.duckdb` (embedded) or `postgresql://user@host:port/db`.",
    ),
    Setting("MARKETPREP_SQUARE_BASE_URL", "https://connect.squareup.com", "Square Connect API."),
    Setting("MARKETPREP_SQUARE_VERSION", "2025-08-20", "Pinned `Square-Version` header."),
    Setting(
        "MARKETPREP_OPEN_METEO_FORECAST_URL",
        "https://api.open-meteo.com",
        "Open-Meteo forecast API.",
    ),
    Setting(
        "MARKETPREP_OPEN_METEO_ARCHIVE_URL",
        "https://archive-api.open-meteo.com",
        "Open-Meteo historical (archive) API.",
    ),
    Setting("MARKETPREP_EVENTS_BASE_URL", "https://api.predicthq.com", "PredictHQ events API."),
    Setting(
        "MARKETPREP_EVENTS_TOKEN",
        "",
        "PredictHQ access token (secret). Empty: events come from Ticketmaster, if it has a key.",
    ),
    Setting(
        "MARKETPREP_TICKETMASTER_BASE_URL",
        "https://app.ticketmaster.com",
        "Ticketmaster Discovery API, the events fallback when PredictHQ fails.",
    ),
    Setting(
        "MARKETPREP_TICKETMASTER_API_KEY",
        "",
        "Ticketmaster API key (secret; sent in the query string, never logged). Empty: no "
        "events fallback, so a PredictHQ failure leaves the days' events unknown.",
    ),
    Setting(
        "MARKETPREP_NWS_BASE_URL",
        "https://api.weather.gov",
        "US National Weather Service API, the forecast fallback for US markets.",
    ),
    Setting(
        "MARKETPREP_NWS_USER_AGENT",
        "MarketPrep/0.1",
        "User-Agent sent to api.weather.gov, which refuses requests without one; add a "
        "contact, e.g. `MarketPrep/0.1 (ops@example.com)`.",
    ),
    Setting(
        "MARKETPREP_MARKET_SCHEDULE_FILE",
        "",
        "YAML file of market schedule overrides (weekdays, season, closures) on top of what "
        "sales show. Empty: schedules are inferred only.",
    ),
    Setting(
        "MARKETPREP_SECRET_KEY",
        "",
        "Fernet key that encrypts vendors' Square tokens at rest. Empty: a key file is created "
        "under MARKETPREP_HOME (local use only).",
    ),
    Setting(
        "MARKETPREP_HORIZON_DAYS", "14", "How many days ahead upcoming market days are forecast."
    ),
    Setting(
        "MARKETPREP_DEFAULT_COST_RATIO",
        "0.4",
        "Unit cost as a share of price when a product has no cost of its own (sets the newsvendor level).",
    ),
    Setting("MARKETPREP_FORECAST_WORKERS", "2", "Processes that fit forecasts in parallel."),
    Setting(
        "MARKETPREP_ALERT_WEBHOOK_URL",
        "",
        "Slack-compatible incoming webhook that alerts are posted to (secret: the URL is the "
        "credential). Empty: no webhook.",
    ),
    Setting(
        "MARKETPREP_SMTP_HOST", "", "SMTP server that alert email goes through. Empty: no email."
    ),
    Setting("MARKETPREP_SMTP_PORT", "25", "Port of the SMTP server."),
    Setting("MARKETPREP_SMTP_FROM", "marketprep@localhost", "Sender address of alert email."),
    Setting(
        "MARKETPREP_SMTP_TO", "", "Comma-separated recipients of alert email. Empty: no email."
    ),
    Setting(
        "MARKETPREP_SMTP_USER",
        "",
        "SMTP login. Empty: no login. With a login the password is only sent after STARTTLS.",
    ),
    Setting("MARKETPREP_SMTP_PASSWORD", "", "SMTP password (secret)."),
    Setting(
        "MARKETPREP_ALERT_MIN_INTERVAL_MINUTES",
        "60",
        "An incident that clears and comes back within this many minutes of its last message is "
        "announced again only once the interval has passed (flapping).",
    ),
    Setting(
        "MARKETPREP_ALERT_MAX_PER_HOUR",
        "20",
        "At most this many alert messages in any hour; the rest wait, and are dropped if their "
        "incident clears first.",
    ),
    Setting("MARKETPREP_ENV", "local", "local, ci or prod: picks executor and asset kinds."),
)


@dataclass(frozen=True)
class WarehouseLocation:
    """Where the warehouse lives, parsed from MARKETPREP_WAREHOUSE_URL."""

    url: str = field(repr=False)  # may hold the password; redacted_url is the printable form
    kind: str  # "duckdb" or "postgres"
    duckdb_path: Path | None = None
    pg_host: str = "127.0.0.1"
    pg_port: int = 5432
    pg_user: str = "postgres"
    pg_password: str = field(default="", repr=False)
    pg_dbname: str = "marketprep"

    @property
    def redacted_url(self) -> str:
        if self.kind == "duckdb":
            return self.url
        return f"postgresql://{self.pg_user}@{self.pg_host}:{self.pg_port}/{self.pg_dbname}"


def parse_warehouse_url(url: str) -> WarehouseLocation:
    parts = urlsplit(url)
    if parts.scheme == "duckdb":
        # SQLAlchemy's convention: duckdb:///relative/file.duckdb, duckdb:////absolute/file.duckdb.
        if not url.startswith("duckdb:///") or url == "duckdb:///":
            raise ValueError(
                f"MARKETPREP_WAREHOUSE_URL={url!r}: write duckdb:///path/to/file.duckdb"
            )
        return WarehouseLocation(
            url=url, kind="duckdb", duckdb_path=Path(url[len("duckdb:///") :]).resolve()
        )
    if parts.scheme in ("postgres", "postgresql", "postgresql+psycopg"):
        dbname = parts.path.lstrip("/")
        if not dbname:
            raise ValueError(
                f"MARKETPREP_WAREHOUSE_URL {parts.scheme}://{parts.hostname}… names no database: "
                "add /dbname at the end"
            )
        return WarehouseLocation(
            url=url,
            kind="postgres",
            pg_host=parts.hostname or "127.0.0.1",
            pg_port=parts.port or 5432,
            pg_user=unquote(parts.username or "postgres"),
            pg_password=unquote(parts.password or ""),
            pg_dbname=dbname,
        )
    raise ValueError(
        f"MARKETPREP_WAREHOUSE_URL has scheme {parts.scheme!r}: use duckdb:///path/file.duckdb "
        "or postgresql://user@host:port/dbname"
    )


@dataclass(frozen=True)
class Settings:
    home: Path
    warehouse: WarehouseLocation
    square_base_url: str
    square_version: str
    open_meteo_forecast_url: str
    open_meteo_archive_url: str
    events_base_url: str
    events_token: str = field(repr=False)
    ticketmaster_base_url: str
    ticketmaster_api_key: str = field(repr=False)
    nws_base_url: str
    nws_user_agent: str
    market_schedule_file: str
    secret_key: str = field(repr=False)
    horizon_days: int
    default_cost_ratio: float
    forecast_workers: int
    alert_webhook_url: str = field(repr=False)
    smtp_host: str
    smtp_port: int
    smtp_from: str
    smtp_to: str
    smtp_user: str
    smtp_password: str = field(repr=False)
    alert_min_interval_minutes: int
    alert_max_per_hour: int
    env: str

    def dbt_env(self) -> dict[str, str]:
        """Environment variables that dbt_project/profiles.yml reads to reach this warehouse."""
        wh = self.warehouse
        if wh.kind == "duckdb":
            return {
                "MARKETPREP_DBT_TARGET": "duckdb",
                "MARKETPREP_DBT_DUCKDB_PATH": str(wh.duckdb_path),
            }
        return {
            "MARKETPREP_DBT_TARGET": "postgres",
            "MARKETPREP_DBT_PG_HOST": wh.pg_host,
            "MARKETPREP_DBT_PG_PORT": str(wh.pg_port),
            "MARKETPREP_DBT_PG_USER": wh.pg_user,
            "MARKETPREP_DBT_PG_PASSWORD": wh.pg_password,
            "MARKETPREP_DBT_PG_DBNAME": wh.pg_dbname,
        }


def _number(env: Mapping[str, str], name: str, default: str, kind: type) -> int | float:
    raw = env.get(name) or default
    try:
        return kind(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a valid {kind.__name__}") from None


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read every MARKETPREP_* variable once; call at start-up, never at import time."""
    env = os.environ if env is None else env
    defaults = {s.env: s.default for s in SETTINGS_TABLE}

    def get(name: str) -> str:
        return env.get(name) or defaults[name]

    home = Path(get("MARKETPREP_HOME")).resolve()
    warehouse_url = env.get("MARKETPREP_WAREHOUSE_URL") or f"duckdb:///{home / 'warehouse.duckdb'}"
    environment = get("MARKETPREP_ENV")
    if environment not in ("local", "ci", "prod"):
        raise ValueError(f"MARKETPREP_ENV={environment!r}: use local, ci or prod")
    return Settings(
        home=home,
        warehouse=parse_warehouse_url(warehouse_url),
        square_base_url=get("MARKETPREP_SQUARE_BASE_URL").rstrip("/"),
        square_version=get("MARKETPREP_SQUARE_VERSION"),
        open_meteo_forecast_url=get("MARKETPREP_OPEN_METEO_FORECAST_URL").rstrip("/"),
        open_meteo_archive_url=get("MARKETPREP_OPEN_METEO_ARCHIVE_URL").rstrip("/"),
        events_base_url=get("MARKETPREP_EVENTS_BASE_URL").rstrip("/"),
        events_token=env.get("MARKETPREP_EVENTS_TOKEN", ""),
        ticketmaster_base_url=get("MARKETPREP_TICKETMASTER_BASE_URL").rstrip("/"),
        ticketmaster_api_key=env.get("MARKETPREP_TICKETMASTER_API_KEY", ""),
        nws_base_url=get("MARKETPREP_NWS_BASE_URL").rstrip("/"),
        nws_user_agent=get("MARKETPREP_NWS_USER_AGENT"),
        market_schedule_file=env.get("MARKETPREP_MARKET_SCHEDULE_FILE", ""),
        secret_key=env.get("MARKETPREP_SECRET_KEY", ""),
        horizon_days=int(_number(env, "MARKETPREP_HORIZON_DAYS", "14", int)),
        default_cost_ratio=float(_number(env, "MARKETPREP_DEFAULT_COST_RATIO", "0.4", float)),
        forecast_workers=int(_number(env, "MARKETPREP_FORECAST_WORKERS", "2", int)),
        alert_webhook_url=env.get("MARKETPREP_ALERT_WEBHOOK_URL", ""),
        smtp_host=get("MARKETPREP_SMTP_HOST"),
        smtp_port=int(_number(env, "MARKETPREP_SMTP_PORT", "25", int)),
        smtp_from=get("MARKETPREP_SMTP_FROM"),
        smtp_to=get("MARKETPREP_SMTP_TO"),
        smtp_user=get("MARKETPREP_SMTP_USER"),
        smtp_password=env.get("MARKETPREP_SMTP_PASSWORD", ""),
        alert_min_interval_minutes=int(
            _number(env, "MARKETPREP_ALERT_MIN_INTERVAL_MINUTES", "60", int)
        ),
        alert_max_per_hour=int(_number(env, "MARKETPREP_ALERT_MAX_PER_HOUR", "20", int)),
        env=environment,
    )
