"""Start the fake Square, Open-Meteo and PredictHQ servers over a simulated world.

    world = build_world(SimConfig(end=date(2025, 6, 15), history_days=56))
    with start_sandbox(world) as sandbox:
        os.environ.update(sandbox.env())   # point the real clients at 127.0.0.1
        ...

Each server logs its requests (`server.requests`) and takes queued faults (`server.faults`,
see `sandbox.fake_http.FaultPlan`); `server.app` holds provider knobs (Square's
`catalog_page_size` and `invalidate_cursors()`, PredictHQ's `max_results`, Open-Meteo's
`reanalysis_delay_days`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox import open_meteo_api, predicthq_api, square_api
from sandbox.fake_http import FakeServer, FaultPlan, RecordedRequest, Reply
from sandbox.world import World

__all__ = [
    "FakeServer",
    "FaultPlan",
    "RecordedRequest",
    "Reply",
    "Sandbox",
    "start_open_meteo",
    "start_predicthq",
    "start_sandbox",
    "start_square",
]


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


@dataclass
class Sandbox:
    """The three fake APIs of one world."""

    square: FakeServer
    open_meteo: FakeServer
    events: FakeServer

    def env(self) -> dict[str, str]:
        """MARKETPREP_* settings that point the production clients at these servers."""
        return {
            "MARKETPREP_SQUARE_BASE_URL": self.square.url,
            "MARKETPREP_OPEN_METEO_FORECAST_URL": self.open_meteo.url,
            "MARKETPREP_OPEN_METEO_ARCHIVE_URL": self.open_meteo.url,
            "MARKETPREP_EVENTS_BASE_URL": self.events.url,
            "MARKETPREP_EVENTS_TOKEN": self.events.token or "",
        }

    def stop(self) -> None:
        for server in (self.square, self.open_meteo, self.events):
            server.stop()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_sandbox(world: World) -> Sandbox:
    """All three servers, each on its own ephemeral port."""
    square = start_square(world)
    try:
        open_meteo = start_open_meteo(world)
        try:
            events = start_predicthq(world)
        except BaseException:
            open_meteo.stop()
            raise
    except BaseException:
        square.stop()
        raise
    return Sandbox(square, open_meteo, events)
