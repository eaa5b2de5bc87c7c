"""Vendors as Square merchants: which markets they attend, their locations and their catalogs.

Each vendor gets one Square location per market it attends (at the market's coordinates, so the
pipeline can tell that vendors share a market) and a catalog of CATEGORY, MEASUREMENT_UNIT and
ITEM objects with embedded ITEM_VARIATIONs. One vendor replaced a variation half-way through
the history: the old one is deleted in Square (`is_deleted: true`, gone from ListCatalog) but
its id stays on the orders taken before.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from sandbox import ids
from sandbox.ids import IdMaker
from sandbox.templates import VENDORS, ProductTemplate, VendorTemplate
from sandbox.world import Market, Product, SimConfig, Vendor, open_days

CYCLE_SUFFIXES = ("", "North", "South", "East", "West", "Valley", "Ridge", "Harbor")
POUND = {"weight_unit": "IMPERIAL_POUND", "type": "TYPE_WEIGHT"}
PRICE_STEP = 100  # the new variation costs a dollar more


def _iso_ms(moment: dt.datetime) -> str:
    """Square's usual timestamp: UTC with milliseconds, e.g. 2017-02-21T14:50:26.495Z."""
    moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _version(moment: dt.datetime) -> int:
    """Square catalog versions are the update time in epoch milliseconds."""
    return int(moment.timestamp() * 1000)


def money(amount: int) -> dict[str, Any]:
    """Square Money: an integer amount in cents with its currency."""
    return {"amount": int(amount), "currency": "USD"}


def assign_markets(n_vendors: int, n_markets: int, rng: np.random.Generator) -> list[list[int]]:
    """Market indexes each vendor attends: 1–3 each, every market with at least one vendor."""
    chosen = [
        set(rng.choice(n_markets, size=int(rng.integers(1, min(3, n_markets) + 1)), replace=False))
        for _ in range(n_vendors)
    ]
    for market in range(n_markets):
        if not any(market in markets for markets in chosen):
            emptiest = min(range(n_vendors), key=lambda v: (len(chosen[v]), v))
            chosen[emptiest].add(market)
    return [sorted(int(m) for m in markets) for markets in chosen]


def _vendor_identity(index: int) -> tuple[VendorTemplate, str, str]:
    template = VENDORS[index % len(VENDORS)]
    cycle = index // len(VENDORS)
    suffix = CYCLE_SUFFIXES[cycle % len(CYCLE_SUFFIXES)] or str(cycle)
    slug = template.slug if cycle == 0 else f"{template.slug}-{suffix.lower()}"
    name = template.name if cycle == 0 else f"{template.name} {suffix}"
    return template, f"v{index + 1:02d}-{slug}", name


def _location(
    vendor_name: str, merchant_id: str, market: Market, location_id: str, created: dt.datetime
) -> dict[str, Any]:
    return {
        "id": location_id,
        "name": market.name,
        "address": {
            "address_line_1": market.address_line_1,
            "locality": market.locality,
            "administrative_district_level_1": market.region,
            "postal_code": market.postal_code,
            "country": market.country,
        },
        "timezone": market.timezone,
        "capabilities": ["CREDIT_CARD_PROCESSING"],
        "status": "ACTIVE",
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "merchant_id": merchant_id,
        "country": market.country,
        "language_code": "en-US",
        "currency": "USD",
        "business_name": vendor_name,
        "type": "MOBILE",
        "coordinates": {"latitude": market.latitude, "longitude": market.longitude},
        "mcc": "5499",
    }


def _variation(
    variation_id: str,
    item_id: str,
    name: str,
    price: int | None,
    ordinal: int,
    sku: str,
    unit_id: str | None,
    moment: dt.datetime,
    deleted: bool = False,
) -> dict[str, Any]:
    data: dict[str, Any] = {"item_id": item_id, "name": name, "sku": sku, "ordinal": ordinal}
    if price is None:
        data["pricing_type"] = "VARIABLE_PRICING"
    else:
        data |= {"pricing_type": "FIXED_PRICING", "price_money": money(price)}
    if unit_id is not None:
        data["measurement_unit_id"] = unit_id
    data |= {"sellable": True, "stockable": True, "track_inventory": False}
    return {
        "type": "ITEM_VARIATION",
        "id": variation_id,
        "updated_at": _iso_ms(moment),
        "version": _version(moment),
        "is_deleted": deleted,
        "present_at_all_locations": True,
        "item_variation_data": data,
    }


class _Catalog:
    """Builds one vendor's catalog objects and Product records, in a stable order."""

    def __init__(self, vendor_id: str, maker: IdMaker, created: dt.datetime) -> None:
        self.vendor_id = vendor_id
        self.maker = maker
        self.created = created
        self.objects: list[dict[str, Any]] = []
        self.deleted: list[dict[str, Any]] = []
        self.products: list[Product] = []
        self.sale_versions: dict[str, int] = {}  # variation id -> catalog_version on order lines
        self._categories: dict[str, str] = {}
        self._unit: tuple[str, int] | None = None
        self._seconds = 0

    def _tick(self) -> dt.datetime:
        # Objects were entered one after another when the vendor set up the catalog.
        self._seconds += 37
        return self.created + dt.timedelta(seconds=self._seconds, milliseconds=self._seconds * 7)

    def _category(self, name: str) -> str:
        if name not in self._categories:
            moment = self._tick()
            self._categories[name] = category_id = self.maker.one(ids.CATALOG)
            self.objects.append(
                {
                    "type": "CATEGORY",
                    "id": category_id,
                    "updated_at": _iso_ms(moment),
                    "version": _version(moment),
                    "is_deleted": False,
                    "present_at_all_locations": True,
                    "category_data": {
                        "name": name,
                        "category_type": "REGULAR_CATEGORY",
                        "is_top_level": True,
                    },
                }
            )
        return self._categories[name]

    def pound_unit(self) -> tuple[str, int]:
        """(id, version) of the vendor's pound MEASUREMENT_UNIT, created on first use."""
        if self._unit is None:
            moment = self._tick()
            self._unit = (self.maker.one(ids.CATALOG), _version(moment))
            self.objects.append(
                {
                    "type": "MEASUREMENT_UNIT",
                    "id": self._unit[0],
                    "updated_at": _iso_ms(moment),
                    "version": self._unit[1],
                    "is_deleted": False,
                    "present_at_all_locations": True,
                    "measurement_unit_data": {"measurement_unit": dict(POUND), "precision": 2},
                }
            )
        return self._unit

    def item(
        self, templates: list[ProductTemplate], skus: list[str], retire: dt.datetime | None
    ) -> None:
        """One ITEM with a variation per template. With `retire` (a local time), the first
        variation was replaced then by a new one and the old one deleted."""
        head = templates[0]
        category_id = self._category(head.category)
        unit_id = self.pound_unit()[0] if any(t.weighed for t in templates) else None
        created = updated = self._tick()
        item_id = self.maker.one(ids.CATALOG)
        variations = []
        for ordinal, (template, sku) in enumerate(zip(templates, skus, strict=True)):
            var_unit = unit_id if template.weighed else None
            variation_id = self.maker.one(ids.CATALOG)
            args = (item_id, template.variation, template.price, ordinal, sku, var_unit)
            variation = _variation(variation_id, *args, created)
            product = Product(
                vendor_id=self.vendor_id,
                variation_id=variation_id,
                item_id=item_id,
                item_name=template.item,
                variation_name=template.variation,
                category=template.category,
                price_cents=template.price,
                unit="lb" if template.weighed else "each",
                taxable=template.taxable,
                base_demand=template.base,
                season_start=template.season[0] if template.season else None,
                season_end=template.season[1] if template.season else None,
            )
            self.sale_versions[variation_id] = variation["version"]
            if ordinal == 0 and retire is not None:
                # Only the deleted object is left of the old variation; old orders still name it.
                self.deleted.append(_variation(variation_id, *args, retire, deleted=True))
                self.products.append(replace(product, available_until=retire.date()))
                new_id = self.maker.one(ids.CATALOG)
                new_name = f"{template.variation} (new recipe)"
                new_price = None if template.price is None else template.price + PRICE_STEP
                variation = _variation(
                    new_id, item_id, new_name, new_price, ordinal, f"{sku}-B", var_unit, retire
                )
                self.sale_versions[new_id] = variation["version"]
                product = replace(
                    product,
                    variation_id=new_id,
                    variation_name=new_name,
                    price_cents=new_price,
                    available_from=retire.date(),
                )
                updated = retire
            self.products.append(product)
            variations.append(variation)
        self.objects.append(
            {
                "type": "ITEM",
                "id": item_id,
                "updated_at": _iso_ms(updated),
                "version": _version(updated),
                "is_deleted": False,
                "present_at_all_locations": True,
                "item_data": {
                    "name": head.item,
                    "variations": variations,
                    "product_type": "REGULAR",
                    "is_archived": False,
                    "categories": [{"id": category_id, "ordinal": 0}],
                    "reporting_category": {"id": category_id, "ordinal": 0},
                },
            }
        )


def _item_groups(templates: tuple[ProductTemplate, ...]) -> list[list[ProductTemplate]]:
    """Consecutive templates with the same item name are variations of one ITEM."""
    groups: list[list[ProductTemplate]] = []
    for template in templates:
        if groups and groups[-1][0].item == template.item:
            groups[-1].append(template)
        else:
            groups.append([template])
    return groups


def _retirement(
    config: SimConfig,
    markets: list[Market],
    vendors: list[tuple[VendorTemplate, list[int]]],
) -> tuple[int, int, dt.datetime]:
    """(vendor index, item position, local time) of the variation replacement: the first
    year-round, fixed-price item of a vendor with market days on both sides of the middle of
    the history, preferring the bakery's bread."""
    order = sorted(range(len(vendors)), key=lambda v: (vendors[v][0].slug != "rise-bakery", v))
    last = config.end - dt.timedelta(days=1)
    for v in order:
        template, market_indexes = vendors[v]
        groups = _item_groups(template.products[: config.products_per_vendor])
        eligible = [i for i, g in enumerate(groups) if g[0].season is None and g[0].price]
        days = sorted(
            {d for m in market_indexes for d in open_days(markets[m], config.start, last)}
        )
        if eligible and len(days) >= 2:
            tz = ZoneInfo(markets[market_indexes[0]].timezone)
            moment = dt.datetime.combine(days[len(days) // 2], dt.time(6, 12, 31, 208_000), tz)
            return v, eligible[0], moment
    raise ValueError(
        f"no vendor sells a year-round product on two market days in {config.history_days} days "
        "of history, so no catalog variation can be shown deleted mid-history: lengthen "
        "history_days or raise products_per_vendor"
    )


def build_vendors(
    config: SimConfig, markets: list[Market], rng: np.random.Generator
) -> tuple[list[Vendor], list[Product], dict[str, int]]:
    """Vendors with their Square locations and catalogs; the products they sell; and for each
    variation the catalog_version stamped on its order lines."""
    largest = min(len(t.products) for t in VENDORS)
    if not 1 <= config.products_per_vendor <= largest:
        raise ValueError(f"products_per_vendor={config.products_per_vendor} must be 1..{largest}")
    maker = IdMaker(rng)
    assignment = assign_markets(config.n_vendors, len(markets), rng)
    identities = [_vendor_identity(i) for i in range(config.n_vendors)]
    retiring, retired_item, retire_at = _retirement(
        config, markets, [(t, a) for (t, _, _), a in zip(identities, assignment, strict=True)]
    )
    start = dt.datetime.combine(config.start, dt.time(0), dt.UTC)

    vendors: list[Vendor] = []
    products: list[Product] = []
    sale_versions: dict[str, int] = {}
    for index, ((template, vendor_id, name), market_indexes) in enumerate(
        zip(identities, assignment, strict=True)
    ):
        merchant_id = maker.one(ids.MERCHANT)
        token = maker.one(ids.ACCESS_TOKEN)
        catalog_created = start - dt.timedelta(seconds=int(rng.integers(60 * 86400, 500 * 86400)))
        account_created = catalog_created - dt.timedelta(
            seconds=int(rng.integers(86400, 30 * 86400))
        )
        attended = [markets[m] for m in market_indexes]
        location_ids = {m.market_key: maker.one(ids.LOCATION) for m in attended}
        catalog = _Catalog(vendor_id, maker, catalog_created)
        sku_prefix = "".join(word[0] for word in template.slug.split("-")).upper()
        groups = _item_groups(template.products[: config.products_per_vendor])
        sku_number = 1
        for position, group in enumerate(groups):
            skus = [f"{sku_prefix}-{sku_number + k:03d}" for k in range(len(group))]
            sku_number += len(group)
            retire = retire_at if (index, position) == (retiring, retired_item) else None
            catalog.item(group, skus, retire)
        vendors.append(
            Vendor(
                vendor_id=vendor_id,
                name=name,
                merchant_id=merchant_id,
                access_token=token,
                market_keys=[m.market_key for m in attended],
                location_by_market=location_ids,
                locations=[
                    _location(name, merchant_id, m, location_ids[m.market_key], account_created)
                    for m in attended
                ],
                catalog_objects=catalog.objects + catalog.deleted,
            )
        )
        products.extend(catalog.products)
        sale_versions |= catalog.sale_versions
    return vendors, products, sale_versions
