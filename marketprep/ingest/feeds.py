"""What the weather and events loads share: the markets to fetch for, the quarantine of responses
that arrived but could not be used, and writes that replace several scopes in one transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from data_contracts import Contract, contract
from marketprep.warehouse import Warehouse, to_arrow
from sources.open_meteo import Point

QUARANTINE = contract("raw.weather_events_quarantine")


@dataclass(frozen=True)
class MarketSite:
    """A market as its vendors' Square locations place it: coordinates, time zone, country."""

    market_id: str
    latitude: float
    longitude: float
    timezone: str
    country: str

    @property
    def point(self) -> Point:
        return Point(self.market_id, self.latitude, self.longitude, self.timezone)


def market_sites(warehouse: Warehouse) -> list[MarketSite]:
    """Every market with an active vendor location."""
    markets = warehouse.query(
        "select market_id, min(latitude) as latitude, min(longitude) as longitude, "
        "min(timezone) as timezone, min(country) as country "
        "from raw.square_locations where status = 'ACTIVE' group by market_id order by market_id"
    )
    return [
        MarketSite(r.market_id, float(r.latitude), float(r.longitude), r.timezone, r.country)
        for r in markets.itertuples()
    ]


def quarantine(
    warehouse: Warehouse,
    provider: str,
    market_id: str,
    reason: str,
    payload: str,
    now: dt.datetime,
    *,
    record_kind: str = "response",
    record_key: str | None = None,
) -> None:
    """Keep an unusable payload with its reason; the same payload refused again replaces its row."""
    key = record_key or hashlib.sha256(payload.encode()).hexdigest()[:32]
    row = {
        "provider": provider,
        "market_id": market_id,
        "record_kind": record_kind,
        "record_key": key,
        "reason": reason,
        "raw_payload": payload,
        "quarantined_at": now,
    }
    warehouse.replace(
        QUARANTINE,
        [row],
        where="provider = ? and market_id = ? and record_kind = ? and record_key = ?",
        params=[provider, market_id, record_kind, key],
    )


@dataclass(frozen=True)
class Scoped:
    """Rows for one table and the scope (`where`, `params`) they replace."""

    contract: Contract
    rows: Sequence[dict[str, Any]]
    where: str
    params: Sequence[Any]


def replace_scoped(warehouse: Warehouse, loads: Sequence[Scoped]) -> dict[str, int]:
    """Like Warehouse.replace_many, but each table with its own scope; one transaction."""
    typed = [(load, to_arrow(load.contract, load.rows)) for load in loads]
    written: dict[str, int] = {}
    with warehouse.session() as session:
        for load, data in typed:
            session.ensure_table(load.contract)
            session.execute(f"delete from {load.contract.table} where {load.where}", load.params)
            written[load.contract.table] = session.insert(load.contract.table, data)
    return written
