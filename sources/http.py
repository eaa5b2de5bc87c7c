"""The transport policy every source client shares (WIRE-FORMATS.md §7).

Timeouts on every call; bounded retries with exponential backoff and jitter on 408, 429, 5xx,
dropped connections, read timeouts and a 200 whose body is not JSON (Open-Meteo streams its body,
so a failure mid-stream arrives as a truncated 200); server hints (`Retry-After-Ms`,
`Retry-After` in seconds or as an HTTP-date, a provider-specific hint) win over the backoff;
any other 4xx fails at once with the provider's error code.

Messages name the provider, the method and the URL path only: tokens travel in headers and some
providers take keys in the query string, so neither is ever put into an error. A key that a
provider echoes back in an error body (Ticketmaster's quota fault names the key) is scrubbed too,
when the client is told about it (`secrets`).

A 200 whose body decodes but is still unusable can be retried as well: `request_json(check=...)`
runs the caller's check inside the retry loop, and a retryable SourceError from it counts as one
failed attempt. The body of a response that stayed bad is kept on the error (`payload`) so the
caller can quarantine it.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from json import loads as _decode_json  # what `response.json()` does with the bytes
from typing import Any
from urllib.parse import urlsplit

import requests

RETRY_STATUSES = frozenset({408, 429})  # and every 5xx
BODY_CHUNK = 1 << 20
TRANSIENT_EXCEPTIONS = (
    requests.ConnectionError,  # includes ConnectTimeout
    requests.ReadTimeout,
    requests.exceptions.ChunkedEncodingError,  # connection dropped mid-body
)

# A provider-specific reading of a throttled response: (provider's error detail, now) -> seconds
# until its limit resets, or None to fall back to backoff. Past max_wait, the call fails fast; a
# hint may also raise SourceError itself for a limit no wait can cure within the job (a daily quota).
ThrottleHint = Callable[[str | None, datetime], float | None]
# Checks a decoded body; raises SourceError (retryable when asking again may help) if unusable.
BodyCheck = Callable[[Any], None]
PAYLOAD_LIMIT = 1_000_000  # characters of a bad body kept for quarantine
Decoder = Callable[[bytes], Any]


class SourceError(Exception):
    """A call to an external API failed; the message says which call and what went wrong."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int | None = None,
        code: str | None = None,
        retryable: bool = False,
        payload: str | None = None,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.status = status
        self.code = code
        self.retryable = retryable
        # The body of a response that arrived but could not be used, for quarantine.
        self.payload = payload


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class _Retry:
    failure: SourceError
    delay: float | None = None  # what the server asked for; None means use the backoff


class HttpClient:
    """One `requests.Session` with MarketPrep's timeout, retry and error policy."""

    def __init__(
        self,
        provider: str,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
        max_retries: int = 3,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        max_wait: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = _utc_now,
        session: requests.Session | None = None,
        secrets: tuple[str, ...] = (),
    ) -> None:
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        self.provider = provider
        self.timeout = (connect_timeout, read_timeout)
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        # Longest single wait a server may ask for before we give up instead: a batch job has a
        # deadline, and a quota that resets in an hour is better reported than slept through.
        self.max_wait = max_wait
        self.sleep = sleep
        self.clock = clock
        self.session = session or requests.Session()
        self.secrets = tuple(secret for secret in secrets if secret)

    def close(self) -> None:
        self.session.close()

    def request_json(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        throttle_hint: ThrottleHint | None = None,
        decode: Decoder | None = None,
        check: BodyCheck | None = None,
    ) -> Any:
        """Send the request (retrying transient failures) and return the decoded JSON body.

        `decode` replaces `response.json()` (bytes in, value out); a ValueError it raises means
        the body was cut short, like any other undecodable 200.
        `check`, if given, vets the decoded body; a retryable SourceError from it is retried like
        a truncated body, any other is raised at once.
        """
        where = f"{method} {urlsplit(url).path}"
        attempt = 0
        while True:
            try:
                outcome = self._attempt(
                    method, url, where, params, json, headers, throttle_hint, decode
                )
                if check is not None and not isinstance(outcome, _Retry):
                    try:
                        check(outcome)
                    except SourceError as exc:
                        if not exc.retryable:
                            raise
                        outcome = _Retry(exc)
            except SourceError as exc:
                raise self._scrubbed(exc) from None
            if not isinstance(outcome, _Retry):
                return outcome
            failure = outcome.failure
            if attempt == self.max_retries:
                raise self._scrubbed(
                    SourceError(
                        f"{failure} (gave up after {attempt + 1} attempts)",
                        provider=self.provider,
                        status=failure.status,
                        code=failure.code,
                        retryable=True,
                        payload=failure.payload,
                    )
                )
            delay = outcome.delay
            if delay is None:
                delay = self._backoff(attempt)
            elif delay > self.max_wait:
                # Not retryable: within this job's patience, trying again cannot succeed.
                raise self._scrubbed(
                    SourceError(
                        f"{failure}; the limit resets in {delay:.0f} s, more than the "
                        f"{self.max_wait:.0f} s this job waits: run it again after that",
                        provider=self.provider,
                        status=failure.status,
                        code=failure.code,
                        retryable=False,
                    )
                )
            self.sleep(delay)
            attempt += 1

    def _attempt(
        self,
        method: str,
        url: str,
        where: str,
        params: Mapping[str, Any] | None,
        json: Any,
        headers: Mapping[str, str] | None,
        throttle_hint: ThrottleHint | None,
        decode: Decoder | None = None,
    ) -> Any:
        """The decoded body, a `_Retry`, or a raised SourceError when retrying cannot help."""
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                json=json,
                headers=headers,
                timeout=self.timeout,
                stream=True,
            )
            # A successful body is read BODY_CHUNK at a time: `response.content` reads 10 kB at a
            # time, which cost ~4 µs of CPU per order on 2 MB pages of Square orders.
            body = b"".join(response.iter_content(BODY_CHUNK)) if response.ok else None
        except TRANSIENT_EXCEPTIONS as exc:
            return _Retry(
                SourceError(
                    f"{self.provider}: {where} failed: {type(exc).__name__}: {_redact(str(exc))}",
                    provider=self.provider,
                    retryable=True,
                )
            )
        status = response.status_code
        if body is not None:
            try:
                return (decode or _decode_json)(body)
            except ValueError:
                text = body.decode(response.encoding or "utf-8", errors="replace")
                return _Retry(
                    SourceError(
                        f"{self.provider}: {where} returned HTTP {status} with a body that is not "
                        f"valid JSON (truncated stream?): {_snippet(text)!r}",
                        provider=self.provider,
                        status=status,
                        code="INVALID_JSON",
                        retryable=True,
                        payload=text[:PAYLOAD_LIMIT],
                    )
                )
        code, detail = describe_error_body(response)
        retryable = status in RETRY_STATUSES or status >= 500
        failure = SourceError(
            f"{self.provider}: {where} failed with HTTP {status}"
            + (f" {code}" if code else "")
            + (f": {detail}" if detail else ""),
            provider=self.provider,
            status=status,
            code=code,
            retryable=retryable,
        )
        if not retryable:
            raise failure
        delay = _retry_after(response, self.clock())
        if delay is None and throttle_hint is not None:
            delay = throttle_hint(detail, self.clock())
        return _Retry(failure, delay)

    def _scrubbed(self, error: SourceError) -> SourceError:
        """The error with every configured secret replaced, in its message and its payload."""
        if not self.secrets:
            return error
        message, payload = str(error), error.payload
        for secret in self.secrets:
            message = message.replace(secret, "<redacted>")
            if payload is not None:
                payload = payload.replace(secret, "<redacted>")
        # The same class, so callers can still tell e.g. a daily quota from other failures.
        return type(error)(
            message,
            provider=error.provider,
            status=error.status,
            code=error.code,
            retryable=error.retryable,
            payload=payload,
        )

    def _backoff(self, attempt: int) -> float:
        # ±10 % jitter (as Square's SDK) keeps parallel jobs from retrying in lockstep.
        return min(self.backoff_cap, self.backoff_base * 2**attempt) * random.uniform(0.9, 1.1)


def _retry_after(response: requests.Response, now: datetime) -> float | None:
    """Seconds the server asked us to wait, from `Retry-After-Ms` or `Retry-After`, if any."""
    millis = response.headers.get("Retry-After-Ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # HTTP-dates are GMT by definition
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def describe_error_body(response: requests.Response) -> tuple[str | None, str | None]:
    """(error code, human detail) from any provider's error body; the body may be HTML or empty."""
    try:
        body = response.json()
    except ValueError:
        return None, _snippet(response.text) or response.reason
    if not isinstance(body, dict):
        return None, _snippet(response.text)
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):  # Square, Ticketmaster
        details = "; ".join(
            str(e.get("detail") or e.get("code")) for e in errors if isinstance(e, dict)
        )
        return _str_or_none(errors[0].get("code")), details
    fault = body.get("fault")
    if isinstance(fault, dict):  # Ticketmaster's gateway
        detail = fault.get("detail")
        code = detail.get("errorcode") if isinstance(detail, dict) else None
        return _str_or_none(code), _str_or_none(fault.get("faultstring"))
    if "reason" in body:  # Open-Meteo {error: true, reason}
        return None, _str_or_none(body["reason"])
    if isinstance(body.get("error"), str):  # PredictHQ {error}
        return None, body["error"]
    if "title" in body or "detail" in body:  # RFC 7807 problem+json (NWS)
        return None, _str_or_none(body.get("detail") or body.get("title"))
    return None, _snippet(response.text)


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _snippet(text: str, limit: int = 200) -> str:
    return " ".join(text.split())[:limit]


_QUERY = re.compile(r"\?[^\s'\")]*")


def _redact(text: str) -> str:
    """Drop query strings (where keys live) from the URLs that requests puts into its errors."""
    return _QUERY.sub("?…", text)
