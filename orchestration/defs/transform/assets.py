"""dbt assets: staging, intermediate and marts, with dbt sources mapped onto the ingest asset keys."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from orchestration.defs.ingest.partitions import planning_date, run_partition_days
from orchestration.defs.resources import MarketPrepResource
from orchestration.defs.transform.project import DBT_PROJECT, dbt_environment, dbt_vars
from orchestration.environment import current_environment


class MarketPrepTranslator(DagsterDbtTranslator):
    """Keys are [schema, table]: a dbt source `raw.x` is exactly the ingest asset ["raw", "x"]."""

    def __init__(self, warehouse_kind: str):
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))
        self.warehouse_kind = warehouse_kind

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "source":
            return spec.replace_attributes(key=dg.AssetKey([props["source_name"], props["name"]]))
        return spec.replace_attributes(
            key=dg.AssetKey([props["config"].get("schema") or "main", props["name"]]),
            group_name="transform",
            kinds={"dbt", self.warehouse_kind},
        )


DBT_OP = "marketprep_dbt"


class DbtBuildConfig(dg.Config):
    """Launchpad options of the dbt step."""

    full_refresh: bool = False
    """Rebuild the incremental models from all raw history instead of the run's partitions."""


@dg.definitions
def transform() -> dg.Definitions:
    environment = current_environment()

    @dbt_assets(
        manifest=DBT_PROJECT.manifest_path,
        project=DBT_PROJECT,
        dagster_dbt_translator=MarketPrepTranslator(environment.warehouse_kind),
        name=DBT_OP,
    )
    def marketprep_dbt(
        context: dg.AssetExecutionContext,
        dbt: DbtCliResource,
        marketprep: MarketPrepResource,
        config: DbtBuildConfig,
    ):
        """`dbt build` runs models and their tests in graph order. The sales models are incremental
        by market day: a run rebuilds the days of the partitions it ingested (plus dbt's lookback
        for late Square updates); the small models are rebuilt whole, for the planning date.

        The dbt assets are not partitioned themselves: one materialization per model and run, not
        one per model and day, which for a year's backfill is 26 × 365 events that Dagster would
        record while dbt waits on its output."""
        settings = marketprep.settings
        days = run_partition_days(context)
        window = (days[0].isoformat(), days[1].isoformat()) if days else None
        args = [
            "build",
            "--vars",
            dbt_vars(planning_date(context).isoformat(), settings.horizon_days, window=window),
            *(["--full-refresh"] if config.full_refresh else []),
            # the SQL's unit tests run in CI (tests/dbt/test_dbt_unit_tests.py), not every morning
            "--exclude-resource-type",
            "unit_test",
        ]
        with dbt_environment(settings.dbt_env()):
            yield from dbt.cli(args, context=context).stream()

    return dg.Definitions(
        assets=[marketprep_dbt],
        resources={
            "dbt": DbtCliResource(
                project_dir=DBT_PROJECT, profiles_dir=str(DBT_PROJECT.profiles_dir)
            )
        },
    )
