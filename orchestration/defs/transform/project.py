"""The one module that owns the dbt project; the manifest is built once by `dbt parse` in setup."""

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dagster_dbt import DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"
DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


@contextmanager
def dbt_environment(variables: dict[str, str]) -> Iterator[None]:
    """Point dbt's profiles.yml at this run's warehouse for the duration of one invocation.

    dbt reads its connection from the environment of the process Dagster spawns, and that process
    inherits os.environ when the invocation starts; DBT_SEND_ANONYMOUS_USAGE_STATS keeps it offline.
    """
    wanted = {**variables, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    saved = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def dbt_vars(planning_date: str, horizon_days: int, window: tuple[str, str] | None = None) -> str:
    """The dbt vars of one run: its planning date and, for the incremental models, the first and
    last market day (inclusive) of the partitions it rebuilds."""
    variables = {"run_date": planning_date, "horizon_days": horizon_days}
    if window is not None:
        variables |= {"window_start": window[0], "window_end": window[1]}
    return json.dumps(variables)
