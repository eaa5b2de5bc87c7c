"""`marketprep import-sales`: history from CSV into the raw Square tables, without the API.

The generic mode is proven on real data: a slice of shared/datasets/online_retail.csv.xz (UCI
Online Retail II), streamed from the shared folder: its first 3,000 rows (1 December 2009) plus
every row of the invoices below, in file order. They hold cancellations ("C" invoices with
negative quantities), odd product codes (postage, discounts, bad-debt adjustments, a price of
0.001, gift vouchers) and the file's two famous bulk orders with their cancellations.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import lzma
from decimal import Decimal
from pathlib import Path

import pytest

from data_contracts import contract
from marketprep.cli import main
from marketprep.history_import import (
    GenericMapping,
    ImportProblem,
    ImportReport,
    RowError,
    SaleRow,
    import_sales,
    transactions,
)
from marketprep.ingest.square_orders import CUSTOM_AMOUNT, UNLINKED_RETURN
from marketprep.settings import parse_warehouse_url
from marketprep.warehouse import Warehouse

pytestmark = pytest.mark.integration

DATASET = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "online_retail.csv.xz"
HEAD_ROWS = 3000
INVOICES = {
    "541431": "74,215 storage jars for one customer, 2011-01-18",
    "C541433": "... cancelled minutes later",
    "581483": "80,995 paper crafts for one customer, 2011-12-09",
    "C581484": "... cancelled minutes later",
    "494914": "PADS at a unit price of 0.001",
    "A506401": "a bad-debt adjustment with a negative price",
    "491971": "gift vouchers",
    "495732": "a manual adjustment",
    "C531400": "an Amazon fee refund",
}
NON_PRODUCT = ["POST", "DOT", "M", "m", "D", "S", "B", "C2", "CRUK", "PADS", "BANK CHARGES"]
NON_PRODUCT += ["AMAZONFEE", "ADJUST", "ADJUST2", "TEST001", "TEST002"]
RETAIL_MAPPING = {
    "order_id": "Invoice",
    "product_id": "StockCode",
    "product_name": "Description",
    "quantity": "Quantity",
    "unit_price": "Price",
    "sold_at": "InvoiceDate",
    "sold_at_format": "%m/%d/%Y %H:%M",
    "customer_id": "Customer ID",
    "location_id": "online-shop",
    "timezone": "Europe/London",
    "currency": "GBP",
    "non_product_codes": NON_PRODUCT,
    "non_product_pattern": "^gift_",
}
NOW = dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def retail_slice(tmp_path_factory) -> Path:
    """The slice described above, written as a plain CSV (streamed: the whole file is 1M rows)."""
    if not DATASET.exists():
        pytest.fail(f"{DATASET} is missing: CI lays shared/ beside the checkout")
    path = tmp_path_factory.mktemp("retail") / "online_retail_slice.csv"
    with lzma.open(DATASET, "rt", newline="") as source, path.open("w", newline="") as out:
        out.write(next(source))
        for number, line in enumerate(source):
            if number < HEAD_ROWS or line.split(",", 1)[0] in INVOICES:
                out.write(line)
    return path


@pytest.fixture(scope="module")
def slice_rows(retail_slice) -> list[dict[str, str]]:
    with retail_slice.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def warehouse(tmp_path) -> Warehouse:
    return Warehouse(parse_warehouse_url(f"duckdb:///{tmp_path / 'wh.duckdb'}"))


def rows_of(warehouse: Warehouse, sql: str, params=()) -> list[tuple]:
    frame = warehouse.query(sql, params)
    frame = frame.astype(object).where(frame.notna(), None)
    return list(frame.itertuples(index=False, name=None))


def test_online_retail_imports_with_cancellations_odd_codes_and_bulk_orders(
    warehouse, retail_slice, slice_rows
):
    mapping = GenericMapping.from_json(json.dumps(RETAIL_MAPPING))
    report = import_sales(warehouse, "uk-gifts", retail_slice, "generic", NOW, mapping=mapping)

    sold = [r for r in slice_rows if int(r["Quantity"]) > 0]
    taken_back = [r for r in slice_rows if int(r["Quantity"]) < 0]
    assert report.rows == len(slice_rows) and report.rows_quarantined == 0
    assert report.transactions == len({r["Invoice"] for r in slice_rows})
    assert report.loaded.lines == len(sold) and report.loaded.returns == len(taken_back)
    assert report.returns_linked + report.returns_unlinked == len(taken_back)
    assert report.returns_unlinked == report.loaded.exclusions[UNLINKED_RETURN] > 0
    odd = [r for r in sold if r["StockCode"] in NON_PRODUCT or r["StockCode"].startswith("gift_")]
    assert report.loaded.exclusions[CUSTOM_AMOUNT] == len(odd) > 5
    assert rows_of(
        warehouse,
        "select count(*) from raw.square_order_line_items where catalog_object_id is null "
        "and item_type = 'CUSTOM_AMOUNT'",
    ) == [(len(odd),)]
    assert rows_of(warehouse, "select min(quantity) from raw.square_order_line_items")[0][0] > 0

    # The bulk orders: exact quantities and minor units, and their cancellations net them to 0.
    for sale, cancel, code, units, pence in [
        ("581483", "C581484", "23843", 80995, 208),
        ("541431", "C541433", "23166", 74215, 104),
    ]:
        ((uid, quantity, price, gross, market_date),) = rows_of(
            warehouse,
            "select line_uid, quantity, base_price_amount, gross_sales_amount, market_date "
            "from raw.square_order_line_items where order_id = ? and catalog_object_id = ?",
            [sale, code],
        )
        assert (quantity, price, gross) == (Decimal(units), pence, units * pence)
        assert rows_of(
            warehouse,
            "select source_order_id, source_line_uid, quantity from raw.square_order_returns "
            "where order_id = ?",
            [cancel],
        ) == [(sale, uid, Decimal(units))]
        net = rows_of(
            warehouse,
            "select li.quantity - coalesce(sum(r.quantity), 0) from raw.square_order_line_items li "
            "left join raw.square_order_returns r on r.source_order_id = li.order_id "
            "and r.source_line_uid = li.line_uid where li.order_id = ? and li.line_uid = ? "
            "group by li.quantity",
            [sale, uid],
        )
        assert net == [(Decimal(0),)]
    assert rows_of(
        warehouse,
        "select market_date, closed_at from raw.square_orders where order_id = '581483'",
    )[0][0] == dt.date(2011, 12, 9)

    # Odd money: a negative bad-debt price, a price below a penny, British summer time.
    ((price, gross, closed),) = rows_of(
        warehouse,
        "select li.base_price_amount, li.gross_sales_amount, o.closed_at "
        "from raw.square_order_line_items li join raw.square_orders o using (vendor_id, order_id) "
        "where li.order_id = 'A506401'",
    )
    assert (price, gross) == (-5359436, -5359436)
    assert closed.astimezone(dt.UTC) == dt.datetime(2010, 4, 29, 12, 36, tzinfo=dt.UTC)
    assert rows_of(
        warehouse,
        "select base_price_amount, gross_sales_amount from raw.square_order_line_items "
        "where order_id = '494914' and catalog_object_id is null",
    ) == [(None, 0)]

    # The raw payload keeps the source rows as they were read: history can be rebuilt from it.
    payload = json.loads(
        rows_of(warehouse, "select raw_payload from raw.square_orders where order_id = 'C581484'")[
            0
        ][0]
    )
    assert payload["x_marketprep_import"]["rows"][0]["Quantity"] == "-80995"
    assert payload["version"] == 0 and payload["returns"][0]["source_order_id"] == "581483"

    counts = "select (select count(*) from raw.square_orders), (select count(*) from raw.square_order_line_items), (select count(*) from raw.square_order_returns)"
    before = rows_of(warehouse, counts)
    again = import_sales(warehouse, "uk-gifts", retail_slice, "generic", NOW, mapping=mapping)
    assert rows_of(warehouse, counts) == before
    assert again.loaded.orders == report.loaded.orders


def _rows(order_id: str, *lines: tuple[str, str]) -> list[SaleRow]:
    return [
        SaleRow(
            line=n,
            order_id=order_id,
            sold_at=NOW,
            quantity=Decimal(quantity),
            product_id=product,
            product_name=None,
            variation_name=None,
            item_type="ITEM",
            unit=None,
            gross=None,
            unit_price=None,
            currency="GBP",
            location_id="shop",
            customer_id=None,
            returns_from=None,
            line_key=product,
            raw={"Invoice": order_id, "StockCode": product, "Quantity": quantity},
        )
        for n, (product, quantity) in enumerate(lines)
    ]


def test_a_transaction_repeated_later_in_the_file_is_skipped_and_a_changed_one_refused():
    """online_retail's two yearly sheets overlap in December 2010: 1,088 invoices appear twice,
    22,000 rows apart; interleaved invoices (rows a few lines apart) are one transaction."""
    first = _rows("536365", ("85123A", "6"), ("71053", "6"))
    others = [_rows(f"5363{k:02d}", ("22752", "2"))[0] for k in range(70, 74)]
    report = ImportReport()
    stream = [first[0], others[0], first[1], *others[1:], *first]
    groups = list(transactions(stream, report, open_rows=2))
    assert [g[0].order_id for g in groups] == ["536370", "536365", "536371", "536372", "536373"]
    assert len(groups[1]) == 2 and report.repeated_transactions == 1

    changed = _rows("536365", ("85123A", "6"), ("71053", "5"))
    with pytest.raises(RowError, match="536365 continues at line 0.*sort the file"):
        list(transactions([*first, *others, *changed], ImportReport(), open_rows=2))


SQUARE_HEADER = (
    "Date,Time,Time Zone,Category,Item,Qty,Price Point Name,SKU,Modifiers Applied,Gross Sales,"
    "Discounts,Net Sales,Tax,Transaction ID,Payment ID,Device Name,Notes,Details,Event Type,"
    "Location,Dining Option,Customer ID,Customer Name,Customer Reference ID,Unit,Count,GTIN,"
    "Itemization Type,Commission,Employee,Fulfillment Note,Channel,Token,Card Brand,PAN Suffix"
)
# The 2020-era export: 24 columns, no Unit, Itemization Type or Token.
OLD_SQUARE_HEADER = ",".join(SQUARE_HEADER.split(",")[:24])
PACIFIC = "Pacific Time (US & Canada)"
BALLARD = "Ballard Farmers Market"


def square_row(header: str, **values: str) -> str:
    columns = header.split(",")
    cells = {"Time Zone": PACIFIC, "Location": BALLARD, "Event Type": "Payment"} | values
    return ",".join(f'"{cells.get(c, "")}"' for c in columns)


@pytest.fixture
def square_vendor(warehouse) -> Warehouse:
    """Vendor green-acres with its Ballard location and catalog loaded, as the API sync leaves them."""
    warehouse.replace(
        contract("raw.square_locations"),
        [
            {
                "vendor_id": "green-acres",
                "location_id": "LBALLARD",
                "market_id": "mkt_47.668_-122.384",
                "location_name": BALLARD,
                "timezone": "America/Los_Angeles",
                "latitude": 47.668,
                "longitude": -122.384,
                "country": "US",
                "status": "ACTIVE",
                "raw_payload": "{}",
                "ingested_at": NOW,
            }
        ],
    )
    warehouse.replace(
        contract("raw.square_catalog"),
        [
            {
                "vendor_id": "green-acres",
                "variation_id": "VAR_TOMATO_LB",
                "item_id": "ITEM_TOMATO",
                "item_name": "Heirloom Tomatoes",
                "variation_name": "per lb",
                "category_id": None,
                "category_name": None,
                "price_amount": 450,
                "currency": "USD",
                "is_deleted": False,
                "updated_at": NOW,
                "raw_payload": "{}",
                "ingested_at": NOW,
            }
        ],
    )
    return warehouse


def test_square_items_exports_load_link_refunds_across_files_and_quarantine_bad_rows(
    square_vendor, tmp_path
):
    warehouse = square_vendor
    june = tmp_path / "items-2025-06-01-2025-07-01.csv"
    day = {"Date": "2025-06-07", "Time": "16:30:05"}
    june.write_text(
        "\n".join(
            [
                SQUARE_HEADER,
                square_row(
                    SQUARE_HEADER,
                    **day,
                    Item="Heirloom Tomatoes",
                    **{
                        "Price Point Name": "per lb",
                        "Qty": "1.25",
                        "Unit": "lb",
                        "Gross Sales": "$5.63",
                        "Transaction ID": "T1",
                        "Itemization Type": "Physical Good",
                    },
                ),
                square_row(
                    SQUARE_HEADER,
                    **day,
                    Item="Sourdough",
                    **{
                        "Price Point Name": "Regular",
                        "Qty": "2.0",
                        "Gross Sales": "$16.00",
                        "Transaction ID": "T1",
                        "Itemization Type": "Physical Good",
                        "Token": "TOKEN_SOURDOUGH",
                    },
                ),
                square_row(
                    SQUARE_HEADER,
                    **day,
                    Item="Custom Amount",
                    **{
                        "Qty": "1",
                        "Gross Sales": "$3.00",
                        "Transaction ID": "T2",
                        "Itemization Type": "Custom Amount",
                    },
                ),
                square_row(
                    SQUARE_HEADER,
                    **day,
                    Item="Catering Box",
                    **{"Qty": "1", "Gross Sales": "$1,234.50", "Transaction ID": "T3"},
                ),
                square_row(
                    SQUARE_HEADER,
                    **day,
                    Item="Kale",
                    **{"Qty": "two", "Gross Sales": "$4.00", "Transaction ID": "T4"},
                ),
                square_row(
                    SQUARE_HEADER,
                    **day,
                    Item="Kale",
                    Location="Fremont Sunday Market",
                    **{"Qty": "1", "Gross Sales": "$4.00", "Transaction ID": "T5"},
                ),
            ]
        )
        + "\n"
    )
    report = import_sales(warehouse, "green-acres", june, "square-items", NOW)

    assert (report.rows, report.transactions, report.rows_quarantined) == (6, 3, 2)
    reasons = rows_of(warehouse, "select record_key, reason from raw.square_quarantine order by 1")
    assert (
        reasons[0][0] == f"{june.name}:6" and "line 6: Qty 'two' is not a number" in reasons[0][1]
    )
    assert (
        "Location 'Fremont Sunday Market' is not one of the vendor's Square locations"
        in reasons[1][1]
    )
    lines = {
        r[0]: r[1:]
        for r in rows_of(
            warehouse,
            "select line_name, catalog_object_id, item_type, quantity, quantity_unit, "
            "gross_sales_amount, location_id, market_date from raw.square_order_line_items",
        )
    }
    june_7 = dt.date(2025, 6, 7)
    assert lines["Heirloom Tomatoes"] == (
        "VAR_TOMATO_LB",
        "ITEM",
        Decimal("1.25"),
        "IMPERIAL_POUND",
        563,
        "LBALLARD",
        june_7,
    )
    assert lines["Sourdough"][:4] == ("TOKEN_SOURDOUGH", "ITEM", Decimal("2"), None)
    assert lines["Custom Amount"][:2] == (None, "CUSTOM_AMOUNT")
    assert lines["Catering Box"][0].startswith("csv:") and lines["Catering Box"][4] == 123450
    ((closed,),) = rows_of(
        warehouse, "select closed_at from raw.square_orders where order_id = 'T1'"
    )
    assert closed.astimezone(dt.UTC) == dt.datetime(2025, 6, 7, 23, 30, 5, tzinfo=dt.UTC)
    assert report.loaded.exclusions[CUSTOM_AMOUNT] == 1

    # A week later, in an older-style export, one sourdough comes back: Square's refund row
    # names the sale's transaction, so it links to the sale line though the sale is not in it.
    july = tmp_path / "items-2025-06-14.csv"
    july.write_text(
        OLD_SQUARE_HEADER
        + "\n"
        + square_row(
            OLD_SQUARE_HEADER,
            Date="2025-06-14",
            Time="10:00:00",
            Item="Sourdough",
            **{
                "Price Point Name": "Regular",
                "Qty": "-1",
                "Gross Sales": "-$8.00",
                "Transaction ID": "T1",
                "Event Type": "Refund",
            },
        )
        + "\n"
    )
    refund = import_sales(warehouse, "green-acres", july, "square-items", NOW)
    assert (refund.returns_linked, refund.returns_unlinked) == (1, 0)
    sourdough_uid = rows_of(
        warehouse,
        "select line_uid from raw.square_order_line_items where order_id = 'T1' "
        "and line_name = 'Sourdough'",
    )[0][0]
    assert rows_of(
        warehouse,
        "select order_id, source_order_id, source_line_uid, quantity, gross_return_amount, "
        "market_date from raw.square_order_returns",
    ) == [("T1-refund", "T1", sourdough_uid, Decimal(1), 800, dt.date(2025, 6, 14))]
    # The sale itself is untouched by the refund, and loading June again changes nothing.
    import_sales(warehouse, "green-acres", june, "square-items", NOW)
    assert rows_of(warehouse, "select count(*) from raw.square_order_line_items") == [(4,)]
    assert rows_of(warehouse, "select count(*) from raw.square_orders") == [(4,)]


def test_a_later_api_copy_of_an_imported_order_replaces_it(square_vendor, tmp_path):
    """Imported orders are version 0: the same order synced from Square (version ≥ 1) wins,
    and importing the export again afterwards does not roll it back."""
    from marketprep.ingest.square_orders import load_orders

    warehouse = square_vendor
    export = tmp_path / "items.csv"
    export.write_text(
        SQUARE_HEADER
        + "\n"
        + square_row(
            SQUARE_HEADER,
            Date="2025-06-07",
            Time="09:00:00",
            Item="Kale",
            **{"Qty": "3", "Gross Sales": "$12.00", "Transaction ID": "SQORDER1"},
        )
        + "\n"
    )
    import_sales(warehouse, "green-acres", export, "square-items", NOW)
    api_order = {
        "id": "SQORDER1",
        "location_id": "LBALLARD",
        "state": "COMPLETED",
        "version": 4,
        "created_at": "2025-06-07T16:00:00Z",
        "updated_at": "2025-06-07T16:00:01Z",
        "closed_at": "2025-06-07T16:00:01Z",
        "line_items": [
            {"uid": "api-line", "name": "Kale", "quantity": "3", "catalog_object_id": "VAR_KALE"}
        ],
    }
    load_orders(warehouse, "green-acres", [api_order], {"LBALLARD": "America/Los_Angeles"}, NOW)
    import_sales(warehouse, "green-acres", export, "square-items", NOW)

    assert rows_of(warehouse, "select order_version from raw.square_orders") == [(4,)]
    assert rows_of(
        warehouse, "select line_uid, catalog_object_id from raw.square_order_line_items"
    ) == [("api-line", "VAR_KALE")]


@pytest.fixture
def cli_env(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("MARKETPREP_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MARKETPREP_WAREHOUSE_URL", f"duckdb:///{tmp_path / 'cli.duckdb'}")
    return tmp_path


def test_import_sales_command_reads_a_generic_file_with_its_mapping(
    cli_env, retail_slice, slice_rows, capsys
):
    mapping = cli_env / "retail.json"
    mapping.write_text(json.dumps(RETAIL_MAPPING))

    code = main(
        [
            "import-sales",
            "--vendor",
            "uk-gifts",
            "--file",
            str(retail_slice),
            "--format",
            "generic",
            "--mapping",
            str(mapping),
        ]
    )

    out = capsys.readouterr().out
    assert code == 0
    assert f"{retail_slice.name} for uk-gifts: read {len(slice_rows)} rows" in out
    assert "custom amount (no catalog id)" in out
    assert "vendor uk-gifts is not registered" in out


@pytest.mark.parametrize(
    ("extra", "mapping", "message"),
    [
        ([], None, "the generic format needs a column mapping"),
        ([], {"order_id": "Invoice"}, "missing required key(s) ['product_id'"),
        ([], RETAIL_MAPPING | {"colour": "Red"}, "unknown key(s) ['colour']"),
        ([], RETAIL_MAPPING | {"timezone": "London"}, "'London' is not an IANA time zone"),
        ([], RETAIL_MAPPING | {"quantity": "Qty"}, "no column(s) ['Qty'] named in the mapping"),
    ],
)
def test_import_sales_command_explains_what_to_fix(
    cli_env, retail_slice, capsys, extra, mapping, message
):
    args = [
        "import-sales",
        "--vendor",
        "uk-gifts",
        "--file",
        str(retail_slice),
        "--format",
        "generic",
        *extra,
    ]
    if mapping is not None:
        path = cli_env / "mapping.json"
        path.write_text(json.dumps(mapping))
        args += ["--mapping", str(path)]

    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_a_square_export_that_is_not_one_is_refused(cli_env, retail_slice, capsys):
    assert main(["import-sales", "--vendor", "uk-gifts", "--file", str(retail_slice)]) == 2
    assert (
        "this is not a Square Items export: no column(s) ['Date', 'Time', 'Item', 'Qty'"
        in capsys.readouterr().err
    )
    with pytest.raises(ImportProblem, match="format 'xls' is not one of"):
        import_sales(None, "v", retail_slice, "xls", NOW)
