"""One blocking `matches_contract` check per audited contract (data_contracts/tables/*.yaml).

Each runs the table's physical schema check, its Great Expectations suite and its freshness rule
(marketprep.quality.audit_table) and reports through `gate`: one vendor's bad rows hold that
vendor back, a drifted table stops the run.
"""

import datetime as dt

import dagster as dg

from data_contracts import Contract, audited_contracts
from marketprep import quality
from orchestration.defs.ingest.partitions import run_partition_days
from orchestration.defs.publish.gates import gate
from orchestration.defs.resources import MarketPrepResource

MATCHES_CONTRACT = "matches_contract"


def contract_check(table_contract: Contract) -> dg.AssetChecksDefinition:
    subject = table_contract.audit.subject

    @dg.asset_check(
        asset=table_contract.asset_key,
        name=MATCHES_CONTRACT,
        blocking=True,
        description=f"{table_contract.table} matches data_contracts/tables/{table_contract.table}.yaml: "
        "columns and types, nulls, ranges, allowed values, keys, payload schemas, freshness.",
    )
    def matches_contract(
        context: dg.AssetCheckExecutionContext, marketprep: MarketPrepResource
    ) -> dg.AssetCheckResult:
        audit = quality.audit_table(
            marketprep.warehouse,
            table_contract,
            dt.datetime.now(dt.UTC),
            run_partition_days(context),
        )
        return gate(
            context, marketprep, audit.rows, audit.by_subject, subject, audit.table_problems
        )

    return matches_contract


@dg.definitions
def contract_checks() -> dg.Definitions:
    return dg.Definitions(asset_checks=[contract_check(c) for c in audited_contracts()])
