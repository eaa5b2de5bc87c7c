"""Start the fake Square, Open-Meteo, NWS, PredictHQ and Ticketmaster servers over a simulated world.

    world = build_world(SimConfig(end=date(2025, 6, 15), history_days=56))
    with start_sandbox(world) as sandbox:
        os.environ.update(sandbox.env())   # point the real clients at 127.0.0.1
        ...

Each server logs its requests (`server.requests`) and takes queued faults (`server.faults`,
see `sandbox.fake_http.FaultPlan`); `server.app` holds provider knobs (Square's
`catalog_page_size` and `invalidate_cursors()`, PredictHQ's `max_results`, Open-Meteo's
`reanalysis_delay_days`, NWS's `require_user_agent` and `unserved_points`, Ticketmaster's
`max_size`, `depth_limit` and `daily_quota`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox import nws_api, open_meteo_api, predicthq_api, square_api, ticketmaster_api
from sandbox.fake_http import FakeServer, FaultPlan, RecordedRequest, Reply
from sandbox.world import World

__all__ = [
    "FakeServer",
    "FaultPlan",
    "RecordedRequest",
    "Reply",
    "Sandbox",
    "start_nws",
    "start_open_meteo",
    "start_predicthq",
    "start_sandbox",
    "start_square",
    "start_ticketmaster",
]
# The fake Ticketmaster's accepted key: a placeholder, since the sandbox has nothing to protect.
TICKETMASTER_KEY = "sandbox-ticketmaster-key"


def start_square(world: World) -> FakeServer:
    """Square Connect v2; each vendor's `access_token` opens that vendor's account."""
    return FakeServer("square", square_api.SquareApp(world), square_api.error_body)


def start_open_meteo(world: World) -> FakeServer:
    """Open-Meteo forecast (`/v1/forecast`) and archive (`/v1/archive`) on one server."""
    return FakeServer("open-meteo", open_meteo_api.OpenMeteoApp(world), open_meteo_api.error_body)


def start_predicthq(world: World) -> FakeServer:
    """PredictHQ events; the accepted token is `server.token` (= `world.events_token`)."""
    server = FakeServer(
        "predicthq",
        predicthq_api.PredictHQApp(world, world.events_token),
        predicthq_api.error_body,
    )
    server.token = world.events_token
    return server


def start_nws(world: World) -> FakeServer:
    """api.weather.gov: `/points/{lat},{lon}` and the gridpoint forecast."""
    return FakeServer("nws", nws_api.NWSApp(world), nws_api.error_body)


def start_ticketmaster(world: World) -> FakeServer:
    """Ticketmaster Discovery v2; the accepted `apikey` is `server.token`."""
    server = FakeServer(
        "ticketmaster",
        ticketmaster_api.TicketmasterApp(world, TICKETMASTER_KEY),
        ticketmaster_api.error_body,
    )
    server.token = TICKETMASTER_KEY
    return server


@dataclass
class Sandbox:
    """The fake APIs of one world."""

    square: FakeServer
    open_meteo: FakeServer
    events: FakeServer
    nws: FakeServer
    ticketmaster: FakeServer

    def env(self) -> dict[str, str]:
        """MARKETPREP_* settings that point the production clients at these servers."""
        return {
            "MARKETPREP_SQUARE_BASE_URL": self.square.url,
            "MARKETPREP_OPEN_METEO_FORECAST_URL": self.open_meteo.url,
            "MARKETPREP_OPEN_METEO_ARCHIVE_URL": self.open_meteo.url,
            "MARKETPREP_EVENTS_BASE_URL": self.events.url,
            "MARKETPREP_EVENTS_TOKEN": self.events.token or "",
            "MARKETPREP_NWS_BASE_URL": self.nws.url,
            "MARKETPREP_TICKETMASTER_BASE_URL": self.ticketmaster.url,
            "MARKETPREP_TICKETMASTER_API_KEY": self.ticketmaster.token or "",
        }

    def stop(self) -> None:
        for server in (self.square, self.open_meteo, self.events, self.nws, self.ticketmaster):
            server.stop()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_sandbox(world: World) -> Sandbox:
    """Every fake server, each on its own ephemeral port."""
    started: list[FakeServer] = []
    try:
        for start in (
            start_square,
            start_open_meteo,
            start_predicthq,
            start_nws,
            start_ticketmaster,
        ):
            started.append(start(world))
    except BaseException:
        for server in started:
            server.stop()
        raise
    return Sandbox(*started)
