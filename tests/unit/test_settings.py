"""Settings: defaults, the documented variable list, and parsing of the warehouse URL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from marketprep.settings import SETTINGS_TABLE, load_settings, parse_warehouse_url

README = Path(__file__).resolve().parents[2] / "README.md"
PG_URL = "postgresql://alice:s3cr%40t-pw@db.example.com:6543/market"
PG_PASSWORD = "s3cr@t-pw"


class RecordingEnv(dict):
    """An environment that remembers every variable name it was asked for."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.asked: set[str] = set()

    def get(self, key, default=None):
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.asked.add(key)
        return super().__getitem__(key)


def readme_settings_rows() -> dict[str, str]:
    """The README's settings table, variable name -> whole table row."""
    lines = re.findall(r"^\| `MARKETPREP_\w+` \|.*$", README.read_text(), flags=re.MULTILINE)
    return {line.split("`")[1]: line for line in lines}


def test_defaults_match_settings_table(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings({})

    for setting in SETTINGS_TABLE:
        if setting.env == "MARKETPREP_HOME":
            assert settings.home == tmp_path / setting.default
        elif setting.env == "MARKETPREP_WAREHOUSE_URL":
            assert settings.warehouse.kind == "duckdb"
            assert settings.warehouse.duckdb_path == settings.home / "warehouse.duckdb"
        else:
            value = getattr(settings, setting.env.removeprefix("MARKETPREP_").lower())
            assert value == type(value)(setting.default), setting.env


def test_every_variable_read_is_in_settings_table():
    env = RecordingEnv()
    load_settings(env)

    read = {name for name in env.asked if name.startswith("MARKETPREP_")}

    assert read == {s.env for s in SETTINGS_TABLE}


def test_readme_settings_table_matches_settings_table():
    """The README rows are SETTINGS_TABLE rendered: drift in name, default or meaning shows here."""
    expected = {
        s.env: f"| `{s.env}` | {f'`{s.default}`' if s.default else '*(empty)*'} | {s.description} |"
        for s in SETTINGS_TABLE
    }

    assert readme_settings_rows() == expected


def test_overrides_are_read(make_settings):
    settings = make_settings(
        horizon_days="21",
        default_cost_ratio="0.25",
        env="ci",
        square_base_url="http://127.0.0.1:8080/",
    )

    assert (settings.horizon_days, settings.default_cost_ratio, settings.env) == (21, 0.25, "ci")
    assert settings.square_base_url == "http://127.0.0.1:8080"


def test_duckdb_relative_url_resolves_against_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    location = parse_warehouse_url("duckdb:///data/warehouse.duckdb")

    assert location.kind == "duckdb"
    assert location.duckdb_path == tmp_path / "data" / "warehouse.duckdb"


def test_duckdb_absolute_url_with_four_slashes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    location = parse_warehouse_url("duckdb:////srv/marketprep/warehouse.duckdb")

    assert location.duckdb_path == Path("/srv/marketprep/warehouse.duckdb")


@pytest.mark.parametrize("url", ["duckdb:///", "duckdb://warehouse.duckdb"])
def test_duckdb_url_without_path_names_the_variable(url):
    with pytest.raises(ValueError, match="MARKETPREP_WAREHOUSE_URL"):
        parse_warehouse_url(url)


def test_postgres_url_parts():
    location = parse_warehouse_url(PG_URL)

    assert location.kind == "postgres"
    assert (location.pg_user, location.pg_password) == ("alice", PG_PASSWORD)
    assert (location.pg_host, location.pg_port, location.pg_dbname) == (
        "db.example.com",
        6543,
        "market",
    )


def test_postgres_url_defaults_user_and_port():
    location = parse_warehouse_url("postgresql://127.0.0.1/marketprep")

    assert (location.pg_user, location.pg_port, location.pg_password) == ("postgres", 5432, "")


def test_password_never_in_redacted_url_or_repr(make_settings):
    settings = make_settings(warehouse_url=PG_URL)

    assert settings.warehouse.redacted_url == "postgresql://alice@db.example.com:6543/market"
    assert PG_PASSWORD not in repr(settings.warehouse)
    assert "s3cr" not in repr(settings.warehouse)
    assert "s3cr" not in repr(settings)


def test_secrets_not_in_settings_repr(make_settings):
    settings = make_settings(events_token="phq-token-123", secret_key="fernet-key-456")

    assert "phq-token-123" not in repr(settings)
    assert "fernet-key-456" not in repr(settings)


def test_unknown_scheme_names_the_variable():
    with pytest.raises(ValueError, match="MARKETPREP_WAREHOUSE_URL has scheme 'mysql'"):
        parse_warehouse_url("mysql://root@localhost/marketprep")


def test_postgres_url_without_database_names_the_variable():
    with pytest.raises(ValueError, match="MARKETPREP_WAREHOUSE_URL.*names no database") as raised:
        parse_warehouse_url("postgresql://alice:hunter2@db.example.com:5432/")

    assert "hunter2" not in str(raised.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MARKETPREP_HORIZON_DAYS", "two weeks"),
        ("MARKETPREP_FORECAST_WORKERS", "1.5"),
        ("MARKETPREP_DEFAULT_COST_RATIO", "forty percent"),
        ("MARKETPREP_ENV", "staging"),
    ],
)
def test_bad_value_error_names_the_variable(name, value):
    with pytest.raises(ValueError, match=name):
        load_settings({name: value})


def test_dbt_env_for_duckdb(make_settings, tmp_path):
    settings = make_settings()

    assert settings.dbt_env() == {
        "MARKETPREP_DBT_TARGET": "duckdb",
        "MARKETPREP_DBT_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
    }


def test_dbt_env_for_postgres(make_settings):
    settings = make_settings(warehouse_url=PG_URL)

    assert settings.dbt_env() == {
        "MARKETPREP_DBT_TARGET": "postgres",
        "MARKETPREP_DBT_PG_HOST": "db.example.com",
        "MARKETPREP_DBT_PG_PORT": "6543",
        "MARKETPREP_DBT_PG_USER": "alice",
        "MARKETPREP_DBT_PG_PASSWORD": PG_PASSWORD,
        "MARKETPREP_DBT_PG_DBNAME": "market",
    }


def test_ticketmaster_key_not_in_settings_repr(make_settings):
    settings = make_settings(ticketmaster_api_key="tm-key-789")

    assert settings.ticketmaster_api_key == "tm-key-789"
    assert "tm-key-789" not in repr(settings)
