"""Publication: the audited recommendations swap into `serving.recommendations` atomically."""

import datetime as dt

import dagster as dg

from data_contracts import audited_contracts, contract
from marketprep.publish import Publication, publish
from orchestration.defs.ingest.partitions import planning_date
from orchestration.defs.resources import MarketPrepResource

STAGING = contract("forecast.recommendations")
SERVING = contract("serving.recommendations")
# Publication reads the findings of every audited table's blocking check, so those tables are its
# inputs: their checks gate it directly, whatever subset of the graph a run selects.
AUDITED = [c.asset_key for c in audited_contracts() if c.asset_key != STAGING.asset_key]


def _held_back_table(publication: Publication) -> str:
    lines = ["| vendor | stale since | rows kept | why |", "|---|---|---|---|"]
    lines += [
        f"| {h.vendor_id} | {h.stale_since:%Y-%m-%d %H:%M} UTC | {h.rows_kept} | {h.reason} |"
        for h in publication.held_back
    ]
    return "\n".join(lines)


@dg.asset(
    key=SERVING.asset_key,
    deps=[STAGING.asset_key, *AUDITED],
    group_name="publish",
    kinds={"python"},
)
def serving_recommendations(
    context: dg.AssetExecutionContext, marketprep: MarketPrepResource
) -> dg.MaterializeResult:
    """What vendors read: one row per vendor × market × market day × product.

    Runs only after every upstream blocking check passed. Vendors with findings keep their
    previous rows, marked stale; the swap (with its history version) is one transaction, so
    readers see the previous version until it commits.
    """
    publication = publish(
        marketprep.warehouse, context.run.run_id, planning_date(context), dt.datetime.now(dt.UTC)
    )
    metadata = {
        "version": dg.MetadataValue.int(publication.version),
        "rows": dg.MetadataValue.int(publication.rows),
        "vendors_published": dg.MetadataValue.json(list(publication.published)),
        "vendors_held_back": dg.MetadataValue.json([h.vendor_id for h in publication.held_back]),
        "published_count": dg.MetadataValue.int(len(publication.published)),
        "held_back_count": dg.MetadataValue.int(len(publication.held_back)),
        "published_at": dg.MetadataValue.text(publication.published_at.isoformat()),
    }
    if publication.held_back:
        metadata["held_back"] = dg.MetadataValue.md(_held_back_table(publication))
        context.log.warning(
            "held back: " + "; ".join(f"{h.vendor_id} ({h.reason})" for h in publication.held_back)
        )
    return dg.MaterializeResult(metadata=metadata)
