"""A fake Wistia API over HTTP: a werkzeug WSGI app served by a threaded server.

Routes live under both `/modern` and `/v1` (v1 also takes a `.json` suffix). Around them sit
bearer auth, a sliding-window rate limit per token, optional latency and chaos, an
`x-request-id` on every response, and a small unauthenticated control plane under `/__sim/`
(stats, clock, reset) for tests and benchmarks.
"""

from __future__ import annotations

import contextlib
import hmac
import io
import json
import math
import random
import re
import socket
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from pipeline.simulator.account import SyntheticAccount, engagement_buckets
from pipeline.simulator.catalog import Media
from pipeline.simulator.records import media_record

CHAOS_KINDS = ("429", "503", "500", "slow", "truncated", "duplicates")
ERROR_CHAOS = ("429", "503", "500")
FOLDER_KEYS = ("hashedId", "hashed_id")
MAX_PER_PAGE = 100
_VERSION_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
UNAUTHORIZED = {"code": "unauthorized_credentials", "error": "Invalid credentials."}


def parse_chaos(text: str | Iterable[str] | None) -> frozenset[str]:
    """Chaos kinds from a comma list (or iterable); "all" means every kind."""
    if text is None:
        return frozenset()
    items = text.split(",") if isinstance(text, str) else list(text)
    kinds = {item.strip().lower() for item in items if item.strip()}
    if "all" in kinds:
        return frozenset(CHAOS_KINDS)
    unknown = kinds - set(CHAOS_KINDS)
    if unknown:
        raise ValueError(f"unknown chaos kind(s): {', '.join(sorted(unknown))}")
    return frozenset(kinds)


@dataclass
class SimulatorConfig:
    """Everything that shapes the simulator: account, server, limits and chaos."""

    host: str = "127.0.0.1"
    port: int = 8765
    token: str = "demo-token"
    seed: int = 7
    medias: int = 20
    days: int = 90
    today: date | None = None
    daily_plays: float = 40.0
    rate_limit: int = 600
    rate_window_seconds: float = 60.0
    rate_limit_mode: str = "429"
    latency_ms: float = 0.0
    chaos: frozenset[str] = field(default_factory=frozenset)
    chaos_rate: float = 0.05
    folder_key: str = "hashedId"

    def __post_init__(self) -> None:
        self.chaos = parse_chaos(self.chaos)
        if self.rate_limit_mode not in ("429", "503"):
            raise ValueError("rate_limit_mode must be '429' or '503'")
        if self.folder_key not in FOLDER_KEYS:
            raise ValueError(f"folder_key must be one of {FOLDER_KEYS}")
        if self.rate_limit < 1 or self.rate_window_seconds <= 0:
            raise ValueError("rate_limit must be >= 1 and rate_window_seconds > 0")
        if not 0.0 <= self.chaos_rate <= 1.0:
            raise ValueError("chaos_rate must be between 0 and 1")

    def make_account(self) -> SyntheticAccount:
        """The synthetic account these settings describe."""
        return SyntheticAccount(self.seed, self.medias, self.days, self.today, self.daily_plays)


class Counters:
    """Request counters; `max_in_window` is the most arrivals seen in any sliding window."""

    def __init__(self, window: float) -> None:
        self._window = window
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Zero every counter."""
        with self._lock:
            self._arrivals: deque[float] = deque()
            self.total = 0
            self.by_status: Counter[str] = Counter()
            self.rate_limited = 0
            self.chaos: Counter[str] = Counter()
            self.max_in_window = 0
            self.events_served = 0

    def arrive(self, now: float) -> None:
        """Record one API request arriving at `now` (monotonic seconds)."""
        with self._lock:
            self.total += 1
            arrivals = self._arrivals
            arrivals.append(now)
            while arrivals and arrivals[0] <= now - self._window:
                arrivals.popleft()
            self.max_in_window = max(self.max_in_window, len(arrivals))

    def add(self, name: str, key: str | None = None, amount: int = 1) -> None:
        """Increment a counter (a Counter entry when `key` is given)."""
        with self._lock:
            if key is None:
                setattr(self, name, getattr(self, name) + amount)
            else:
                getattr(self, name)[key] += amount

    def snapshot(self) -> dict[str, Any]:
        """The counters as JSON-ready data."""
        with self._lock:
            return {
                "requests_total": self.total,
                "by_status": dict(sorted(self.by_status.items())),
                "rate_limited": self.rate_limited,
                "chaos": dict(sorted(self.chaos.items())),
                "max_in_window": self.max_in_window,
                "events_served": self.events_served,
            }


class SlidingWindowLimiter:
    """At most `limit` accepted requests per `window` seconds per key; rejects don't count."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str, now: float) -> float | None:
        """None when accepted, else the seconds until a slot frees."""
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return hits[0] + self.window - now
            hits.append(now)
            return None


def _json(data: Any, status: int = 200) -> Response:
    body = json.dumps(data, separators=(",", ":"))
    return Response(body, status=status, mimetype="application/json")


def _error(status: int, message: str) -> Response:
    return _json({"error": message}, status)


class BadParam(Exception):
    """A query parameter could not be parsed; carries the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _date_arg(req: Request, name: str, status: int) -> date | None:
    raw = req.args.get(name)
    if raw is None or raw == "":
        return None
    if not _DATE_RE.match(raw):
        raise BadParam(f"Invalid {name}: expected YYYY-MM-DD, got {raw!r}", status)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadParam(f"Invalid {name}: {raw!r} is not a date", status) from None


def _int_arg(req: Request, name: str, default: int, status: int) -> int:
    raw = req.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadParam(f"Invalid {name}: expected an integer, got {raw!r}", status) from None


def _paging(req: Request, status: int) -> tuple[int, int]:
    page = max(1, _int_arg(req, "page", 1, status))
    per_page = min(MAX_PER_PAGE, max(1, _int_arg(req, "per_page", MAX_PER_PAGE, status)))
    return page, per_page


_ROUTES = Map(
    [
        Rule("/medias", endpoint="medias"),
        Rule("/medias/<media_id>", endpoint="media"),
        Rule("/stats/account", endpoint="account_stats"),
        Rule("/stats/account/by_date", endpoint="account_by_date"),
        Rule("/stats/medias/<media_id>", endpoint="media_stats"),
        Rule("/stats/medias/<media_id>/by_date", endpoint="media_by_date"),
        Rule("/stats/medias/<media_id>/engagement", endpoint="media_engagement"),
        Rule("/stats/events", endpoint="events"),
        Rule("/stats/events/<event_key>", endpoint="event"),
    ],
    strict_slashes=False,
)


class SimulatorApp:
    """The WSGI application. Thread-safe; share one instance across server threads."""

    def __init__(self, config: SimulatorConfig, account: SyntheticAccount | None = None) -> None:
        self.config = config
        self.account = account or config.make_account()
        self.counters = Counters(config.rate_window_seconds)
        self.limiter = SlidingWindowLimiter(config.rate_limit, config.rate_window_seconds)
        self._chaos_rng = random.Random(config.seed ^ 0xC4A05)
        self._chaos_lock = threading.Lock()
        self._routes = _ROUTES.bind("simulator")

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        response = self.dispatch(request)
        response.headers["x-request-id"] = str(uuid.uuid4())
        return response(environ, start_response)

    # ----------------------------------------------------------------------------- pipeline

    def dispatch(self, req: Request) -> Response:
        """Answer one request: control plane, or auth, limits, chaos and then the route."""
        if req.path.startswith("/__sim/"):
            return self._control(req)
        flavor, inner = _split_prefix(req.path)
        if flavor is None:
            return _error(404, "Not found")
        now = time.monotonic()
        self.counters.arrive(now)
        response = self._guarded(req, flavor, inner, now)
        self.counters.add("by_status", str(response.status_code))
        return response

    def _guarded(self, req: Request, flavor: str, inner: str, now: float) -> Response:
        """Latency, auth, the rate limit and the version header, then chaos and the route."""
        if self.config.latency_ms:
            time.sleep(self.config.latency_ms / 1000.0)
        if not self._authorized(req):
            return _json(UNAUTHORIZED, 401)
        wait = self.limiter.acquire(self.config.token, now)
        if wait is not None:
            self.counters.add("rate_limited")
            return self._throttled(self.config.rate_limit_mode, wait)
        version = req.headers.get("X-Wistia-Api-Version")
        if flavor == "modern" and version is not None and not _VERSION_RE.match(version):
            return _error(400, "Invalid X-Wistia-Api-Version header: expected YYYY-MM")
        return self._with_chaos(req, flavor, inner)

    def _with_chaos(self, req: Request, flavor: str, inner: str) -> Response:
        """Route the request, unless a chaos switch fires first (or mangles the reply)."""
        fired = self._roll_chaos()
        for kind in ERROR_CHAOS:
            if kind in fired:
                self.counters.add("chaos", kind)
                return self._chaos_error(kind)
        if "slow" in fired:
            self.counters.add("chaos", "slow")
            time.sleep(self._uniform(0.3, 1.5))
        response = self._route(req, flavor, inner)
        if "truncated" in fired and response.status_code == 200:
            self.counters.add("chaos", "truncated")
            body = response.get_data()
            response.set_data(body[: len(body) // 2])  # also fixes Content-Length
        return response

    def _authorized(self, req: Request) -> bool:
        scheme, _, token = req.headers.get("Authorization", "").partition(" ")
        expected = self.config.token.encode()
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), expected)

    @staticmethod
    def _throttled(mode: str, wait: float) -> Response:
        if mode == "503":
            # The practitioner's observation: 503 and no Retry-After.
            return Response("Service Unavailable", status=503, mimetype="text/plain")
        response = Response("Rate limit exceeded", status=429, mimetype="text/plain")
        response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return response

    def _roll_chaos(self) -> set[str]:
        kinds = [k for k in CHAOS_KINDS if k in self.config.chaos and k != "duplicates"]
        if not kinds:
            return set()
        with self._chaos_lock:
            return {k for k in kinds if self._chaos_rng.random() < self.config.chaos_rate}

    def _uniform(self, low: float, high: float) -> float:
        with self._chaos_lock:
            return self._chaos_rng.uniform(low, high)

    @staticmethod
    def _chaos_error(kind: str) -> Response:
        if kind == "429":
            response = Response("Rate limit exceeded", status=429, mimetype="text/plain")
            response.headers["Retry-After"] = "1"
            return response
        if kind == "503":
            return Response("Service Unavailable", status=503, mimetype="text/plain")
        return _error(500, "Internal server error")

    def _route(self, req: Request, flavor: str, inner: str) -> Response:
        try:
            endpoint, args = self._routes.match(inner, method=req.method)
        except NotFound:
            return _error(404, "Not found")
        except MethodNotAllowed:
            return _error(405, "Method not allowed")
        except HTTPException as exc:  # e.g. a redirect for a trailing slash
            return _error(exc.code or 400, exc.description or "Bad request")
        if req.method != "GET":
            return _error(405, "Method not allowed")
        handler = getattr(self, f"_h_{endpoint}")
        try:
            return handler(req, flavor, **args)
        except BadParam as exc:
            return _error(exc.status, str(exc))

    # ----------------------------------------------------------------------------- control

    def _control(self, req: Request) -> Response:
        name = req.path[len("/__sim/") :].strip("/")
        if name == "stats":
            return _json(self.stats())
        if name == "reset-stats" and req.method == "POST":
            self.counters.reset()
            return _json(self.stats())
        if name == "clock" and req.method == "GET":
            return _json({"today": self.account.today.isoformat()})
        if name == "clock" and req.method == "POST":
            try:
                today = date.fromisoformat(str((req.get_json(silent=True) or {})["today"]))
            except (KeyError, TypeError, ValueError):
                return _error(400, 'Expected JSON {"today": "YYYY-MM-DD"}')
            self.account.set_today(today)
            return _json({"today": today.isoformat()})
        return _error(404, "Not found")

    def stats(self) -> dict[str, Any]:
        """Counters plus the settings that explain them."""
        return self.counters.snapshot() | {
            "today": self.account.today.isoformat(),
            "rate_limit": self.config.rate_limit,
            "rate_window_seconds": self.config.rate_window_seconds,
            "chaos_enabled": sorted(self.config.chaos),
        }

    # ----------------------------------------------------------------------------- handlers

    def _existing_media(self, media_id: str) -> Media | None:
        """The media with this hashed or numeric id, if it exists at the clock."""
        media = self.account.media(media_id)
        if media is None or media.created > self.account.today:
            return None
        return media

    def _h_medias(self, req: Request, flavor: str) -> Response:
        page, per_page = _paging(req, 400)
        sort_by = req.args.get("sort_by", "created")
        direction = req.args.get("sort_direction", "1")
        if sort_by not in ("name", "created", "updated", "position", "id") or direction not in (
            "0",
            "1",
        ):
            return _error(400, "Bad request")
        medias = self._filtered_medias(req, flavor)
        key = _media_sort_key(self.account, sort_by)
        medias.sort(key=key, reverse=direction == "0")
        chunk = medias[(page - 1) * per_page : page * per_page]
        return _json([self._media_json(m, flavor) for m in chunk])

    def _filtered_medias(self, req: Request, flavor: str) -> list[Media]:
        medias = self.account.visible_medias()
        wanted = req.args.getlist("hashed_ids[]") + req.args.getlist("hashed_ids")
        if flavor == "v1" and req.args.get("hashed_id"):
            wanted.append(req.args["hashed_id"])
        if wanted:
            medias = [m for m in medias if m.hashed_id in set(wanted)]
        if req.args.get("name"):
            medias = [m for m in medias if m.name == req.args["name"]]
        folder = req.args.get("folder_id") or req.args.get("project_id")
        if folder:
            medias = [m for m in medias if folder in (m.folder.hashed_id, str(m.folder.id))]
        return medias

    def _media_json(self, media: Media, flavor: str, show: bool = False) -> dict[str, Any]:
        return media_record(self.account, media, flavor, self.config.folder_key, show)

    def _h_media(self, req: Request, flavor: str, media_id: str) -> Response:
        media = self._existing_media(media_id)
        if media is None:
            return _error(404, "Media not found")
        return _json(self._media_json(media, flavor, show=True))

    def _h_media_stats(self, req: Request, flavor: str, media_id: str) -> Response:
        media = self._existing_media(media_id)
        if media is None:
            return _error(404, "Media not found")
        life = self.account.lifetime(media.index)
        return _json(
            {
                "load_count": life.load_count,
                "play_count": life.play_count,
                "play_rate": _ratio(life.play_count, life.load_count),
                "hours_watched": life.hours_watched,
                "engagement": _ratio(life.sum_percent_viewed, life.count_percent_viewed),
                "visitors": life.unique_visitors,
                "actions": [],
            }
        )

    def _range(self, req: Request) -> tuple[date, date]:
        today = self.account.today
        start = _date_arg(req, "start_date", 400) or today - timedelta(days=1)
        end = _date_arg(req, "end_date", 400) or today
        return start, min(end, today)

    def _h_media_by_date(self, req: Request, flavor: str, media_id: str) -> Response:
        media = self._existing_media(media_id)
        if media is None:
            return _error(404, "Media not found")
        start, end = self._range(req)
        t = self.account.today.toordinal()
        rows = []
        for o in range(start.toordinal(), end.toordinal() + 1):
            tot = self.account.day_totals(media.index, o, t)
            rows.append(_by_date_row(o, tot.load_count, tot.play_count, tot.hours_watched))
        return _json(rows)

    def _h_media_engagement(self, req: Request, flavor: str, media_id: str) -> Response:
        media = self._existing_media(media_id)
        if media is None:
            return _error(404, "Media not found")
        life = self.account.lifetime(media.index)
        n = engagement_buckets(media.duration)
        # Sessions still watching at bucket b: those that watched more than b buckets.
        still = life.watched_buckets[::-1].cumsum()[::-1][1 : n + 1]
        rewatch = _rewatch(still.tolist(), media.rewatch_rate, media.index)
        return _json(
            {
                "engagement": _ratio(life.sum_percent_viewed, life.count_percent_viewed),
                "engagement_data": [int(x) for x in still],
                "rewatch_data": rewatch,
            }
        )

    def _h_account_stats(self, req: Request, flavor: str) -> Response:
        lives = [self.account.lifetime(m.index) for m in self.account.visible_medias()]
        hours = 0.0
        for life in lives:
            hours += life.hours_watched
        return _json(
            {
                "load_count": sum(life.load_count for life in lives),
                "play_count": sum(life.play_count for life in lives),
                "hours_watched": hours,
            }
        )

    def _h_account_by_date(self, req: Request, flavor: str) -> Response:
        start, end = self._range(req)
        t = self.account.today.toordinal()
        medias = self.account.visible_medias()
        rows = []
        for o in range(start.toordinal(), end.toordinal() + 1):
            days = [self.account.day_totals(m.index, o, t) for m in medias]
            hours = 0.0
            for day in days:
                hours += day.hours_watched
            loads = sum(d.load_count for d in days)
            rows.append(_by_date_row(o, loads, sum(d.play_count for d in days), hours))
        return _json(rows)

    def _h_events(self, req: Request, flavor: str) -> Response:
        page, per_page = _paging(req, 422)
        start = _date_arg(req, "start_date", 422)
        end = _date_arg(req, "end_date", 422)
        media_id = req.args.get("media_id")
        today = self.account.today
        if media_id:
            media = self._existing_media(media_id)
            if media is None:
                return _json([])  # an unknown media simply has no events
            sel = [media.index]
        else:
            sel = [m.index for m in self.account.visible_medias(today)]
        events, copies = self.account.event_page_json(
            sel,
            start,
            end,
            page,
            per_page,
            visitor_key=req.args.get("visitor_key") or None,
            duplicates="duplicates" in self.config.chaos,
            today=today,
        )
        self.counters.add("events_served", amount=len(events))
        if copies:
            self.counters.add("chaos", "duplicates", copies)  # copies served, not requests
        # The items are JSON text already (the fast path): join them into a bare array.
        return Response("[" + ",".join(events) + "]", mimetype="application/json")

    def _h_event(self, req: Request, flavor: str, event_key: str) -> Response:
        event = self.account.event_by_key(event_key)
        if event is None:
            return _error(404, "Event not found")
        return _json(event)


def _split_prefix(path: str) -> tuple[str | None, str]:
    for prefix, flavor in (("/modern", "modern"), ("/v1", "v1")):
        if path == prefix or path.startswith(prefix + "/"):
            inner = path[len(prefix) :] or "/"
            if flavor == "v1" and inner.endswith(".json"):
                inner = inner[: -len(".json")]
            return flavor, inner
    return None, path


def _media_sort_key(account: SyntheticAccount, sort_by: str) -> Callable[[Media], Any]:
    if sort_by == "name":
        return lambda m: (m.name, m.id)
    if sort_by == "updated":
        return lambda m: (account.updated_at(m), m.id)
    if sort_by in ("position", "id"):
        return lambda m: m.index if sort_by == "position" else m.id
    return lambda m: (m.created_at, m.id)


def _by_date_row(o: int, loads: int, plays: int, hours: float) -> dict[str, Any]:
    return {
        "date": date.fromordinal(o).isoformat(),
        "load_count": loads,
        "play_count": plays,
        "hours_watched": hours,
    }


def _ratio(part: float, whole: float) -> float:
    """A 0-1 fraction rounded to 2 decimals, as the Stats API reports them; 0 when empty."""
    return round(part / whole, 2) if whole else 0.0


def _rewatch(still: list[int], rate: float, phase: int) -> list[int]:
    """Rewatches per bucket: a deterministic wavy share of the sessions still watching."""
    n = max(len(still), 1)
    return [
        int(s * rate * (1.0 + 0.6 * math.sin(3 * math.pi * b / n + phase)))
        for b, s in enumerate(still)
    ]


def make_app(
    config: SimulatorConfig | None = None, account: SyntheticAccount | None = None
) -> SimulatorApp:
    """The simulator as a WSGI application."""
    return SimulatorApp(config or SimulatorConfig(), account)


class _KeepAliveHandler(WSGIRequestHandler):
    """werkzeug's request handler with HTTP/1.1 keep-alive and no per-request log line.

    werkzeug closes every connection because it cannot always drain a request body safely.
    The simulator reads request bodies whole and always answers with a buffered body and a
    Content-Length, so it can keep connections open: about twice the requests per second for
    a client that reuses connections, which is what the pipeline's benchmarks measure.
    """

    timeout = 60  # seconds an idle keep-alive connection may stay open
    disable_nagle_algorithm = True  # small replies on a kept-alive socket must not wait 40 ms

    def setup(self) -> None:
        super().setup()
        _connections(self.server).add(self.connection)

    def finish(self) -> None:
        _connections(self.server).discard(self.connection)
        super().finish()

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass  # benchmarks make thousands of requests

    def log_error(self, format: str, *args: Any) -> None:
        if not format.startswith("Request timed out"):  # an idle keep-alive connection
            super().log_error(format, *args)

    def run_wsgi(self) -> None:
        environ = self.environ = self.make_environ()
        if "HTTP_TRANSFER_ENCODING" in environ:
            self.close_connection = True  # a chunked body may be left half-read
        else:
            length = int(self.headers.get("Content-Length") or 0)
            environ["wsgi.input"] = io.BytesIO(self.rfile.read(length) if length > 0 else b"")
        status, headers, body = self._call_app(environ)
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason)
        for key, value in headers:
            if key.lower() not in ("content-length", "connection"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        # What end_headers() does, with the body in the same write (one packet for small replies).
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(body)
        self.flush_headers()

    def _call_app(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            started[:] = [status, headers]
            return lambda data: None  # the simulator never uses the write() callable

        try:
            chunks = self.server.app(environ, start_response)
            try:
                body = b"".join(chunks)
            finally:
                if hasattr(chunks, "close"):
                    chunks.close()
            return started[0], started[1], body
        except Exception as exc:  # answer, log, and drop the connection like werkzeug does
            self.close_connection = True
            self.server.log("error", f"Error on request: {exc!r}")
            return "500 INTERNAL SERVER ERROR", [("Content-Type", "text/plain")], b"Internal Error"


def _connections(server: Any) -> set[Any]:
    conns = getattr(server, "sim_connections", None)
    if conns is None:
        conns = server.sim_connections = set()
    return conns


class SimulatorServer:
    """Serve the simulator in a background thread; a context manager.

    Port 0 picks a free port; `base_url` is what to use as WISTIA_API_BASE_URL.
    """

    def __init__(
        self, config: SimulatorConfig | None = None, account: SyntheticAccount | None = None
    ) -> None:
        self.config = config or SimulatorConfig()
        self.app = make_app(self.config, account)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> SimulatorServer:
        """Bind and start serving; returns self."""
        if self._server is None:
            self._server = make_server(
                self.config.host,
                self.config.port,
                self.app,
                threaded=True,
                request_handler=_KeepAliveHandler,
            )
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.1},  # how quickly stop() takes effect
                name="wistia-simulator",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, drop open keep-alive connections and release the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            for conn in list(_connections(self._server)):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = None
            self._thread = None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (the real one when configured with 0)."""
        if self._server is None:
            raise RuntimeError("the simulator is not running")
        return int(self._server.server_port)

    @property
    def root_url(self) -> str:
        """http://<host>:<port> — the control plane lives under /__sim/."""
        host = self.config.host
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"  # a wildcard bind is reachable on loopback
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The modern API root, e.g. http://127.0.0.1:8765/modern."""
        return f"{self.root_url}/modern"

    @property
    def account(self) -> SyntheticAccount:
        """The synthetic account being served."""
        return self.app.account

    def stats(self) -> dict[str, Any]:
        """The request counters (same as GET /__sim/stats)."""
        return self.app.stats()

    def reset_stats(self) -> None:
        """Zero the request counters."""
        self.app.counters.reset()

    def set_today(self, today: date) -> None:
        """Move the simulator's clock."""
        self.app.account.set_today(today)
