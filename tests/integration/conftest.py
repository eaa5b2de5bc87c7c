"""Integration fixtures: a simulated world served by the sandbox, with its vendors registered."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from marketprep.settings import Settings, load_settings
from marketprep.vendors import register_vendor
from marketprep.warehouse import Warehouse
from sandbox.servers import Sandbox, start_sandbox


@pytest.fixture
def sandboxed(tmp_path, monkeypatch):
    """`with sandboxed(world) as (sandbox, warehouse, settings):` — the sandbox's URLs and a
    warehouse (a DuckDB file under tmp_path unless `warehouse_url` is given) in the environment,
    and every vendor of the world registered with its Square token."""

    @contextmanager
    def start(
        world, warehouse_url: str | None = None
    ) -> Iterator[tuple[Sandbox, Warehouse, Settings]]:
        with start_sandbox(world) as sandbox:
            for name, value in sandbox.env().items():
                monkeypatch.setenv(name, value)
            monkeypatch.setenv(
                "MARKETPREP_WAREHOUSE_URL", warehouse_url or f"duckdb:///{tmp_path / 'wh.duckdb'}"
            )
            monkeypatch.setenv("MARKETPREP_HOME", str(tmp_path / "home"))
            settings = load_settings()
            warehouse = Warehouse(settings.warehouse)
            for vendor in world.vendors:
                register_vendor(
                    warehouse, settings, vendor.vendor_id, vendor.name, vendor.access_token
                )
            yield sandbox, warehouse, settings

    return start
