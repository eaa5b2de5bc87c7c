"""A small threaded HTTP server on 127.0.0.1 for the fake APIs, with fault injection.

A provider module supplies an app (`RecordedRequest -> Reply`) and its standard error body;
`FakeServer` runs it on an ephemeral port in a daemon thread, logs every request, and lets tests
queue faults for the next N requests whose path starts with a prefix:

    server.faults.respond("/v2/orders/search", 429, headers={"Retry-After": "1"})
    server.faults.respond("/v1/forecast", 503, body="<html>down</html>")
    server.faults.drop_connection("/v1/archive")          # headers, half the body, then close
    server.faults.truncate("/v1/forecast", suffix="Unexpected error while streaming data")
    server.faults.stall("/v1/events/", seconds=2)         # answer late (client read timeouts)
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class RecordedRequest:
    """One request as the server received it. `query` keeps the first value of each parameter;
    `json` is the decoded body, or None when there was no body or it was not JSON."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """A header's value, matched case-insensitively."""
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)


@dataclass
class Reply:
    """What to send back. A dict or list body is sent as JSON; str or bytes as they are."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        if isinstance(self.body, dict | list):
            payload = json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode()
            headers.setdefault("Content-Type", "application/json")
        elif isinstance(self.body, str):
            payload = self.body.encode()
            headers.setdefault("Content-Type", "text/html; charset=utf-8")
        else:
            payload = self.body or b""
        return payload, headers


@dataclass
class Fault:
    """A queued misbehaviour for the next `remaining` requests matching `path_prefix`."""

    kind: str  # "respond", "drop", "truncate" or "stall"
    path_prefix: str
    remaining: int
    method: str | None = None
    status: int = 200
    body: Any = None  # None: the provider's own error body for `status`
    headers: dict[str, str] = field(default_factory=dict)
    keep: float = 0.5  # share of the real body sent before dropping or truncating
    suffix: str = ""  # text appended after a truncated body (Open-Meteo's stream error)
    seconds: float = 0.0


class FaultPlan:
    """Faults queued by tests; each applies to the next matching requests, first queued first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def _add(self, fault: Fault) -> None:
        if fault.remaining < 1:
            raise ValueError(f"times must be at least 1, got {fault.remaining}")
        with self._lock:
            self._faults.append(fault)

    def respond(
        self,
        path_prefix: str,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
        method: str | None = None,
    ) -> None:
        """Answer with `status` (body: the provider's error body unless given) instead."""
        self._add(Fault("respond", path_prefix, times, method, status, body, dict(headers or {})))

    def drop_connection(
        self, path_prefix: str, times: int = 1, keep: float = 0.5, method: str | None = None
    ) -> None:
        """Send the real status and headers and `keep` of the body, then close the socket."""
        self._add(Fault("drop", path_prefix, times, method, keep=keep))

    def truncate(
        self,
        path_prefix: str,
        times: int = 1,
        keep: float = 0.5,
        suffix: str = "",
        method: str | None = None,
    ) -> None:
        """Answer 200 with the first `keep` of the real body plus `suffix`: invalid JSON."""
        self._add(Fault("truncate", path_prefix, times, method, keep=keep, suffix=suffix))

    def stall(
        self, path_prefix: str, seconds: float, times: int = 1, method: str | None = None
    ) -> None:
        """Wait `seconds` before answering normally (to trip a client's read timeout)."""
        self._add(Fault("stall", path_prefix, times, method, seconds=seconds))

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def pending(self) -> list[Fault]:
        """Faults not yet used up."""
        with self._lock:
            return list(self._faults)

    def take(self, method: str, path: str) -> Fault | None:
        """The fault for this request, if any, counting it as used once."""
        with self._lock:
            for fault in self._faults:
                if path.startswith(fault.path_prefix) and fault.method in (None, method):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None


App = Callable[[RecordedRequest], Reply]
ErrorBody = Callable[[int], Reply]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real APIs; every reply has a length
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Silence the per-request stderr log; `FakeServer.requests` records them instead."""

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._handle()

    def do_POST(self) -> None:  # noqa: N802
        self._handle()

    def do_PUT(self) -> None:  # noqa: N802
        self._handle()

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle()

    def _read(self) -> RecordedRequest:
        parts = urlsplit(self.path)
        query: dict[str, str] = {}
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            query.setdefault(key, value)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            decoded = json.loads(body) if body else None
        except ValueError:
            decoded = None
        return RecordedRequest(
            self.command, parts.path, query, dict(self.headers.items()), decoded, body
        )

    def _send(self, status: int, payload: bytes, headers: dict[str, str], length: int) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()

    def _handle(self) -> None:
        fake = self.server.fake
        request = self._read()
        fake.requests.append(request)
        fault = fake.faults.take(request.method, request.path)
        try:
            if fault is not None and fault.kind == "stall":
                fake.stopping.wait(fault.seconds)
            if fault is not None and fault.kind == "respond":
                reply = fake.error_body(fault.status)
                if fault.body is not None:
                    reply = Reply(fault.status, fault.body)
                reply.headers.update(fault.headers)
            else:
                reply = fake.app(request)
        except Exception:  # a bug in a fake must show up as a 500 and a traceback, not a hang
            traceback.print_exc(file=sys.stderr)
            reply = fake.error_body(500)
        payload, headers = reply.encode()
        try:
            if fault is not None and fault.kind == "drop":
                self._send(
                    reply.status, payload[: int(len(payload) * fault.keep)], headers, len(payload)
                )
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
            elif fault is not None and fault.kind == "truncate":
                cut = payload[: int(len(payload) * fault.keep)] + fault.suffix.encode()
                self._send(200, cut, headers, len(cut))
            else:
                self._send(reply.status, payload, headers, len(payload))
        except OSError:
            self.close_connection = True  # the client gave up (e.g. after its read timeout)


class FakeServer:
    """One fake API on http://127.0.0.1:<ephemeral port>, serving in a daemon thread.

    `requests` logs every request received (faulted ones too); `faults` queues misbehaviour;
    `app` is the provider's request handler, whose knobs tests may turn.
    """

    def __init__(self, name: str, app: App, error_body: ErrorBody) -> None:
        self.name = name
        self.token: str | None = None  # the bearer token a server accepts, if it has one
        self.app = app
        self.error_body = error_body
        self.faults = FaultPlan()
        self.requests: list[RecordedRequest] = []
        self.stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name=f"fake-{name}",
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and release the port; stalled requests are let go at once."""
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"FakeServer({self.name!r}, {self.url!r})"
