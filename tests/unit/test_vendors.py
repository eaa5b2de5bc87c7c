"""Vendor registry: tokens encrypted at rest; one undecryptable vendor never stops the others."""

from __future__ import annotations

import stat

import pytest
from cryptography.fernet import Fernet

from marketprep.vendors import VendorCredentials, active_vendors, register_vendor

TOKEN = "EAAAl-sandbox-token-0123456789"


def test_register_then_active_vendors_decrypts_the_token(duckdb_warehouse, make_settings):
    settings = make_settings(secret_key=Fernet.generate_key().decode())

    register_vendor(duckdb_warehouse, settings, "sunny-farm", "Sunny Farm", f"  {TOKEN}\n")

    assert active_vendors(duckdb_warehouse, settings) == [
        VendorCredentials("sunny-farm", "Sunny Farm", TOKEN)
    ]


def test_re_registering_replaces_name_and_token(duckdb_warehouse, make_settings):
    settings = make_settings()

    register_vendor(duckdb_warehouse, settings, "sunny-farm", "Sunny", "old-token")
    register_vendor(duckdb_warehouse, settings, "sunny-farm", "Sunny Farm", "new-token")

    assert active_vendors(duckdb_warehouse, settings) == [
        VendorCredentials("sunny-farm", "Sunny Farm", "new-token")
    ]


def test_stored_ciphertext_does_not_contain_the_token(duckdb_warehouse, make_settings):
    settings = make_settings()
    register_vendor(duckdb_warehouse, settings, "sunny-farm", "Sunny Farm", TOKEN)

    stored = duckdb_warehouse.query("select * from raw.vendors")

    assert len(stored) == 1
    for value in stored.iloc[0].astype(str):
        assert TOKEN not in value
        assert "0123456789" not in value


def test_credentials_repr_hides_the_token():
    credentials = VendorCredentials("sunny-farm", "Sunny Farm", TOKEN)

    assert TOKEN not in repr(credentials)
    assert "sunny-farm" in repr(credentials)


@pytest.mark.parametrize("vendor_id", ["Sunny Farm", "s", "-leading-dash", "x" * 65, "farm/../etc"])
def test_bad_vendor_id_is_refused(duckdb_warehouse, make_settings, vendor_id):
    with pytest.raises(ValueError, match="must be 2-64 characters"):
        register_vendor(duckdb_warehouse, make_settings(), vendor_id, "Sunny Farm", TOKEN)


@pytest.mark.parametrize("token", ["", "   \n"])
def test_empty_token_is_refused(duckdb_warehouse, make_settings, token):
    with pytest.raises(ValueError, match="sunny-farm: the Square access token is empty"):
        register_vendor(duckdb_warehouse, make_settings(), "sunny-farm", "Sunny Farm", token)


def test_vendor_under_another_key_is_flagged_and_others_still_decrypt(
    duckdb_warehouse, make_settings
):
    old = make_settings(secret_key=Fernet.generate_key().decode())
    current = make_settings(secret_key=Fernet.generate_key().decode())
    register_vendor(duckdb_warehouse, current, "apple-acres", "Apple Acres", "token-a")
    register_vendor(duckdb_warehouse, old, "bee-happy", "Bee Happy", "token-b")
    register_vendor(duckdb_warehouse, current, "carrot-co", "Carrot Co", "token-c")

    vendors = active_vendors(duckdb_warehouse, current)

    assert [(v.vendor_id, v.square_token) for v in vendors] == [
        ("apple-acres", "token-a"),
        ("bee-happy", None),
        ("carrot-co", "token-c"),
    ]
    assert [v.problem is None for v in vendors] == [True, False, True]
    assert "MARKETPREP_SECRET_KEY" in vendors[1].problem


def test_local_key_file_is_private_and_reused(duckdb_warehouse, make_settings, tmp_path):
    settings = make_settings()  # no MARKETPREP_SECRET_KEY: a key file under MARKETPREP_HOME

    register_vendor(duckdb_warehouse, settings, "sunny-farm", "Sunny Farm", TOKEN)

    key_file = tmp_path / "home" / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert active_vendors(duckdb_warehouse, make_settings())[0].square_token == TOKEN


def test_no_vendors_yet_is_an_empty_list(duckdb_warehouse, make_settings):
    assert active_vendors(duckdb_warehouse, make_settings()) == []
