"""The one resource every asset shares: settings, warehouse and source clients for this run."""

import dagster as dg
from pydantic import PrivateAttr

from marketprep.settings import Settings, load_settings
from marketprep.warehouse import Warehouse


class MarketPrepResource(dg.ConfigurableResource):
    """Reads the MARKETPREP_* settings when a run starts, so secrets never enter Dagster config."""

    _settings: Settings | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._settings = load_settings()

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    @property
    def warehouse(self) -> Warehouse:
        return Warehouse(self.settings.warehouse)


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"marketprep": MarketPrepResource()})
