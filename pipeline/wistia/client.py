"""HTTP client for Wistia's API: bearer auth, version header, throttle, bounded retries.

Every attempt (successful or not) is reported to a `PageSink`, which is how the bronze manifest
accounts for every request and retry. A 200 body is streamed into the sink as it arrives and only
then parsed, so a malformed body is kept as received (and marked) before it is retried.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO, Protocol

import requests
from requests.adapters import HTTPAdapter
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_random_exponential

from pipeline import __version__
from pipeline.wistia.errors import (
    AuthError,
    RequestError,
    RetriesExhausted,
    Retryable,
)
from pipeline.wistia.throttle import SlidingWindowLimiter

THROTTLED = {429, 503}
SERVER_ERRORS = {500, 502, 504}
CHUNK = 64 * 1024


class PageSink(Protocol):
    """Where response bodies and request records go (the bronze writer)."""

    def open_part(self, stream: str) -> tuple[str, AbstractContextManager[BinaryIO]]: ...

    def record(self, entry: dict[str, Any]) -> None: ...


class NullSink:
    """A sink that keeps nothing (for previews and tests of the client alone)."""

    def open_part(self, stream: str) -> tuple[str, AbstractContextManager[BinaryIO]]:
        import io
        from contextlib import nullcontext

        return "", nullcontext(io.BytesIO())

    def record(self, entry: dict[str, Any]) -> None:
        return None


@dataclass(frozen=True)
class Page:
    """One successfully parsed response."""

    data: Any
    sha256: str
    part: str
    attempts: int


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry (ARCHITECTURE §5)."""

    max_attempts: int = 6
    backoff_base: float = 2.0
    backoff_max: float = 60.0


class WistiaClient:
    """Thread-safe client; one instance is shared by all ingestion workers."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        api_version: str = "2026-03",
        limiter: SlidingWindowLimiter | None = None,
        retry: RetryPolicy = RetryPolicy(),
        timeout: float = 30.0,
        pool_size: int = 8,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not token:
            raise AuthError(
                "WISTIA_API_TOKEN is not set: create an API token in Wistia and export it"
            )
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.limiter = limiter or SlidingWindowLimiter(600, 60.0)
        self.retry = retry
        self.timeout = timeout
        self._sleep = sleep
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max(pool_size, 1), max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update(
            {
                "Authorization": f"Bearer {token}",
                "X-Wistia-API-Version": api_version,
                "Accept": "application/json",
                "User-Agent": f"wistia-video-insights/{__version__}",
            }
        )
        # v1 wants a `.json` suffix; /modern takes none.
        self._suffix = ".json" if self.base_url.endswith("/v1") else ""

    def redact(self, text: str) -> str:
        """Remove the token from any text that might reach a log or an error."""
        return text.replace(self._token, "***") if self._token else text

    def close(self) -> None:
        self.session.close()

    def get(
        self,
        stream: str,
        path: str,
        params: Mapping[str, Any],
        sink: PageSink,
        context: Mapping[str, Any] | None = None,
    ) -> Page:
        """GET `path` with retries; the body goes to `sink`, each attempt is recorded."""
        url = f"{self.base_url}{path}{self._suffix}"
        retrying = Retrying(
            stop=stop_after_attempt(self.retry.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(Retryable),
            sleep=self._sleep,
            reraise=True,
        )
        attempt_no = 0
        try:
            for attempt in retrying:
                with attempt:
                    attempt_no += 1
                    return self._attempt(stream, url, params, sink, attempt_no, context or {})
        except Retryable as exc:
            raise RetriesExhausted(
                f"{stream}: gave up on {path} after {attempt_no} attempts: {exc.reason}"
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, Retryable) and exc.retry_after is not None:
            return min(exc.retry_after, self.retry.backoff_max)
        backoff = wait_random_exponential(
            multiplier=self.retry.backoff_base, max=self.retry.backoff_max
        )
        return backoff(state)

    def _attempt(
        self,
        stream: str,
        url: str,
        params: Mapping[str, Any],
        sink: PageSink,
        attempt_no: int,
        context: Mapping[str, Any],
    ) -> Page:
        self.limiter.acquire()
        entry: dict[str, Any] = {
            "stream": stream,
            **context,
            "url": url,
            "params": dict(params),
            "attempt": attempt_no,
            "started_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        }
        started = time.perf_counter()
        try:
            page = self._send(stream, url, params, sink, entry)
        except Retryable as exc:
            entry.update(outcome="retry", error=exc.reason)
            raise
        except (AuthError, RequestError) as exc:
            entry.update(outcome="fatal", error=str(exc))
            raise
        finally:
            entry["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 1)
            sink.record(entry)
        entry["outcome"] = "ok"
        return page

    def _send(
        self,
        stream: str,
        url: str,
        params: Mapping[str, Any],
        sink: PageSink,
        entry: dict[str, Any],
    ) -> Page:
        try:
            response = self.session.get(url, params=params, timeout=self.timeout, stream=True)
        except requests.RequestException as exc:
            entry["status"] = None
            raise Retryable(f"connection error: {type(exc).__name__}") from None
        with response:
            entry["status"] = response.status_code
            entry["request_id"] = response.headers.get("x-request-id")
            if response.status_code != 200:
                self._raise_for_status(response, url)
            return self._store_body(stream, response, sink, entry)

    def _store_body(
        self, stream: str, response: requests.Response, sink: PageSink, entry: dict[str, Any]
    ) -> Page:
        digest = hashlib.sha256()
        buffer = bytearray()
        key, handle_cm = sink.open_part(stream)
        entry["part"] = key or None
        try:
            with handle_cm as handle:
                for chunk in _iter_body(response):
                    handle.write(chunk)
                    digest.update(chunk)
                    buffer.extend(chunk)
        except requests.RequestException as exc:
            entry.update(bytes=len(buffer), sha256=digest.hexdigest(), valid=False)
            raise Retryable(f"body interrupted: {type(exc).__name__}") from None
        entry.update(bytes=len(buffer), sha256=digest.hexdigest())
        try:
            data = json.loads(buffer)
        except ValueError as exc:
            entry["valid"] = False
            raise Retryable(f"malformed JSON body ({exc.msg} at byte {exc.pos})") from None
        entry["valid"] = True
        entry["records"] = len(data) if isinstance(data, list) else 1
        return Page(data=data, sha256=entry["sha256"], part=key, attempts=entry["attempt"])

    def _raise_for_status(self, response: requests.Response, url: str) -> None:
        status = response.status_code
        detail = self.redact(_error_detail(response))
        if status in THROTTLED:
            retry_after = _retry_after(response.headers.get("Retry-After"))
            raise Retryable(f"throttled (HTTP {status})", retry_after=retry_after)
        if status in SERVER_ERRORS:
            raise Retryable(f"server error (HTTP {status}: {detail})")
        if status in {401, 403}:
            raise AuthError(
                f"Wistia refused the API token (HTTP {status}: {detail}); "
                "check that WISTIA_API_TOKEN is valid and has the 'Read detailed stats' permission"
            )
        if 400 <= status < 500:
            raise RequestError(f"Wistia rejected {url} (HTTP {status}: {detail})")
        raise Retryable(f"unexpected HTTP {status}")


def _iter_body(response: requests.Response) -> Iterator[bytes]:
    for chunk in response.iter_content(chunk_size=CHUNK):
        if chunk:
            yield chunk


def _error_detail(response: requests.Response) -> str:
    """A short, single-line reason from an error body (JSON `error` or plain text)."""
    text = response.text[:300]
    try:
        body = json.loads(text)
    except ValueError:
        return " ".join(text.split()) or response.reason or "no body"
    if isinstance(body, dict) and body.get("error"):
        return str(body["error"])
    return " ".join(text.split())


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form); None when absent or unusable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
