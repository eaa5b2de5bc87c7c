"""Validate API bodies against the providers' OpenAPI extracts in `shared/api-samples/`.

Used by the fake-server tests and reusable by client tests:

    validate_response("square", "POST", "/v2/orders/search", 200, body)
    validate_schema("square", "Order", order)

Both raise `jsonschema.ValidationError` naming the offending field.

The extracts are used as published, with a few documented relaxations where a spec states less
than its provider sends (each is listed in `RELAXATIONS` and applied in `load_spec`):
- OpenAPI 3.0 `nullable: true` (Square) becomes a JSON Schema null alternative.
- `x-trimmed-ref` placeholders ({type: object}) stand for schemas the extract dropped, several of
  which are strings (Location.country, Location.capabilities[], CatalogItem.product_type,
  CatalogCategory.category_type), so they are left unconstrained.
- Open-Meteo writes `null` for missing values inside its data arrays (archive days inside the
  reanalysis delay); the extract types those items as plain numbers.
- PredictHQ sends `next`/`previous: null` on the first/last page and `timezone: null` for
  holidays (its own docs and fixtures), and `local_rank` may be null; the extract types them as
  non-null.
- A multi-location Open-Meteo response is a JSON array of the single-location object.
- NWS (the extract is v1.9.0, 2021): the recorded points Feature carries `@bundle`, and recorded
  forecast periods carry `probabilityOfPrecipitation`, `dewpoint` and `relativeHumidity`, all of
  which the extract's `additionalProperties: false` forbids.
- Ticketmaster (the extract is a 2017 Swagger 2.0): the 200 body is the HAL envelope of the
  official sample (`_links`, `_embedded.events`, `page`), not the bare Event array the extract
  declares; `localTime` is an "HH:mm:ss" string on the wire, not the Joda LocalTime object of
  the extract. Its error bodies are not in the extract at all: `TICKETMASTER_ERROR` is written
  from the recorded error fixtures (gateway `fault`, Discovery `errors[]`).
Pass `relaxed=False` to `load_spec` to see the extract exactly as published.

`datasets_dir()` finds `shared/datasets` (real public data for tests) the same way.
"""

from __future__ import annotations

import copy
import functools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, validators

API_SAMPLES_ENV = "MARKETPREP_API_SAMPLES"
DATASETS_ENV = "MARKETPREP_DATASETS"
SPEC_FILES = {
    "square": "square/square-openapi-extract.json",
    "open-meteo": "open-meteo/open-meteo-openapi-extract.yaml",
    "predicthq": "events/predicthq-events-openapi-extract.yaml",
    "nws": "nws/nws-openapi-extract.yaml",
    "ticketmaster": "events/ticketmaster-discovery-extract.json",
}
RELAXATIONS = (
    "square: OpenAPI 3.0 nullable -> null allowed",
    "all: x-trimmed-ref placeholders -> unconstrained",
    "open-meteo: null allowed inside daily/hourly data arrays",
    "open-meteo: multi-location responses are arrays of the single-location object",
    "predicthq: EventsResponse.next/previous, Event.timezone, Event.local_rank may be null",
    "nws: points Feature may carry @bundle",
    "nws: forecast periods may carry probabilityOfPrecipitation, dewpoint, relativeHumidity",
    "ticketmaster: 200 is the HAL envelope {_links, _embedded.events, page}",
    "ticketmaster: localTime is an HH:mm:ss string",
)
TICKETMASTER_PATH = "/discovery/v2/events.json"
TICKETMASTER_PAGE = {
    "type": "object",
    "required": ["_links", "page"],
    "additionalProperties": False,
    "properties": {
        "_links": {"type": "object"},
        "_embedded": {
            "type": "object",
            "required": ["events"],
            "properties": {
                "events": {"type": "array", "minItems": 1, "items": {"$ref": "#/definitions/Event"}}
            },
        },
        "page": {
            "type": "object",
            "required": ["size", "totalElements", "totalPages", "number"],
            "properties": {
                name: {"type": "integer", "minimum": 0}
                for name in ("size", "totalElements", "totalPages", "number")
            },
        },
    },
}
TICKETMASTER_ERROR = {
    "oneOf": [
        {
            "type": "object",
            "required": ["fault"],
            "additionalProperties": False,
            "properties": {
                "fault": {
                    "type": "object",
                    "required": ["faultstring", "detail"],
                    "properties": {
                        "faultstring": {"type": "string"},
                        "detail": {
                            "type": "object",
                            "required": ["errorcode"],
                            "properties": {"errorcode": {"type": "string"}},
                        },
                    },
                }
            },
        },
        {
            "type": "object",
            "required": ["errors"],
            "additionalProperties": False,
            "properties": {
                "errors": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["code", "detail", "status"],
                        "properties": {
                            "code": {"type": "string", "pattern": "^DIS[0-9]{4}$"},
                            "detail": {"type": "string"},
                            "status": {"type": "string"},
                            "_links": {"type": "object"},
                        },
                    },
                }
            },
        },
    ]
}
JSON_CONTENT_TYPES = ("application/json", "application/geo+json", "application/problem+json")
SQUARE_ERROR_ENVELOPE = {
    "type": "object",
    "required": ["errors"],
    "properties": {
        "errors": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/Error"}}
    },
}
ERROR_SCHEMA = {"open-meteo": "Error", "predicthq": "ErrorResponse"}


def _shared(folder: str, env: str, what: str) -> Path:
    """`shared/<folder>`: from $env, else the `shared/` folder beside the repository (where the
    project's machines and CI lay it)."""
    if configured := os.environ.get(env):
        return Path(configured)
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / folder
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"shared/{folder} was not found beside the repository; set {env} to the folder {what}"
    )


def api_samples_dir() -> Path:
    """`shared/api-samples`: the providers' spec extracts and recorded exchanges."""
    return _shared("api-samples", API_SAMPLES_ENV, "holding the providers' OpenAPI extracts")


def datasets_dir() -> Path:
    """`shared/datasets`: real public data (e.g. seattle-weather.csv) for tests."""
    return _shared("datasets", DATASETS_ENV, "holding the shared datasets")


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _allow_null(schema: dict[str, Any]) -> None:
    """Make one schema node accept null as well (in place)."""
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
    elif isinstance(kind, list) and "null" not in kind:
        kind.append("null")
    elif "$ref" in schema:
        ref = schema.pop("$ref")
        schema["anyOf"] = [{"$ref": ref}, {"type": "null"}]
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]


def _relax(provider: str, spec: dict[str, Any]) -> None:
    for node in list(_walk(spec)):
        if "x-trimmed-ref" in node:
            node.clear()
        elif node.pop("nullable", False) is True:
            _allow_null(node)
    if provider == "open-meteo":
        for operation in spec["paths"].values():
            ok = operation["get"]["responses"]["200"]["content"]["application/json"]["schema"]
            for section in ("daily", "hourly", "current"):
                for column in ok["properties"].get(section, {}).get("properties", {}).values():
                    if column.get("type") == "array":
                        _allow_null(column["items"])
    if provider == "predicthq":
        schemas = spec["components"]["schemas"]
        for name, field in (
            ("EventsResponse", "next"),
            ("EventsResponse", "previous"),
            ("Event", "timezone"),
            ("Event", "local_rank"),
        ):
            _allow_null(schemas[name]["properties"][field])
    if provider == "nws":
        schemas = spec["components"]["schemas"]
        schemas["GeoJsonFeature"]["properties"]["@bundle"] = {"type": "object"}
        quantity = {"$ref": "#/components/schemas/QuantitativeValue"}
        for name in ("probabilityOfPrecipitation", "dewpoint", "relativeHumidity"):
            schemas["GridpointForecastPeriod"]["properties"][name] = dict(quantity)
    if provider == "ticketmaster":
        spec["paths"][TICKETMASTER_PATH]["get"]["responses"]["200"]["schema"] = TICKETMASTER_PAGE
        clock = {"type": "string", "pattern": "^[0-9]{2}:[0-9]{2}:[0-9]{2}$"}
        for name in ("StartDates", "EndDates"):
            properties = spec["definitions"][name]["properties"]
            if "localTime" in properties:
                properties["localTime"] = dict(clock)


@functools.cache
def _load(provider: str, relaxed: bool) -> dict[str, Any]:
    if provider not in SPEC_FILES:
        raise ValueError(f"unknown provider {provider!r}; expected one of {sorted(SPEC_FILES)}")
    path = api_samples_dir() / SPEC_FILES[provider]
    text = path.read_text(encoding="utf-8")
    spec = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    if relaxed:
        _relax(provider, spec)
    return spec


def load_spec(provider: str, relaxed: bool = True) -> dict[str, Any]:
    """The provider's spec extract (a key of SPEC_FILES), a fresh copy."""
    return copy.deepcopy(_load(provider, relaxed))


def _resolve(spec: dict[str, Any], pointer: str) -> Any:
    node: Any = spec
    for part in pointer.lstrip("#").strip("/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _inline(node: Any, spec: dict[str, Any], stack: tuple[str, ...] = ()) -> Any:
    """Replace local $refs by their targets (a recursive one stays a $ref): jsonschema resolves
    a $ref on every use, which makes a 1000-order page take seconds to check."""
    if isinstance(node, list):
        return [_inline(value, spec, stack) for value in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/") and ref not in stack:
        target = _inline(_resolve(spec, ref), spec, (*stack, ref))
        siblings = {k: _inline(v, spec, stack) for k, v in node.items() if k != "$ref"}
        return {"allOf": [target], **siblings} if siblings else target
    return {key: _inline(value, spec, stack) for key, value in node.items()}


_STANDARD_ENUM = Draft202012Validator.VALIDATORS["enum"]
_STRING_MEMBERS: dict[int, tuple[list[Any], frozenset[str]]] = {}


def _fast_enum(validator: Any, enums: Any, instance: Any, schema: Any) -> Iterator[Any]:
    """`enum`, with a set lookup for strings: Square's Currency and ErrorCode enums have ~150
    members each, and the standard keyword compares them one by one."""
    if isinstance(instance, str):
        cached = _STRING_MEMBERS.get(id(enums))
        if cached is None or cached[0] is not enums:
            cached = _STRING_MEMBERS[id(enums)] = (
                enums,
                frozenset(e for e in enums if isinstance(e, str)),
            )
        if instance in cached[1]:
            return
    yield from _STANDARD_ENUM(validator, enums, instance, schema)


_Validator = validators.extend(Draft202012Validator, {"enum": _fast_enum})


@functools.cache
def _validator(provider: str, pointer: str, relaxed: bool) -> Any:
    spec = _load(provider, relaxed)
    fixed = {"square-error": SQUARE_ERROR_ENVELOPE, "ticketmaster-error": TICKETMASTER_ERROR}
    target = fixed[pointer] if pointer in fixed else _resolve(spec, pointer)
    schema = _inline(target, spec)
    # Keep the components (OpenAPI 3) or definitions (Swagger 2) beside the schema so the
    # recursive refs left still resolve.
    return _Validator(
        {
            "allOf": [schema],
            "components": spec.get("components", {}),
            "definitions": spec.get("definitions", {}),
        }
    )


def _escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


def validate_schema(provider: str, name: str, instance: Any, relaxed: bool = True) -> None:
    """Validate against `components.schemas.<name>` (e.g. "Order", "Event"), or a Swagger 2
    extract's `definitions.<name>`."""
    section = "definitions" if "definitions" in _load(provider, relaxed) else "components/schemas"
    _validator(provider, f"/{section}/{_escape(name)}", relaxed).validate(instance)


def _response_pointer(provider: str, method: str, path: str, status: int, relaxed: bool) -> str:
    spec = _load(provider, relaxed)
    if path not in spec["paths"]:
        raise KeyError(f"{provider} extract has no path {path!r}: {sorted(spec['paths'])}")
    method = method.lower()
    responses = spec["paths"][path][method]["responses"]
    pointer = "/".join(["", "paths", _escape(path), method, "responses"])
    key = str(status) if str(status) in responses else "default" if status >= 400 else None
    response = responses.get(key, {}) if key else {}
    if key:
        pointer += f"/{key}"
    if "$ref" in response:  # a shared response under components/responses
        pointer = response["$ref"].lstrip("#")
        response = _resolve(spec, response["$ref"])
    if "schema" in response and status < 400:  # Swagger 2 puts the schema on the response
        return f"{pointer}/schema"
    for content_type in JSON_CONTENT_TYPES:
        if content_type in response.get("content", {}):
            return f"{pointer}/content/{_escape(content_type)}/schema"
    if status < 400:
        raise KeyError(f"{provider} {method.upper()} {path} declares no {status} response")
    # Error statuses the extract leaves undocumented use the provider's error envelope.
    if provider in ("square", "ticketmaster"):
        return f"{provider}-error"
    return f"/components/schemas/{ERROR_SCHEMA[provider]}"


def validate_response(
    provider: str, method: str, path: str, status: int, body: Any, relaxed: bool = True
) -> None:
    """Validate a decoded response body for `method path` with HTTP `status`."""
    pointer = _response_pointer(provider, method, path, status, relaxed)
    validator = _validator(provider, pointer, relaxed)
    if provider == "open-meteo" and status == 200 and isinstance(body, list):
        for element in body:
            validator.validate(element)
    else:
        validator.validate(body)
