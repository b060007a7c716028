"""LocalPipelineControl with a fake `python` that plays the runner (no Spark, fast)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.bronze import new_run_id
from pipeline.lock import RunLock, lock_path
from services.control import (
    LocalPipelineControl,
    PipelineControlError,
    RunAlreadyActive,
    RunWindow,
    make_pipeline_control,
    view_from_record,
)
from tests import waiting

FAKE_RUNNER = """#!{python}
# Plays `python -m pipeline run --run-id ID ... --quiet` the way pipeline/runner.py does.
import fcntl, json, os, sys, time
from datetime import datetime, UTC
args = sys.argv[1:]
run_id = args[args.index("--run-id") + 1]
root = os.environ["WVI_DATA_ROOT"]
record_path = os.path.join(root, "runs", run_id + ".json")
mode = os.environ.get("FAKE_MODE", "succeed")
with open(os.path.join(root, "runs", run_id + ".argv.json"), "w") as f:
    json.dump(args, f)
if mode == "crash":
    print("boom: cannot import pipeline.runner", file=sys.stderr)
    sys.exit(1)
def wait(name):
    deadline = time.time() + 20
    while mode == "wait" and not os.path.exists(os.path.join(root, name)):
        if time.time() > deadline:
            sys.exit(3)
        time.sleep(0.01)
def now():
    return datetime.now(UTC).isoformat(timespec="milliseconds")
def save(record):
    tmp = record_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(record, f)
    os.replace(tmp, record_path)
wait("go")
lock = os.open(os.path.join(root, "runs", ".lock"), os.O_RDWR | os.O_CREAT)
fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
with open(record_path) as f:
    record = json.load(f)
record.update(status="running", pid=os.getpid(), started_at=now(), steps=[
    {{"name": "ingest", "status": "running", "started_at": now()}}])
save(record)
wait("release")
record["steps"][0].update(status="succeeded", finished_at=now(), seconds=0.01,
                          rows={{"events": 12, "medias": 2}})
record.update(status="succeeded", finished_at=now(), duration_seconds=0.02,
              log_tail=["ingested 3 requests"], quality={{"passed": True, "checks": []}})
save(record)
"""


@pytest.fixture
def fake_python(tmp_path) -> str:
    path = tmp_path / "fake-python"
    path.write_text(FAKE_RUNNER.format(python=sys.executable))
    path.chmod(0o755)
    return str(path)


def control_for(root: Path, python: str, mode: str) -> LocalPipelineControl:
    env = {**os.environ, "FAKE_MODE": mode}
    return LocalPipelineControl(root, python=python, env=env)


def wait_for(control: LocalPipelineControl, run_id: str, status: str, timeout: float = 15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        view = control.get_run(run_id)
        if view is not None and view.status == status:
            return view
        time.sleep(0.02)
    raise AssertionError(f"run {run_id} never became {status}: {control.get_run(run_id)}")


def test_start_queues_spawns_and_follows_the_record(tmp_path, fake_python):
    root = tmp_path / "data"
    control = control_for(root, fake_python, "wait")
    window = RunWindow(start=date(2026, 6, 1), end=date(2026, 6, 7), as_of=date(2026, 6, 8))
    run_id = control.start_run(window)

    record = json.loads((root / "runs" / f"{run_id}.json").read_text())
    assert record["status"] == "queued" and record["run_id"] == run_id
    assert record["requested_window"] == ["2026-06-01", "2026-06-07"]
    assert record["as_of"] == "2026-06-08" and record["queued_at"]
    view = control.get_run(run_id)
    assert view.status == "queued" and view.is_active
    assert view.requested_window == (date(2026, 6, 1), date(2026, 6, 7))

    with pytest.raises(RunAlreadyActive, match=run_id):
        control.start_run()

    (root / "go").touch()
    running = wait_for(control, run_id, "running")
    assert running.is_active and running.steps[0].status == "running"
    with pytest.raises(RunAlreadyActive, match="is running"):
        control.start_run()
    (root / "release").touch()
    done = wait_for(control, run_id, "succeeded")
    argv = json.loads((root / "runs" / f"{run_id}.argv.json").read_text())
    assert argv == [
        "-m",
        "pipeline",
        "run",
        "--run-id",
        run_id,
        "--as-of",
        "2026-06-08",
        "--start-date",
        "2026-06-01",
        "--end-date",
        "2026-06-07",
        "--quiet",
        "--no-snapshot",
    ]
    assert [s.name for s in done.steps] == ["ingest"]
    assert done.rows == {"ingest": {"events": 12, "medias": 2}}
    assert done.duration_seconds == 0.02 and done.quality["passed"] is True
    assert done.log_tail == ["ingested 3 requests"]
    assert done.queued_at <= done.started_at <= done.finished_at
    assert not done.is_active and done.succeeded
    # The runner writes its final record while it still holds the run lock, as the real one
    # does; a start is allowed again once the process has exited and let the lock go.
    waiting.wait_for(lambda: not RunLock.is_held(lock_path(str(root))), 15, "the release")
    second = control.start_run()
    assert [v.run_id for v in control.list_runs()] == [second, run_id]


def test_refused_while_the_runner_lock_is_held(tmp_path, fake_python):
    root = tmp_path / "data"
    control = control_for(root, fake_python, "succeed")
    with RunLock(lock_path(str(root)), "from-cron"), pytest.raises(RunAlreadyActive):
        control.start_run()
    assert control.list_runs() == []


def test_failed_spawn_shows_as_failed(tmp_path):
    root = tmp_path / "data"
    control = LocalPipelineControl(root, python=str(tmp_path / "no-such-python"))
    with pytest.raises(PipelineControlError, match="could not start"):
        control.start_run()
    (view,) = control.list_runs()
    assert view.status == "failed" and "could not start" in view.error
    assert any("could not start" in line for line in view.log_tail)
    assert control.active_run() is None


def test_process_that_dies_before_the_runner_starts_shows_as_failed(tmp_path, fake_python):
    root = tmp_path / "data"
    control = control_for(root, fake_python, "crash")
    run_id = control.start_run()
    view = wait_for(control, run_id, "failed")
    assert "before the run started" in view.error
    assert any("boom" in line for line in view.log_tail)
    assert any("boom" in line for line in view.output_tail)
    # The file still says queued (nobody rewrote it), but it no longer blocks new runs.
    assert json.loads((root / "runs" / f"{run_id}.json").read_text())["status"] == "queued"
    control_for(root, fake_python, "succeed").start_run()


def _write(root: Path, record: dict) -> None:
    (root / "runs").mkdir(parents=True, exist_ok=True)
    (root / "runs" / f"{record['run_id']}.json").write_text(json.dumps(record))


def test_list_runs_newest_first(tmp_path):
    root = tmp_path / "data"
    start = datetime(2026, 6, 1, tzinfo=UTC)
    ids = [new_run_id(start + timedelta(hours=h)) for h in range(4)]
    for run_id in ids:
        _write(root, {"run_id": run_id, "status": "succeeded", "duration_seconds": 1.5})
    (root / "runs" / "notes.txt").write_text("ignored")
    control = LocalPipelineControl(root)
    assert [v.run_id for v in control.list_runs(3)] == ids[::-1][:3]
    assert control.get_run("20990101T000000Z-ffffff") is None


def test_dead_running_and_stale_queued_records_are_failed(tmp_path):
    root = tmp_path / "data"
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    old = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    running = new_run_id(datetime(2026, 6, 1, tzinfo=UTC))
    stale = new_run_id(datetime(2026, 6, 2, tzinfo=UTC))
    fresh = new_run_id(datetime(2026, 6, 3, tzinfo=UTC))
    _write(root, {"run_id": running, "status": "running", "pid": finished.pid, "started_at": old})
    _write(root, {"run_id": stale, "status": "queued", "queued_at": old})
    control = LocalPipelineControl(root)
    assert control.get_run(running).status == "failed"
    assert "without finishing" in control.get_run(running).error
    assert control.get_run(stale).status == "failed"
    assert control.active_run() is None
    now = datetime.now(UTC).isoformat()
    _write(root, {"run_id": fresh, "status": "queued", "queued_at": now})
    assert control.active_run().run_id == fresh  # a process may be about to start it
    with pytest.raises(RunAlreadyActive):
        control.start_run()


def test_view_from_a_runner_record():
    record = {
        "run_id": "20260601T000000Z-abcdef",
        "status": "failed",
        "queued_at": "2026-06-01T00:00:00.000+00:00",
        "started_at": "2026-06-01T00:00:01.000+00:00",
        "finished_at": "2026-06-01T00:01:01.000+00:00",
        "requested_window": [None, None],
        "as_of": "2026-05-31",
        "steps": [
            {"name": "ingest", "status": "succeeded", "seconds": 3.2, "rows": {"events": 5}},
            {"name": "silver", "status": "failed", "seconds": 1.0},
            {"name": "gold", "status": "skipped"},
        ],
        "error": "silver failed",
        "log_tail": [],
    }
    view = view_from_record(record, output_tail=["Traceback ...", "RuntimeError: x"])
    assert view.duration_seconds == 60.0
    assert view.as_of == date(2026, 5, 31) and view.requested_window == (None, None)
    assert [s.status for s in view.steps] == ["succeeded", "failed", "skipped"]
    assert view.rows == {"ingest": {"events": 5}}
    assert view.log_tail == ["Traceback ...", "RuntimeError: x"]  # the record had none


def test_window_validation_and_factory(tmp_path):
    with pytest.raises(ValueError):
        RunWindow(start=date(2026, 6, 2), end=date(2026, 6, 1))
    with pytest.raises(ValueError):
        RunWindow(end=date(2026, 6, 1))
    assert RunWindow(backfill_days=10).cli_args() == ["--backfill-days", "10"]
    control = make_pipeline_control({"WVI_DATA_ROOT": str(tmp_path)})
    assert isinstance(control, LocalPipelineControl)
    with pytest.raises(PipelineControlError):
        make_pipeline_control({"WVI_ORCHESTRATOR": "glue"})


def test_command_is_what_the_cli_accepts(tmp_path):
    from pipeline.cli import build_parser

    control = LocalPipelineControl(tmp_path)
    window = RunWindow(start=date(2026, 6, 1), end=date(2026, 6, 7), as_of=date(2026, 6, 8))
    command = control.command("20260608T000000Z-abcdef", window)
    assert command[:3] == [control.python, "-m", "pipeline"]
    args = build_parser().parse_args(command[3:])
    assert (args.command, args.run_id, args.quiet) == ("run", "20260608T000000Z-abcdef", True)
    assert args.no_snapshot  # the dashboard writes its own
    assert (args.start_date, args.end_date, args.as_of) == (
        date(2026, 6, 1),
        date(2026, 6, 7),
        date(2026, 6, 8),
    )
