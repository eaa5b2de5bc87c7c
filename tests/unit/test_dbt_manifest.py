"""The dbt project as dbt parses it: every model, source and column is described, the marts have
enforced contracts from data_contracts, and the YAML uses no deprecated property.

A fresh `dbt parse` into a temporary target path, so the test judges the YAML as it is now rather
than the manifest `make setup` built earlier. That each model's YAML columns are the columns its
SQL returns is checked against built tables in tests/dbt/test_dbt_guards.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from data_contracts import all_contracts

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"


@pytest.fixture(scope="module")
def parsed(tmp_path_factory) -> tuple[dict, str]:
    """The manifest of `dbt parse` and what dbt printed."""
    work_dir = tmp_path_factory.mktemp("dbt_parse")
    dbt = shutil.which("dbt", path=str(Path(sys.executable).parent)) or "dbt"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKETPREP_DBT_")}
    completed = subprocess.run(
        [
            dbt,
            "parse",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
        ],
        env={
            **env,
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_TARGET_PATH": str(work_dir / "target"),
            "DBT_LOG_PATH": str(work_dir / "logs"),
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, f"dbt parse failed:\n{completed.stdout[-6000:]}"
    manifest = json.loads((work_dir / "target" / "manifest.json").read_text())
    return manifest, completed.stdout


@pytest.fixture(scope="module")
def models(parsed) -> dict[str, dict]:
    manifest, _ = parsed
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["package_name"] == "marketprep"
    }


def test_every_model_and_its_every_column_is_described(models):
    assert models, "dbt parse found no models"
    undescribed = []
    for name, node in sorted(models.items()):
        if not node["description"].strip():
            undescribed.append(f"model {name}")
        if not node["columns"]:
            undescribed.append(f"model {name} declares no columns")
        undescribed += [
            f"{name}.{column}"
            for column, spec in node["columns"].items()
            if not spec["description"].strip()
        ]
    assert undescribed == [], "describe these in the model's YAML (or its contract)"


def test_every_source_table_and_column_is_described(parsed):
    manifest, _ = parsed
    undescribed = []
    for source in manifest["sources"].values():
        name = f"{source['source_name']}.{source['name']}"
        if not source["description"].strip():
            undescribed.append(name)
        if not source["columns"]:
            undescribed.append(f"{name} declares no columns")
        undescribed += [
            f"{name}.{column}"
            for column, spec in source["columns"].items()
            if not spec["description"].strip()
        ]
    assert undescribed == []


def test_every_mart_has_an_enforced_contract_from_data_contracts(models):
    contracted = {c.dbt_model: c for c in all_contracts().values() if c.dbt_model}
    marts = {
        name
        for name, node in models.items()
        if node["original_file_path"].startswith("models/marts/")
    }

    assert marts <= set(contracted), f"marts without a contract: {sorted(marts - set(contracted))}"
    for name, table in contracted.items():
        node = models[name]
        assert node["config"]["contract"]["enforced"], name
        assert list(node["columns"]) == table.column_names, name
        assert all(spec["data_type"] for spec in node["columns"].values()), name


def test_the_yaml_uses_no_deprecated_dbt_property(parsed):
    _, printed = parsed
    assert "deprecat" not in printed.lower(), printed[-4000:]
