"""Ingestion: pull the five streams for a run window into Bronze.

One `WistiaClient` (throttled, retrying) is shared by a pool of workers; each worker pulls one
(media, stream) unit, paging sequentially. The window comes from the watermarks (§11). The
proposed new watermarks are saved as pending; `state.commit_watermarks` makes them count.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pipeline.bronze import BronzeRun, new_run_id
from pipeline.settings import Settings
from pipeline.state import (
    EVENT_RETENTION_DAYS,
    Watermarks,
    commit_watermarks,
    load_watermarks,
    run_window,
    save_pending,
)
from pipeline.storage import Storage
from pipeline.wistia.client import Page, RetryPolicy, WistiaClient
from pipeline.wistia.errors import WistiaError
from pipeline.wistia.paginate import paginate
from pipeline.wistia.streams import EVENTS, MEDIA_STREAMS, MEDIAS, Stream
from pipeline.wistia.throttle import SlidingWindowLimiter

ProgressFn = Callable[[str, int, int], None]  # (stream, requests, records)


class IngestCancelled(WistiaError):
    """Another unit of the run failed; this one stopped early."""


@dataclass(frozen=True)
class IngestOptions:
    """What a run acts on: the as-of day and, optionally, an explicit window."""

    as_of: date
    start_date: date | None = None
    end_date: date | None = None
    backfill_days: int | None = None
    commit: bool = False
    run_id: str | None = None


@dataclass
class IngestResult:
    run_id: str
    load_date: date
    status: str
    manifest: str
    windows: dict[str, list[str]]
    summary: dict[str, Any]
    media_ids: list[str] = field(default_factory=list)
    committed: bool = False


def default_as_of() -> date:
    """Yesterday in UTC: the last complete day."""
    return datetime.now(UTC).date() - timedelta(days=1)


def make_client(settings: Settings) -> WistiaClient:
    token = settings.wistia_api_token.get_secret_value() if settings.wistia_api_token else ""
    return WistiaClient(
        settings.wistia_api_base_url,
        token,
        api_version=settings.wistia_api_version,
        limiter=SlidingWindowLimiter(settings.rate_limit_per_minute, settings.rate_window_seconds),
        retry=RetryPolicy(
            settings.max_attempts, settings.backoff_base_seconds, settings.backoff_max_seconds
        ),
        timeout=settings.request_timeout_seconds,
        pool_size=settings.concurrency,
    )


class _Run:
    """State of one ingestion run (kept together so the functions below stay small)."""

    def __init__(
        self, settings: Settings, storage: Storage, client: WistiaClient, options: IngestOptions
    ) -> None:
        self.settings = settings
        self.client = client
        self.options = options
        self.run_id = options.run_id or new_run_id()
        self.bronze = BronzeRun(storage, self.run_id, options.as_of)
        self.cancelled = threading.Event()
        self.lock = threading.Lock()  # guards windows and proposal across workers
        self.watermarks = load_watermarks(storage)
        self.proposal = Watermarks(run_id=self.run_id)
        self.windows: dict[str, list[str]] = {}
        self.media_ids: list[str] = []

    def window_for(self, stream: Stream, media_id: str) -> tuple[date, date]:
        opts = self.options
        if opts.start_date or opts.end_date:
            end = opts.end_date or opts.as_of
            start = opts.start_date or end - timedelta(days=self.settings.backfill_days - 1)
        else:
            start, end = run_window(
                self.watermarks.get(stream.name, media_id),
                opts.as_of,
                overlap_days=self.settings.overlap_days,
                backfill_days=opts.backfill_days or self.settings.backfill_days,
            )
        if stream is EVENTS:  # Wistia keeps events for two years only.
            start = max(start, opts.as_of - timedelta(days=EVENT_RETENTION_DAYS))
        return start, end

    def moves_watermark(self, stream: Stream, media_id: str, window: tuple[date, date]) -> bool:
        """Whether covering `window` may move the watermark to its end: only when the window
        joins on to what is covered already. A backfill that starts after the watermark's
        next day would otherwise mark the days in between as done."""
        mark = self.watermarks.get(stream.name, media_id)
        return mark is None or window[0] <= mark + timedelta(days=1)

    def fetch(self, stream: Stream, media_id: str | None, window=None, page=None) -> Page:
        if self.cancelled.is_set():
            raise IngestCancelled("cancelled")
        params = stream.request_params(media_id, window, page)
        context = {"media_id": media_id} if media_id else {}
        return self.client.get(
            stream.name, stream.request_path(media_id), params, self.bronze, context
        )


def ingest(
    settings: Settings,
    storage: Storage,
    options: IngestOptions,
    *,
    client: WistiaClient | None = None,
    progress: ProgressFn | None = None,
) -> IngestResult:
    """Run one ingestion; raises `WistiaError` (after writing a failed manifest) on failure."""
    client = client or make_client(settings)
    run = _Run(settings, storage, client, options)
    report = progress or (lambda stream, requests, records: None)
    try:
        run.media_ids = _ingest_medias(run, report)
        _ingest_media_streams(run, run.media_ids, report)
    except BaseException as exc:
        run.cancelled.set()
        run.bronze.write_manifest("failed", error=client.redact(str(exc)), windows=run.windows)
        raise
    manifest = run.bronze.write_manifest("complete", windows=run.windows, media_ids=run.media_ids)
    save_pending(storage, run.run_id, run.proposal)
    committed = False
    if options.commit:
        commit_watermarks(storage, run.run_id)
        committed = True
    return IngestResult(
        run.run_id,
        options.as_of,
        "complete",
        manifest,
        run.windows,
        run.bronze.summary(),
        run.media_ids,
        committed,
    )


def _ingest_medias(run: _Run, report: ProgressFn) -> list[str]:
    """List medias newest-updated first, stopping once past the bookmark; return media ids."""
    bookmark = run.watermarks.medias_bookmark
    newest = bookmark
    listed: list[str] = []

    def older_than_bookmark(records: list[dict[str, Any]]) -> bool:
        return bool(bookmark) and all(str(r.get("updated", "")) < bookmark for r in records)

    for page in paginate(lambda n: run.fetch(MEDIAS, None, page=n), stop=older_than_bookmark):
        for record in page.data:
            listed.append(str(record.get("hashed_id")))
            updated = str(record.get("updated") or "")
            newest = max(newest or updated, updated)
        report(MEDIAS.name, 1, len(page.data))
    run.proposal.medias_bookmark = newest
    wanted = run.settings.media_ids
    if wanted:
        return list(wanted)
    return sorted(set(listed) | run.watermarks.known_media_ids())


def _ingest_media_streams(run: _Run, media_ids: Iterable[str], report: ProgressFn) -> None:
    units = [(stream, media_id) for stream in MEDIA_STREAMS for media_id in media_ids]
    with ThreadPoolExecutor(run.settings.concurrency, thread_name_prefix="ingest") as pool:
        futures: list[Future[None]] = [
            pool.submit(_ingest_unit, run, stream, media_id, report) for stream, media_id in units
        ]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        failed = [f for f in done if f.exception() is not None]
        if failed:
            run.cancelled.set()
            for future in futures:
                future.cancel()
            wait(futures)
            raise _first_real_error(failed)


def _first_real_error(failed: list[Future[None]]) -> BaseException:
    errors = [f.exception() for f in failed]
    real = [e for e in errors if not isinstance(e, IngestCancelled)]
    return (real or errors)[0]  # type: ignore[return-value]


def _ingest_unit(run: _Run, stream: Stream, media_id: str, report: ProgressFn) -> None:
    window = run.window_for(stream, media_id) if stream.windowed else None
    if window and window[0] > window[1]:
        return
    if stream.paginated:
        for page in paginate(lambda n: run.fetch(stream, media_id, window, n)):
            report(stream.name, 1, len(page.data))
    else:
        page = run.fetch(stream, media_id, window)
        report(stream.name, 1, len(page.data) if isinstance(page.data, list) else 1)
    if window:
        start, end = window[0].isoformat(), window[1].isoformat()
        with run.lock:
            lo, hi = run.windows.get(stream.name, [start, end])
            run.windows[stream.name] = [min(lo, start), max(hi, end)]
            if run.moves_watermark(stream, media_id, window):
                run.proposal.dates.setdefault(stream.name, {})[media_id] = end
