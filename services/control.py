"""Starting pipeline runs and following them from the Admin page (ARCHITECTURE §13).

`LocalPipelineControl` starts `python -m pipeline run` as a detached background process and
reads the run records the runner keeps at `<root>/runs/<run_id>.json` (pipeline/runner.py).
Before the process starts, this module writes the record itself with status "queued"; the
runner then rewrites it (running → succeeded / failed) keeping the queued fields. The spawned
process id goes to `<run_id>.pid` and its stdout/stderr to `<run_id>.log`, so a run whose
process died before the runner took over is shown as failed, with the end of that log.

`WVI_ORCHESTRATOR=glue` selects the AWS implementation instead, `GluePipelineControl` in
services/glue_control.py (one Glue workflow run per pipeline run).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

from pipeline.bronze import new_run_id
from pipeline.lock import RunLock, lock_path

REPO_ROOT = Path(__file__).resolve().parents[1]
ACTIVE = ("queued", "running")
QUEUE_GRACE_SECONDS = 120.0  # a queued record without a known process counts as starting
TAIL_LINES = 60
SCAN_LIMIT = 50  # records looked at when searching for an active run


class PipelineControlError(RuntimeError):
    """A run could not be started."""


class RunAlreadyActive(PipelineControlError):
    """A run is queued or running; only one runs at a time (§11)."""


@dataclass(frozen=True)
class RunWindow:
    """What a run covers: the incremental default, or an explicit backfill window."""

    start: date | None = None
    end: date | None = None
    as_of: date | None = None
    backfill_days: int | None = None

    def __post_init__(self) -> None:
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"the window starts after it ends: {self.start} > {self.end}")
        if self.end and not self.start:
            raise ValueError("an end date needs a start date")
        if self.backfill_days is not None and self.backfill_days < 1:
            raise ValueError("backfill_days must be at least 1")

    def cli_args(self) -> list[str]:
        """The `python -m pipeline run` options for this window."""
        args: list[str] = []
        if self.as_of:
            args += ["--as-of", self.as_of.isoformat()]
        if self.start:
            args += ["--start-date", self.start.isoformat()]
        if self.end:
            args += ["--end-date", self.end.isoformat()]
        if self.backfill_days:
            args += ["--backfill-days", str(self.backfill_days)]
        return args


@dataclass(frozen=True)
class StepView:
    """One step of a run (ingest, silver, gold, checks, commit)."""

    name: str
    status: str
    started_at: datetime | None = None
    finished_at: datetime | None = None
    seconds: float | None = None
    rows: Any = None
    error: str | None = None


@dataclass(frozen=True)
class RunView:
    """A run as the Admin page shows it."""

    run_id: str
    status: str  # queued | running | succeeded | failed
    queued_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_seconds: float | None = None
    requested_window: tuple[date | None, date | None] = (None, None)
    as_of: date | None = None
    window: Any = None
    steps: list[StepView] = field(default_factory=list)
    rows: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    log_tail: list[str] = field(default_factory=list)
    output_tail: list[str] = field(default_factory=list)
    quality: dict[str, Any] | None = None

    @property
    def is_active(self) -> bool:
        """Queued or running."""
        return self.status in ACTIVE

    @property
    def succeeded(self) -> bool:
        """Finished without error."""
        return self.status == "succeeded"


class PipelineControl(Protocol):
    """Start runs and follow them, whatever runs them."""

    def start_run(self, window: RunWindow | None = None) -> str:
        """Start a run; raises `RunAlreadyActive` while another is queued or running."""
        ...

    def get_run(self, run_id: str) -> RunView | None:
        """One run, or None if there is no such run."""
        ...

    def list_runs(self, n: int = 20) -> list[RunView]:
        """The latest `n` runs, newest first."""
        ...


class LocalPipelineControl:
    """Runs `python -m pipeline run` in the background on this machine."""

    def __init__(
        self,
        data_root: str | os.PathLike[str],
        *,
        python: str = sys.executable,
        cwd: str | os.PathLike[str] = REPO_ROOT,
        env: Mapping[str, str] | None = None,
    ) -> None:
        root = str(data_root)
        if "://" in root:
            raise PipelineControlError(
                f"local runs need a local data root, not {root!r} (use WVI_ORCHESTRATOR=glue)"
            )
        self.root = Path(root).expanduser().resolve()
        self.runs_dir = self.root / "runs"
        self.python = python
        self.cwd = Path(cwd)
        self.env = env

    # ------------------------------------------------------------------ start
    def start_run(self, window: RunWindow | None = None) -> str:
        """Queue a run and start its process; returns the run id."""
        window = window or RunWindow()
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        with _exclusive(self.runs_dir / ".start.lock"):
            reason = self._active_reason()
            if reason:
                raise RunAlreadyActive(reason)
            run_id = new_run_id()
            record = {
                "run_id": run_id,
                "status": "queued",
                "queued_at": _now(),
                "requested_window": [_iso(window.start), _iso(window.end)],
                "as_of": _iso(window.as_of),
            }
            self._write_record(run_id, record)
            self._spawn(run_id, window, record)
        return run_id

    def command(self, run_id: str, window: RunWindow) -> list[str]:
        """The command line of a run."""
        # The dashboard that starts the run reloads the new gold and snapshots it itself.
        options = [*window.cli_args(), "--quiet", "--no-snapshot"]
        return [self.python, "-m", "pipeline", "run", "--run-id", run_id, *options]

    def _spawn(self, run_id: str, window: RunWindow, record: dict[str, Any]) -> None:
        env = dict(os.environ if self.env is None else self.env)
        env["WVI_DATA_ROOT"] = str(self.root)
        log_file = self._path(run_id, ".log")
        try:
            with open(log_file, "ab") as log:
                process = subprocess.Popen(
                    self.command(run_id, window),
                    cwd=self.cwd,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    close_fds=True,
                )
        except OSError as exc:
            message = f"could not start the run process: {exc}"
            with open(log_file, "a", encoding="utf-8") as log:
                log.write(message + "\n")
            record.update(status="failed", error=message, finished_at=_now())
            self._write_record(run_id, record)
            raise PipelineControlError(f"run {run_id}: {message}") from exc
        _write_atomic(self._path(run_id, ".pid"), str(process.pid))

    # ------------------------------------------------------------------ read
    def get_run(self, run_id: str) -> RunView | None:
        """The run's record as a view (None if unknown)."""
        record = self._read_record(run_id)
        return None if record is None else self._view(record)

    def list_runs(self, n: int = 20) -> list[RunView]:
        """The latest `n` runs, newest first (run ids sort by start time)."""
        views = []
        for run_id in self._run_ids()[:n]:
            record = self._read_record(run_id)
            if record is not None:
                views.append(self._view(record))
        # Ids of one second differ only by a random suffix: order those by queue time.
        return sorted(views, key=_newest_first, reverse=True)

    def active_run(self) -> RunView | None:
        """The run that is queued or running now, if any."""
        return next((v for v in self.list_runs(SCAN_LIMIT) if v.is_active), None)

    def _active_reason(self) -> str | None:
        active = self.active_run()
        if active is not None:
            return f"run {active.run_id} is {active.status}; wait for it to finish"
        if self._lock_held():
            return "another pipeline run is in progress; wait for it to finish"
        return None

    def _view(self, record: dict[str, Any]) -> RunView:
        record = dict(record)
        status, error = _effective_status(record, self._pid(record["run_id"]), self._lock_held)
        if status != record.get("status"):
            record.update(status=status, error=error)
        return view_from_record(record, output_tail=self._output_tail(record["run_id"]))

    def _lock_held(self) -> bool:
        return RunLock.is_held(lock_path(str(self.root)))

    def _pid(self, run_id: str) -> int | None:
        try:
            return int(self._path(run_id, ".pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def _output_tail(self, run_id: str) -> list[str]:
        return tail_lines(self._path(run_id, ".log"))

    def _run_ids(self) -> list[str]:
        if not self.runs_dir.is_dir():
            return []
        names = (p.stem for p in self.runs_dir.glob("*.json") if not p.name.startswith("."))
        return sorted(names, reverse=True)

    def _path(self, run_id: str, suffix: str) -> Path:
        if not run_id or "/" in run_id or run_id.startswith("."):
            raise ValueError(f"not a run id: {run_id!r}")
        return self.runs_dir / f"{run_id}{suffix}"

    def _read_record(self, run_id: str) -> dict[str, Any] | None:
        try:
            data = json.loads(self._path(run_id, ".json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and data.get("run_id") else None

    def _write_record(self, run_id: str, record: dict[str, Any]) -> None:
        _write_atomic(self._path(run_id, ".json"), json.dumps(record, indent=1))


def make_pipeline_control(
    env: Mapping[str, str] | None = None, *, data_root: str | None = None
) -> PipelineControl:
    """The control `WVI_ORCHESTRATOR` names: `local` (default) or `glue` (+ WVI_GLUE_WORKFLOW,
    WVI_AWS_REGION / AWS_REGION)."""
    env = os.environ if env is None else env
    kind = (env.get("WVI_ORCHESTRATOR") or "local").strip().lower()
    if kind == "local":
        return LocalPipelineControl(data_root or env.get("WVI_DATA_ROOT") or "./data")
    if kind == "glue":
        from services.glue_control import GluePipelineControl  # boto3 only when asked for

        return GluePipelineControl.from_env(env)
    raise PipelineControlError(f"WVI_ORCHESTRATOR must be local or glue, not {kind!r}")


# ---------------------------------------------------------------------- record → view
def view_from_record(record: Mapping[str, Any], output_tail: list[str] | None = None) -> RunView:
    """A run record (the runner's JSON) as a `RunView`."""
    steps = [
        StepView(
            name=str(s.get("name")),
            status=str(s.get("status", "pending")),
            started_at=_time(s.get("started_at")),
            finished_at=_time(s.get("finished_at")),
            seconds=s.get("seconds"),
            rows=s.get("rows"),
        )
        for s in record.get("steps") or []
    ]
    window = record.get("requested_window") or [None, None]
    log_tail = list(record.get("log_tail") or [])
    return RunView(
        run_id=str(record["run_id"]),
        status=str(record.get("status", "unknown")),
        queued_at=_time(record.get("queued_at")),
        started_at=_time(record.get("started_at")),
        finished_at=_time(record.get("finished_at")),
        duration_seconds=_duration(record),
        requested_window=(_day(window[0]), _day(window[1] if len(window) > 1 else None)),
        as_of=_day(record.get("as_of")),
        window=record.get("window"),
        steps=steps,
        rows={s.name: s.rows for s in steps if s.rows is not None},
        error=record.get("error"),
        log_tail=log_tail or list(output_tail or []),
        output_tail=list(output_tail or []),
        quality=record.get("quality"),
    )


def _newest_first(view: RunView) -> tuple[str, datetime]:
    moment = view.queued_at or view.started_at or datetime.min.replace(tzinfo=UTC)
    return view.run_id.split("-", 1)[0], moment


def _effective_status(
    record: Mapping[str, Any], pid: int | None, lock_held: Callable[[], bool]
) -> tuple[str, str | None]:
    """The record's status, corrected for a process that is gone.

    A queued run is dead once its spawned process has exited (or, with no known process,
    after a grace period); a running run is dead once its runner process is gone or the
    runner's lock is free (the runner holds it from before "running" until after the end).
    """
    status, error = str(record.get("status")), record.get("error")
    if status == "queued":
        if pid is not None and not pid_alive(pid):
            return "failed", "the run process exited before the run started (see its log)"
        queued = _time(record.get("queued_at"))
        age = (datetime.now(UTC) - queued).total_seconds() if queued else None
        if pid is None and (age is None or age > QUEUE_GRACE_SECONDS):
            return "failed", "the run never started"
    if status == "running":
        runner_pid = record.get("pid")
        gone = isinstance(runner_pid, int) and not pid_alive(runner_pid)
        if gone or not lock_held():
            return "failed", "the run ended without finishing (process killed or machine stopped)"
    return status, error


def pid_alive(pid: int) -> bool:
    """True while process `pid` runs (a finished child of ours is reaped, not a zombie)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        pass  # not our child
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[:1] == ["Z"]


def tail_lines(path: Path, lines: int = TAIL_LINES, max_bytes: int = 64_000) -> list[str]:
    """The last `lines` lines of a text file (empty if it does not exist)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - max_bytes))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if line.strip()][-lines:]


def _duration(record: Mapping[str, Any]) -> float | None:
    if record.get("duration_seconds") is not None:
        return float(record["duration_seconds"])
    started = _time(record.get("started_at"))
    if started is None:
        return None
    finished = _time(record.get("finished_at")) or datetime.now(UTC)
    return round((finished - started).total_seconds(), 3)


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Serialize check-and-start between sessions and processes (a blocking flock)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


__all__ = [
    "LocalPipelineControl",
    "PipelineControl",
    "PipelineControlError",
    "RunAlreadyActive",
    "RunView",
    "RunWindow",
    "StepView",
    "make_pipeline_control",
    "pid_alive",
    "tail_lines",
    "view_from_record",
]
