"""Shared helpers for the source-client tests: the recorded wire fixtures in shared/api-samples,
a scripted `requests` transport that replays them, and a contract check for parsed rows."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from data_contracts import all_contracts
from sandbox.spec import api_samples_dir
from sources.http import HttpClient


def load_exchanges(relative_path: str) -> list[dict]:
    return json.loads((api_samples_dir() / relative_path).read_text())["exchanges"]


@pytest.fixture
def exchanges() -> Callable[[str], list[dict]]:
    """`exchanges("square/catalog.fixture.json")` → that fixture's request/response pairs."""
    return load_exchanges


@pytest.fixture
def exchange() -> Callable[[str, str], dict]:
    """`exchange(path, name_start)` → the one exchange whose name starts with `name_start`."""

    def find(relative_path: str, name_start: str) -> dict:
        matches = [e for e in load_exchanges(relative_path) if e["name"].startswith(name_start)]
        assert len(matches) == 1, f"{relative_path}: {len(matches)} exchanges named {name_start!r}…"
        return matches[0]

    return find


@dataclass
class SentRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: Any
    timeout: Any


class ScriptedAdapter(BaseAdapter):
    """Answers each request with the next scripted step: a fixture-style response dict
    ({status, headers, body | body_text}) or an exception to raise."""

    def __init__(self, script: list[dict | Exception]) -> None:
        super().__init__()
        self.script = list(script)
        self.sent: list[SentRequest] = []

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        body = json.loads(request.body) if request.body else None
        self.sent.append(
            SentRequest(request.method, request.url, dict(request.headers), body, timeout)
        )
        if not self.script:
            raise AssertionError(f"unexpected extra request {request.method} {request.url}")
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        response = requests.Response()
        response.status_code = step.get("status", 200)
        response.headers = CaseInsensitiveDict(step.get("headers") or {})
        text = step["body_text"] if "body_text" in step else json.dumps(step.get("body", {}))
        response.raw = io.BytesIO(text.encode())  # read as a real adapter's body is
        response.encoding = "utf-8"
        response.url = request.url
        response.request = request
        response.reason = "scripted"
        return response

    def close(self) -> None:
        pass


@dataclass
class Stub:
    http: HttpClient
    adapter: ScriptedAdapter
    sleeps: list[float] = field(default_factory=list)

    @property
    def sent(self) -> list[SentRequest]:
        return self.adapter.sent


FIXED_NOW = datetime(2025, 6, 7, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def stub() -> Callable[..., Stub]:
    """`stub(step, step, ..., provider=..., **HttpClient options)`: an HttpClient whose session
    replays the steps, whose sleeps are recorded instead of slept, and whose clock is fixed."""

    def make(*script: dict | Exception, provider: str = "test", **options: Any) -> Stub:
        adapter = ScriptedAdapter(list(script))
        session = requests.Session()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        sleeps: list[float] = []
        options.setdefault("clock", lambda: FIXED_NOW)
        http = HttpClient(provider, sleep=sleeps.append, session=session, **options)
        return Stub(http, adapter, sleeps)

    return make


def _fits(logical_type: str, value: Any) -> bool:
    match logical_type:
        case "string":
            return isinstance(value, str)
        case "int64" | "int32":
            return isinstance(value, int) and not isinstance(value, bool)
        case "float64":
            return isinstance(value, float)
        case "bool":
            return isinstance(value, bool)
        case "date":
            return isinstance(value, date) and not isinstance(value, datetime)
        case "timestamp_tz":
            return isinstance(value, datetime) and value.utcoffset() is not None
        case "decimal":
            return isinstance(value, Decimal)
        case "json":
            return isinstance(value, str) and json.loads(value) is not None
    raise AssertionError(f"unknown logical type {logical_type}")


@pytest.fixture
def assert_contract() -> Callable[[str, list[dict]], None]:
    """Each row has exactly the table's columns, no null where the contract forbids it, and
    Python values of the column's logical type."""

    def check(table: str, rows: list[dict]) -> None:
        contract = all_contracts()[table]
        assert rows, f"no {table} rows to check"
        for row in rows:
            assert set(row) == set(contract.column_names), (
                f"{table}: columns {sorted(row)} != {sorted(contract.column_names)}"
            )
            for column in contract.columns:
                value = row[column.name]
                if value is None:
                    assert column.nullable, f"{table}.{column.name} is null in {row}"
                else:
                    assert _fits(column.type, value), (
                        f"{table}.{column.name} = {value!r} is not a {column.type}"
                    )

    return check
