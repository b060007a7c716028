"""The local runner: ingest → silver → gold → checks → commit watermarks, one run at a time.

Each run keeps a record at `runs/<run_id>.json` (status, steps with timings and row counts, log
tail, quality results) that is rewritten after every step, so the Admin page can follow a run
while it goes. Watermarks are committed last: a run that fails or is killed at any step leaves
them untouched, and the next run covers the same window again (§11).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pipeline.bronze import new_run_id
from pipeline.ingest import IngestOptions, ProgressFn, ingest
from pipeline.lock import RunLock, lock_path
from pipeline.settings import Settings
from pipeline.state import commit_watermarks
from pipeline.storage import Storage, open_storage

log = logging.getLogger("wvi.run")
RUNS = "runs"
STEPS = ("ingest", "silver", "gold", "checks", "commit")
LOG_TAIL = 60


def run_key(run_id: str) -> str:
    return f"{RUNS}/{run_id}.json"


@dataclass(frozen=True)
class RunOptions:
    """What a run acts on; see `IngestOptions` for the window rules."""

    as_of: date
    start_date: date | None = None
    end_date: date | None = None
    backfill_days: int | None = None
    run_id: str | None = None


class _TailHandler(logging.Handler):
    """Keeps the last lines of the run's log for the run record."""

    def __init__(self, size: int = LOG_TAIL) -> None:
        super().__init__(logging.INFO)
        self.lines: deque[str] = deque(maxlen=size)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


class RunRecord:
    """The run's record in storage, rewritten (atomically) after every change."""

    def __init__(self, storage: Storage, run_id: str, options: RunOptions) -> None:
        self.storage = storage
        self.tail = _TailHandler()
        existing = _read_record(storage, run_id)  # a "queued" record from the Admin page
        self.data: dict[str, Any] = {
            **(existing or {}),
            "run_id": run_id,
            "status": "running",
            "pid": os.getpid(),
            "as_of": options.as_of.isoformat(),
            "requested_window": [
                options.start_date.isoformat() if options.start_date else None,
                options.end_date.isoformat() if options.end_date else None,
            ],
            "started_at": _now(),
            "finished_at": None,
            "error": None,
            "steps": [{"name": name, "status": "pending"} for name in STEPS],
        }
        self.data.setdefault("queued_at", self.data["started_at"])
        self.save()

    def step(self, name: str) -> dict[str, Any]:
        return next(s for s in self.data["steps"] if s["name"] == name)

    def save(self) -> None:
        self.data["log_tail"] = list(self.tail.lines)
        self.storage.put(run_key(self.data["run_id"]), json.dumps(self.data, indent=1).encode())

    @contextmanager
    def running(self, name: str) -> Iterator[dict[str, Any]]:
        """Time one step; its body may put row counts into the yielded dict's `rows`."""
        step = self.step(name)
        step.update(status="running", started_at=_now())
        self.save()
        started = time.perf_counter()
        try:
            yield step
        except BaseException:
            step.update(status="failed")
            raise
        else:
            step["status"] = "succeeded"
        finally:
            step.update(finished_at=_now(), seconds=round(time.perf_counter() - started, 3))
            self.save()

    def finish(self, status: str, error: str | None = None) -> None:
        for step in self.data["steps"]:
            if step["status"] == "pending":
                step["status"] = "skipped"
        started = datetime.fromisoformat(self.data["started_at"])
        self.data.update(
            status=status,
            error=error,
            finished_at=_now(),
            duration_seconds=round((datetime.now(UTC) - started).total_seconds(), 3),
        )
        self.save()


def run_pipeline(
    settings: Settings,
    options: RunOptions,
    *,
    spark_factory: Callable[[str], Any] | None = None,
    progress: ProgressFn | None = None,
) -> dict[str, Any]:
    """One full run under the lock; returns the final run record (raises on failure)."""
    storage = open_storage(settings.data_root)
    run_id = options.run_id or new_run_id()
    with RunLock(lock_path(settings.data_root), run_id):
        mark_abandoned_runs(storage, keep=run_id)
        record = RunRecord(storage, run_id, options)
        logging.getLogger("wvi").addHandler(record.tail)
        try:
            _run_steps(settings, storage, options, record, spark_factory, progress)
        except BaseException as exc:
            log.error("run %s failed: %s", run_id, exc)
            record.data["traceback"] = traceback.format_exc(limit=8)
            record.finish("failed", error=" ".join(str(exc).split()) or type(exc).__name__)
            raise
        finally:
            logging.getLogger("wvi").removeHandler(record.tail)
        record.finish("succeeded")
        return record.data


def _run_steps(
    settings: Settings,
    storage: Storage,
    options: RunOptions,
    record: RunRecord,
    spark_factory: Callable[[str], Any] | None,
    progress: ProgressFn | None,
) -> None:
    from pipeline import jobs
    from pipeline.transform.pii import check_key

    run_id = record.data["run_id"]
    load_date = options.as_of
    check_key(settings.pii, settings.pii_key_value())  # before any request, not at silver
    root, silver_db, gold_db = settings.data_root, settings.silver_db, settings.gold_db
    starting = SparkStart(spark_factory or _default_spark, root, silver_db, gold_db).start()
    try:
        _ingest_step(settings, storage, options, record, progress)
    finally:
        starting.wait()  # a failed run too: the metastore is never left half-created
    with record.running("silver") as step:
        spark = starting.session()  # a Spark that did not start fails this step
        silver = jobs.bronze_to_silver(
            spark,
            root,
            load_date,
            silver_db=silver_db,
            pii=settings.pii,
            pii_key=settings.pii_key_value(),
            catalog_ready=True,  # SparkStart prepared it
        )
        step["rows"], step["timings"] = silver["rows"], silver["timings"]
        log.info("silver rows: %s", silver["rows"])
    with record.running("gold") as step:
        gold = jobs.silver_to_gold(
            spark, root, load_date, silver_db=silver_db, gold_db=gold_db, catalog_ready=True
        )
        step["rows"], step["timings"] = gold["rows"], gold["timings"]
        log.info("gold rows: %s", gold["rows"])
    with record.running("checks") as step:
        report = jobs.run_quality_checks(
            spark,
            root,
            load_date,
            gold_db=gold_db,
            silver_db=silver_db,
            max_quarantined=settings.max_quarantined,
            catalog_ready=True,
        )
        record.data["quality"] = report.to_dict()
        step["rows"] = {"checks": len(report.checks), "warnings": len(report.warnings)}
        log.info(report.summary())
        report.raise_for_failures()
    with record.running("commit") as step:
        marks = commit_watermarks(storage, run_id)
        step["rows"] = {s: len(m) for s, m in marks.dates.items()}


class SparkStart:
    """Start the session and create the catalog's tables in a thread, while ingest runs.

    A fresh data root spends ~10 s creating the metastore (Derby) and the tables, and the
    JVM ~5 s starting; ingest mostly waits on the API meanwhile. `session()` waits for the
    thread and raises what went wrong there (a broken metastore fails the run as it would
    have at its silver step). A run whose ingest fails waits for it too, so that a process
    that exits then never cuts the creation of a metastore short.
    """

    def __init__(
        self, factory: Callable[[str], Any], data_root: str, silver_db: str, gold_db: str
    ) -> None:
        self._args = (factory, data_root, silver_db, gold_db)
        self._spark: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._start, name="wvi-spark-start", daemon=True)

    def start(self) -> SparkStart:
        self._thread.start()
        return self

    def wait(self) -> None:
        """Until the thread is done (the session started and its catalog is ready, or not)."""
        self._thread.join()

    def session(self) -> Any:
        """The session, once its catalog is ready."""
        self.wait()
        if self._error is not None:
            raise self._error
        return self._spark

    def _start(self) -> None:
        from pipeline import jobs

        factory, data_root, silver_db, gold_db = self._args
        try:
            spark = factory(data_root)
            jobs.prepare_catalog(spark, data_root, silver_db, gold_db)
            self._spark = spark
        except BaseException as exc:  # raised by session(), in the run's thread
            self._error = exc


def _ingest_step(
    settings: Settings,
    storage: Storage,
    options: RunOptions,
    record: RunRecord,
    progress: ProgressFn | None,
) -> None:
    with record.running("ingest") as step:
        result = ingest(
            settings,
            storage,
            IngestOptions(
                as_of=options.as_of,
                start_date=options.start_date,
                end_date=options.end_date,
                backfill_days=options.backfill_days,
                run_id=record.data["run_id"],
            ),
            progress=progress,
        )
        step["rows"] = {s: c.get("records", 0) for s, c in result.summary["streams"].items()}
        record.data["window"] = result.windows
        log.info("ingested %s requests", result.summary["total"].get("requests", 0))


def _default_spark(data_root: str) -> Any:
    from pipeline.spark import get_spark

    return get_spark(data_root)


def _read_record(storage: Storage, run_id: str) -> dict[str, Any] | None:
    key = run_key(run_id)
    return json.loads(storage.get(key)) if storage.exists(key) else None


def list_runs(storage: Storage, limit: int = 50) -> list[dict[str, Any]]:
    """Newest first (run ids sort by time)."""
    keys = [k for k in storage.list(RUNS) if k.endswith(".json")]
    return [json.loads(storage.get(k)) for k in sorted(keys, reverse=True)[:limit]]


def mark_abandoned_runs(storage: Storage, keep: str) -> None:
    """Runs still "running" while we hold the lock were killed: say so in their records."""
    for record in list_runs(storage, limit=1000):
        if record.get("status") == "running" and record.get("run_id") != keep:
            record.update(
                status="failed",
                error="the run ended without finishing (process killed or machine stopped)",
                finished_at=record.get("finished_at") or _now(),
            )
            storage.put(run_key(record["run_id"]), json.dumps(record, indent=1).encode())


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
