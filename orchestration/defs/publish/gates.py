"""How a blocking check reports: per-vendor problems hold vendors back, the rest stops the run.

Any check whose problems can be pinned on vendors (or markets) returns `gate(...)`: the findings
go to ops.check_findings for publication to hold those vendors back, and the result is a WARN
(nothing blocked) naming them; problems of the whole table, or of every vendor, are an ERROR,
which Dagster's blocking stops before anything downstream runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import dagster as dg

from marketprep import quality
from orchestration.defs.resources import MarketPrepResource


def check_key(context: dg.AssetCheckExecutionContext) -> str:
    spec = context.check_specs[0]
    return f"{spec.asset_key.to_user_string()}:{spec.name}"


def _held_back_table(verdict: quality.Verdict) -> str:
    lines = ["| vendor | subject | reason |", "|---|---|---|"]
    lines += [f"| {f.vendor_id} | {f.subject} | {f.reason} |" for f in verdict.findings]
    return "\n".join(lines)


def gate(
    context: dg.AssetCheckExecutionContext,
    marketprep: MarketPrepResource,
    rows_checked: int,
    problems: Mapping[str, Sequence[str]],
    subject: str = "vendor_id",
    systemic: Sequence[str] = (),
) -> dg.AssetCheckResult:
    """problems: vendor_id (or market_id, with subject="market_id") -> what is wrong with it."""
    warehouse = marketprep.warehouse
    markets = quality.vendors_at_markets(warehouse) if subject == "market_id" else {}
    verdict = quality.judge(
        check_key(context),
        rows_checked,
        quality.findings_for(subject, problems, markets),
        systemic,
        quality.active_vendors(warehouse),
    )
    quality.record(warehouse, verdict, context.run.run_id, dt.datetime.now(dt.UTC))
    metadata: dict[str, dg.MetadataValue] = {
        "rows_checked": dg.MetadataValue.int(rows_checked),
        "vendors_held_back": dg.MetadataValue.json(verdict.vendors_held_back),
        "systemic_problems": dg.MetadataValue.int(len(verdict.systemic)),
    }
    if verdict.findings:
        metadata["held_back"] = dg.MetadataValue.md(_held_back_table(verdict))
    return dg.AssetCheckResult(
        passed=not verdict.findings and not verdict.systemic,
        severity=dg.AssetCheckSeverity.ERROR if verdict.blocks else dg.AssetCheckSeverity.WARN,
        description=verdict.describe(),
        metadata=metadata,
    )
