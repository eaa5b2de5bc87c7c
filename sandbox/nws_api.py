"""Fake api.weather.gov: `/points/{lat},{lon}` and `/gridpoints/{wfo}/{x},{y}/forecast`.

Shapes follow the recorded Cedar Rapids exchange in `api-samples/nws/` (GeoJSON `Feature`s, a
points body carrying the office, grid square and absolute forecast URL; a forecast of 14 twelve-
hour periods with integer °F temperatures, text wind speeds and a precipitation chance) and the
errors of `nws/errors.fixture.json`: RFC 7807 problem+json, except the CDN's 403 HTML page when
the User-Agent is missing. A point with more than 4 decimals is redirected (301) to its rounded
form, as the live API does.

Points inside the contiguous US map onto the grid of the nearest office in `OFFICES` (2.5 km
squares, invertible, so a forecast URL alone says where it is); other points get 404
InvalidPoint. Temperatures come from the simulated world (a point within 0.1° of a market gets
that market's days, anything else the climatology of the day), starting at the sandbox clock.

Knobs: `require_user_agent` (default True: no or a library-default User-Agent gets the 403),
`unserved_points` (the "lat,lon" path segments answered 404 InvalidPoint, e.g. a pier NWS has no
grid for), and the shared `FaultPlan` (e.g. 503 ForecastGridExpired on `/gridpoints/`).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.fake_http import RecordedRequest, Reply
from sandbox.simulator import sandbox_now
from sandbox.weather import climatology
from sandbox.world import Market, World

PROBLEM = {"Content-Type": "application/problem+json"}
GEOJSON = {"Content-Type": "application/geo+json", "Cache-Control": "public, max-age=3600"}
POINT_PATH = re.compile(r"^/points/(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)$")
FORECAST_PATH = re.compile(r"^/gridpoints/([A-Z]{3})/(\d+),(\d+)/forecast$")
CONUS = (24.0, 50.0, -125.0, -66.0)  # lat, lat, lon, lon
GRID_STEP = 1 / 40  # degrees per grid square, about 2.5 km
GRID_ORIGIN = 500  # keeps grid numbers positive, as the spec requires
# Forecast office -> (latitude, longitude, IANA zone): a handful is enough for a sandbox.
OFFICES = {
    "SEW": (47.687, -122.255, "America/Los_Angeles"),
    "PQR": (45.560, -122.539, "America/Los_Angeles"),
    "MTR": (37.744, -122.212, "America/Los_Angeles"),
    "LOX": (34.200, -119.140, "America/Los_Angeles"),
    "BOU": (39.987, -105.263, "America/Denver"),
    "MPX": (44.849, -93.566, "America/Chicago"),
    "DVN": (41.611, -90.581, "America/Chicago"),
    "LOT": (41.604, -88.085, "America/Chicago"),
    "OKX": (40.866, -72.864, "America/New_York"),
    "BOX": (41.955, -71.137, "America/New_York"),
}
PERIODS = 14
CONTEXT = [
    "https://geojson.org/geojson-ld/geojson-context.jsonld",
    {
        "@version": "1.1",
        "wx": "https://api.weather.gov/ontology#",
        "geo": "http://www.opengis.net/ont/geosparql#",
        "unit": "http://codes.wmo.int/common/unit/",
        "@vocab": "https://api.weather.gov/ontology#",
    },
]
COMPASS = ("N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE")
COMPASS += ("S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW")
STANDARD_PROBLEMS = {
    400: ("BadRequest", "Bad Request", "The request could not be understood."),
    404: ("NotFound", "Not Found", "The requested resource could not be found."),
    429: ("RateLimited", "Too Many Requests", "Too many requests; retry in a few seconds."),
    500: ("UnexpectedProblem", "Unexpected Problem", "An unexpected problem has occurred."),
    503: (
        "UnavailableWebService",
        "Unavailable Resource",
        "The resource you requested is currently unavailable. Please try again later.",
    ),
}
ACCESS_DENIED = (
    "<HTML><HEAD><TITLE>Access Denied</TITLE></HEAD><BODY>You don't have permission to access "
    "this server. A User-Agent identifying your application is required.<P>Reference #18.sandbox"
    "</BODY></HTML>"
)


def problem(
    status: int, kind: str, title: str, detail: str, host: str = "api.weather.gov"
) -> Reply:
    """An RFC 7807 problem+json body as NWS writes them."""
    request_id = f"{abs(hash((status, kind, detail))) % 16**8:08x}"
    return Reply(
        status,
        {
            "correlationId": request_id,
            "title": title,
            "type": f"https://api.weather.gov/problems/{kind}",
            "status": status,
            "detail": detail,
            "instance": f"https://{host}/requests/{request_id}",
        },
        dict(PROBLEM),
    )


def error_body(status: int) -> Reply:
    """NWS's error for a status: problem+json, or the CDN's HTML page for 403."""
    if status == 403:
        return Reply(403, ACCESS_DENIED, {"Content-Type": "text/html"})
    kind, title, detail = STANDARD_PROBLEMS.get(status, STANDARD_PROBLEMS[500])
    return problem(status, kind, title, detail)


def _office(lat: float, lon: float) -> str:
    return min(OFFICES, key=lambda o: (OFFICES[o][0] - lat) ** 2 + (OFFICES[o][1] - lon) ** 2)


def _grid(office: str, lat: float, lon: float) -> tuple[int, int]:
    o_lat, o_lon, _ = OFFICES[office]
    return (
        round((lon - o_lon) / GRID_STEP) + GRID_ORIGIN,
        round((lat - o_lat) / GRID_STEP) + GRID_ORIGIN,
    )


def _centre(office: str, x: int, y: int) -> tuple[float, float]:
    o_lat, o_lon, _ = OFFICES[office]
    return o_lat + (y - GRID_ORIGIN) * GRID_STEP, o_lon + (x - GRID_ORIGIN) * GRID_STEP


def _short(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".")


class NWSApp:
    """Request handler for the fake NWS API over a simulated world."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.now = sandbox_now(world.config)
        self.require_user_agent = True
        self.unserved_points: set[str] = set()

    def __call__(self, request: RecordedRequest) -> Reply:
        agent = request.header("User-Agent") or ""
        if self.require_user_agent and (not agent or agent.startswith("python-requests")):
            return error_body(403)
        if request.method != "GET":
            return error_body(404)
        host = request.header("Host") or "127.0.0.1"
        if request.query:
            # The live API refuses parameters it does not know (cache-busters included).
            names = sorted(set(request.query) - {"units"})
            if names:
                return problem(400, "BadRequest", "Bad Request", f"Unknown parameter: {names[0]}")
        point = POINT_PATH.match(request.path)
        if point:
            return self._point(point[1], point[2], host)
        forecast = FORECAST_PATH.match(request.path)
        if forecast:
            return self._forecast(forecast[1], int(forecast[2]), int(forecast[3]), host)
        return error_body(404)

    def _point(self, lat_text: str, lon_text: str, host: str) -> Reply:
        lat, lon = float(lat_text), float(lon_text)
        key = f"{_short(lat)},{_short(lon)}"
        if any(len(t.partition(".")[2]) > 4 for t in (lat_text, lon_text)):
            return Reply(
                301,
                problem(
                    301,
                    "AdjustedPointLocation",
                    "Adjusted Point Location",
                    "The precision of latitude/longitude points is limited to 4 decimal places "
                    "for efficiency. The location attribute contains your request mapped to the "
                    "nearest supported point.",
                    host,
                ).body,
                {**PROBLEM, "Location": f"http://{host}/points/{key}"},
            )
        inside = CONUS[0] <= lat <= CONUS[1] and CONUS[2] <= lon <= CONUS[3]
        if not inside or key in self.unserved_points:
            return problem(
                404,
                "InvalidPoint",
                "Data Unavailable For Requested Point",
                f"Unable to provide data for requested point {key}",
                host,
            )
        office = _office(lat, lon)
        x, y = _grid(office, lat, lon)
        grid = f"http://{host}/gridpoints/{office}/{x},{y}"
        market = self._market(lat, lon)
        return Reply(
            200,
            {
                "@bundle": {"name": "R5"},
                "@context": CONTEXT,
                "id": f"http://{host}/points/{key}",
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {
                    "@id": f"http://{host}/points/{key}",
                    "@type": "wx:Point",
                    "cwa": office,
                    "forecastOffice": f"http://{host}/offices/{office}",
                    "gridId": office,
                    "gridX": x,
                    "gridY": y,
                    "forecast": f"{grid}/forecast",
                    "forecastHourly": f"{grid}/forecast/hourly",
                    "forecastGridData": grid,
                    "observationStations": f"{grid}/stations",
                    "relativeLocation": {
                        "type": "Feature",
                        "geometry": {
                            "type": "Point",
                            "coordinates": [market.longitude, market.latitude],
                        },
                        "properties": {
                            "city": market.locality,
                            "state": market.region,
                            "distance": {"unitCode": "wmoUnit:m", "value": 850.0},
                            "bearing": {"unitCode": "wmoUnit:degree_(angle)", "value": 90},
                        },
                    },
                    "forecastZone": f"http://{host}/zones/forecast/{office}Z001",
                    "county": f"http://{host}/zones/county/{office}C001",
                    "fireWeatherZone": f"http://{host}/zones/fire/{office}Z001",
                    "timeZone": OFFICES[office][2],
                    "radarStation": f"K{office}",
                },
            },
            dict(GEOJSON),
        )

    def _market(self, lat: float, lon: float) -> Market:
        return min(
            self.world.markets, key=lambda m: (m.latitude - lat) ** 2 + (m.longitude - lon) ** 2
        )

    def _weather(self, lat: float, lon: float, day: dt.date) -> dict[str, float]:
        market = self._market(lat, lon)
        if abs(market.latitude - lat) <= 0.1 and abs(market.longitude - lon) <= 0.1:
            found = self.world.weather.get((market.market_key, day))
            if found is not None:
                return found
        return climatology(day)

    def _forecast(self, office: str, x: int, y: int, host: str) -> Reply:
        if office not in OFFICES:
            return problem(
                404,
                "InvalidGridpoint",
                "Invalid Gridpoint",
                f"'{office}' is not a forecast office served by this API",
                host,
            )
        lat, lon = _centre(office, x, y)
        zone = ZoneInfo(OFFICES[office][2])
        local = self.now.astimezone(zone)
        periods = []
        start = local
        for number in range(1, PERIODS + 1):
            daytime = 6 <= start.hour < 18
            boundary = start.replace(hour=18 if daytime else 6, minute=0, second=0, microsecond=0)
            if boundary <= start:
                boundary += dt.timedelta(days=1)
            periods.append(self._period(number, start, boundary, daytime, local, lat, lon))
            start = boundary
        issued = self.now.replace(minute=0, second=0, microsecond=0)
        half = GRID_STEP / 2
        corners = [
            [round(lon - half, 7), round(lat + half, 7)],
            [round(lon - half, 7), round(lat - half, 7)],
            [round(lon + half, 7), round(lat - half, 7)],
            [round(lon + half, 7), round(lat + half, 7)],
        ]
        return Reply(
            200,
            {
                "@context": CONTEXT,
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [[*corners, corners[0]]]},
                "properties": {
                    "updated": _utc(issued - dt.timedelta(hours=1)),
                    "units": "us",
                    "forecastGenerator": "BaselineForecastGenerator",
                    "generatedAt": _utc(self.now),
                    "updateTime": _utc(issued - dt.timedelta(hours=1)),
                    "validTimes": f"{_utc(issued)}/P7DT13H",
                    "elevation": {"unitCode": "wmoUnit:m", "value": 30.48},
                    "periods": periods,
                },
            },
            dict(GEOJSON),
        )

    def _period(
        self,
        number: int,
        start: dt.datetime,
        end: dt.datetime,
        daytime: bool,
        now: dt.datetime,
        lat: float,
        lon: float,
    ) -> dict[str, Any]:
        # A day's high belongs to its daytime; a night's low to the morning it runs into.
        weather = self._weather(lat, lon, start.date() if daytime else end.date())
        celsius = weather["temp_max_c"] if daytime else weather["temp_min_c"]
        fahrenheit = round(celsius * 9 / 5 + 32)
        rain = weather["precip_mm"]
        chance = None if rain == 0 else min(100, 20 + 10 * round(rain))
        wind = 4 + (number * 3) % 9
        short = "Rain" if rain >= 2 else "Chance Rain Showers" if rain > 0 else None
        short = short or ("Sunny" if daytime else "Clear")
        return {
            "number": number,
            "name": _period_name(start, daytime, now, number),
            "startTime": start.isoformat(),
            "endTime": end.isoformat(),
            "isDaytime": daytime,
            "temperature": fahrenheit,
            "temperatureUnit": "F",
            "temperatureTrend": None,
            "probabilityOfPrecipitation": {"unitCode": "wmoUnit:percent", "value": chance},
            "dewpoint": {"unitCode": "wmoUnit:degC", "value": round(weather["temp_min_c"] - 1, 1)},
            "relativeHumidity": {"unitCode": "wmoUnit:percent", "value": 60 + (number * 7) % 30},
            "windSpeed": f"{wind} to {wind + 5} mph",
            "windDirection": COMPASS[(number * 5) % 16],
            "icon": "https://api.weather.gov/icons/land/"
            f"{'day' if daytime else 'night'}/{'rain' if rain else 'few'}?size=medium",
            "shortForecast": short,
            "detailedForecast": f"{short}, with a {'high' if daytime else 'low'} near "
            f"{fahrenheit}. Wind {wind} to {wind + 5} mph.",
        }


def _period_name(start: dt.datetime, daytime: bool, now: dt.datetime, number: int) -> str:
    if number == 1:
        if daytime:
            return "This Afternoon" if start.hour >= 12 else "Today"
        return "Overnight" if start.hour < 6 else "Tonight"
    weekday = start.strftime("%A")
    if start.date() == now.date():
        return "Today" if daytime else "Tonight"
    return weekday if daytime else f"{weekday} Night"


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat()
