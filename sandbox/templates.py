"""Hand-written facts the simulator draws from: Seattle-area markets and vendor archetypes.

Coordinates are real places (a few km apart); prices are typical 2025 farmers-market prices in
cents; `base` is mean units sold per market day at an average market in the product's peak.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple


class MarketTemplate(NamedTuple):
    key: str
    name: str
    latitude: float
    longitude: float
    weekdays: frozenset[int]
    season: tuple[str, str] | None
    hours: tuple[dt.time, dt.time]
    traffic: float
    address: str
    locality: str
    postal_code: str
    elevation_m: float


def _hours(opens: int, closes: int) -> tuple[dt.time, dt.time]:
    return dt.time(opens), dt.time(closes)


# The first three are the default world: a Sunday and a Saturday market open all year, and a
# Wednesday + Saturday market open May to October.
# fmt: off
MARKETS: tuple[MarketTemplate, ...] = (
    MarketTemplate(
        "ballard", "Ballard Sunday Farmers Market", 47.6679, -122.3848, frozenset({6}), None,
        _hours(9, 14), 1.25, "5345 Ballard Ave NW", "Seattle", "98107", 15.0,
    ),
    MarketTemplate(
        "u-district", "University District Farmers Market", 47.6657, -122.3129, frozenset({5}),
        None, _hours(9, 14), 1.0, "5031 University Way NE", "Seattle", "98105", 60.0,
    ),
    MarketTemplate(
        "redmond", "Redmond Saturday Market", 47.6762, -122.1236, frozenset({2, 5}),
        ("05-01", "10-31"), _hours(9, 14), 0.85, "7730 Leary Way NE", "Redmond", "98052", 12.0,
    ),
    MarketTemplate(
        "capitol-hill", "Capitol Hill Broadway Market", 47.6179, -122.3208, frozenset({6}), None,
        _hours(11, 15), 0.95, "E Barbara Bailey Way", "Seattle", "98102", 100.0,
    ),
    MarketTemplate(
        "west-seattle", "West Seattle Farmers Market", 47.5613, -122.3868, frozenset({6}), None,
        _hours(10, 14), 0.9, "California Ave SW & SW Alaska St", "Seattle", "98116", 110.0,
    ),
    MarketTemplate(
        "bellevue", "Bellevue Thursday Market", 47.6152, -122.1986, frozenset({3}),
        ("05-15", "10-15"), _hours(15, 19), 0.8, "1717 Bellevue Way NE", "Bellevue", "98004", 40.0,
    ),
)


class ProductTemplate(NamedTuple):
    item: str
    variation: str
    category: str
    price: int | None  # cents per unit (per lb when weighed); None = variable pricing
    weighed: bool
    base: float
    season: tuple[str, str] | None = None
    taxable: bool = False  # Washington taxes prepared food, not groceries


class VendorTemplate(NamedTuple):
    slug: str
    name: str
    products: tuple[ProductTemplate, ...]


P = ProductTemplate
YEAR_ROUND = None

# Each archetype lists 10 products; a world with products_per_vendor = n takes the first n.
# fmt: off
VENDORS: tuple[VendorTemplate, ...] = (
    VendorTemplate("green-acres", "Green Acres Farm", (
        P("Heirloom Tomatoes", "By the pound", "Produce", 450, True, 22, ("07-01", "10-15")),
        P("Salad Greens", "Half-pound bag", "Produce", 600, False, 18),
        P("Rainbow Carrots", "Bunch", "Produce", 400, False, 14),
        P("Strawberries", "Pint", "Produce", 650, False, 30, ("05-20", "07-31")),
        P("Yukon Gold Potatoes", "By the pound", "Produce", 250, True, 15),  # stored all year
        P("Lacinato Kale", "Bunch", "Produce", 350, False, 12),
        P("Pasture Eggs", "Dozen", "Eggs", 750, False, 20),
        P("Zucchini", "By the pound", "Produce", 300, True, 10, ("06-15", "09-30")),
        P("Winter Squash", "Each", "Produce", 400, False, 10, ("09-15", "01-31")),
        P("Garlic", "Head", "Produce", 200, False, 12, ("07-01", "12-31")),
    )),
    VendorTemplate("rise-bakery", "Rise Bakery", (
        P("Country Sourdough", "Loaf", "Bakery", 900, False, 25),
        P("Baguette", "Each", "Bakery", 450, False, 20),
        P("Butter Croissant", "Each", "Bakery", 425, False, 28),
        P("Cinnamon Roll", "Each", "Bakery", 475, False, 18),
        P("Seeded Rye", "Loaf", "Bakery", 950, False, 10),
        P("Fruit Galette", "Slice", "Bakery", 550, False, 12, ("06-01", "10-31")),
        P("Spinach Feta Quiche", "Slice", "Prepared Food", 650, False, 12, YEAR_ROUND, True),
        P("Chocolate Chip Cookie", "Each", "Bakery", 300, False, 20),
        P("Pumpkin Pie", "Whole pie", "Bakery", 2400, False, 5, ("10-01", "12-31")),
        P("Rosemary Focaccia", "Slab", "Bakery", 700, False, 10),
    )),
    VendorTemplate("busy-bee", "Busy Bee Apiary", (
        P("Wildflower Honey", "8 oz jar", "Honey", 900, False, 10),
        P("Wildflower Honey", "16 oz jar", "Honey", 1600, False, 8),
        P("Fireweed Honey", "16 oz jar", "Honey", 1800, False, 6),
        P("Comb Honey", "Square", "Honey", 1400, False, 4),
        P("Creamed Honey", "8 oz jar", "Honey", 1000, False, 5),
        P("Beeswax Candles", "Taper pair", "Honey", 1200, False, 4),
        P("Duck Eggs", "Half dozen", "Eggs", 800, False, 6),
        P("Pasture Eggs", "Dozen", "Eggs", 750, False, 12),
        P("Honey Sticks", "Bundle of 5", "Honey", 300, False, 10),
        P("Propolis Tincture", "1 oz", "Honey", 1500, False, 2),
    )),
    VendorTemplate("petal-stem", "Petal & Stem Flower Farm", (
        P("Market Bouquet", "Small", "Flowers", 1500, False, 18, ("04-01", "10-31")),
        P("Market Bouquet", "Large", "Flowers", 2500, False, 8, ("04-01", "10-31")),
        P("Tulips", "Bunch of 10", "Flowers", 1200, False, 15, ("03-01", "05-15")),
        P("Dahlias", "Bunch of 5", "Flowers", 1500, False, 10, ("07-15", "10-15")),
        P("Sunflowers", "Stem", "Flowers", 400, False, 16, ("07-01", "09-30")),
        P("Custom Arrangement", "Custom", "Flowers", None, False, 3),
        P("Fresh Herbs", "Bunch", "Produce", 300, False, 16),
        P("Holiday Wreath", "Each", "Flowers", 4500, False, 6, ("11-15", "12-24")),
        P("Lavender Bundle", "Each", "Flowers", 800, False, 6, ("06-15", "08-31")),
        P("Succulent Pot", "4 inch", "Flowers", 900, False, 8),
    )),
    VendorTemplate("salt-smoke", "Salt & Smoke Kitchen", (
        P("Pork Tamales", "2-pack", "Prepared Food", 900, False, 20, YEAR_ROUND, True),
        P("Veggie Tamales", "2-pack", "Prepared Food", 850, False, 12, YEAR_ROUND, True),
        P("Beef Empanada", "Each", "Prepared Food", 550, False, 18, YEAR_ROUND, True),
        P("Breakfast Burrito", "Each", "Prepared Food", 1100, False, 16, YEAR_ROUND, True),
        P("Smoky Salsa", "16 oz jar", "Prepared Food", 800, False, 8),
        P("Tortilla Chips", "Bag", "Prepared Food", 500, False, 10),
        P("Chicken Pozole", "Quart", "Prepared Food", 1400, False, 6, ("10-01", "04-30"), True),
        P("Conchas", "Each", "Bakery", 350, False, 14),
        P("Horchata", "16 oz", "Prepared Food", 500, False, 12, ("05-01", "09-30"), True),
        P("Green Chile Stew", "Pint", "Prepared Food", 900, False, 6, YEAR_ROUND, True),
    )),
    VendorTemplate("orchard-hill", "Orchard Hill Fruit", (
        P("Honeycrisp Apples", "By the pound", "Produce", 350, True, 24, ("08-15", "03-31")),
        P("Bartlett Pears", "By the pound", "Produce", 300, True, 12, ("08-15", "12-31")),
        P("Rainier Cherries", "By the pound", "Produce", 800, True, 18, ("06-15", "07-31")),
        P("Peaches", "By the pound", "Produce", 400, True, 16, ("07-15", "09-15")),
        P("Apple Cider", "Half gallon", "Produce", 900, False, 10, ("09-01", "03-31")),
        P("Blueberries", "Pint", "Produce", 600, False, 18, ("07-01", "08-31")),
        P("Dried Apple Rings", "Bag", "Produce", 700, False, 6),
        P("Apple Butter", "Jar", "Prepared Food", 900, False, 5),
        P("Italian Plums", "By the pound", "Produce", 350, True, 10, ("08-01", "09-30")),
        P("Fuji Apples", "By the pound", "Produce", 300, True, 16, ("09-15", "04-30")),
    )),
)
# fmt: on
