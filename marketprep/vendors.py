"""Vendor registry: who MarketPrep plans for, with each vendor's Square token encrypted at rest."""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken

from data_contracts import contract
from marketprep.settings import Settings
from marketprep.warehouse import Warehouse

VENDORS = contract("raw.vendors")
VENDOR_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")


@dataclass(frozen=True)
class VendorCredentials:
    vendor_id: str
    vendor_name: str
    square_token: str | None = field(repr=False)
    problem: str | None = None  # why the token is unusable; the vendor is then skipped, not the run


def _cipher(settings: Settings) -> Fernet:
    """The key comes from MARKETPREP_SECRET_KEY; locally a key file is made once under MARKETPREP_HOME."""
    if settings.secret_key:
        return Fernet(settings.secret_key.encode())
    key_file = settings.home / "secret.key"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(Fernet.generate_key())
    return Fernet(key_file.read_bytes().strip())


def register_vendor(
    warehouse: Warehouse, settings: Settings, vendor_id: str, vendor_name: str, square_token: str
) -> None:
    """Add or update a vendor; re-registering replaces the name and token."""
    if not VENDOR_ID.match(vendor_id):
        raise ValueError(
            f"vendor id {vendor_id!r} must be 2-64 characters of lower-case letters, digits, '-' or '_'"
        )
    if not square_token.strip():
        raise ValueError(f"vendor {vendor_id}: the Square access token is empty")
    row = {
        "vendor_id": vendor_id,
        "vendor_name": vendor_name,
        "active": True,
        "square_token_encrypted": _cipher(settings).encrypt(square_token.strip().encode()).decode(),
        "registered_at": dt.datetime.now(dt.UTC),
    }
    warehouse.replace(VENDORS, [row], where="vendor_id = ?", params=[vendor_id])


def active_vendors(warehouse: Warehouse, settings: Settings) -> list[VendorCredentials]:
    warehouse.ensure_tables([VENDORS])
    rows = warehouse.query(
        "select vendor_id, vendor_name, square_token_encrypted from raw.vendors where active order by vendor_id"
    )
    cipher = _cipher(settings)
    vendors = []
    for row in rows.itertuples(index=False):
        try:
            token = cipher.decrypt(row.square_token_encrypted.encode()).decode()
            vendors.append(VendorCredentials(row.vendor_id, row.vendor_name, token))
        except InvalidToken:
            problem = (
                "its stored Square token cannot be decrypted with the current MARKETPREP_SECRET_KEY; "
                "re-register the vendor or restore the key"
            )
            vendors.append(VendorCredentials(row.vendor_id, row.vendor_name, None, problem))
    return vendors
