"""The one place that decides which environment we run in and what follows from it."""

from dataclasses import dataclass

import dagster as dg

from marketprep.settings import Settings, load_settings


@dataclass(frozen=True)
class Environment:
    name: str  # local, ci or prod
    settings: Settings
    warehouse_kind: str  # duckdb or postgres: also the kind tag shown on warehouse assets
    dbt_target: str
    executor: dg.ExecutorDefinition


def current_environment() -> Environment:
    """Read the settings once and derive the warehouse, the dbt target, the asset kinds and the executor.

    DuckDB allows one writing process at a time, so an embedded warehouse runs steps in-process;
    PostgreSQL takes the multiprocess executor.
    """
    settings = load_settings()
    kind = settings.warehouse.kind
    executor = dg.in_process_executor if kind == "duckdb" else dg.multiprocess_executor
    return Environment(
        name=settings.env,
        settings=settings,
        warehouse_kind=kind,
        dbt_target=kind,
        executor=executor,
    )
