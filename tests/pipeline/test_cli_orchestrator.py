"""`trigger`, `status` and `runs` through `services.control.make_pipeline_control`.

No real pipeline runs: a scripted `PipelineControl` replaces the factory (the CLI looks it
up at call time), and the local control's read side is exercised on run records written by
hand. What is checked is the CLI's contract: exit codes, one-line errors, what is printed.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from pipeline import cli
from services import control
from services.control import RunAlreadyActive, RunView, RunWindow, StepView

STEPS = ("ingest", "bronze_to_silver", "silver_to_gold", "quality_checks")


def view(run_id: str, status: str, *, error: str | None = None, done: int = 0) -> RunView:
    """A run whose first `done` steps succeeded; the next one is running while active."""
    steps = []
    for i, name in enumerate(STEPS):
        if i < done:
            steps.append(StepView(name, "succeeded", seconds=1.5 * (i + 1), rows={"rows": 10 * i}))
        elif i == done and status in ("running", "failed"):
            steps.append(StepView(name, "running" if status == "running" else "failed"))
        else:
            steps.append(StepView(name, "pending"))
    started = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
    return RunView(
        run_id, status, started_at=started, duration_seconds=12.0, steps=steps, error=error
    )


class ScriptedControl:
    """A PipelineControl whose run goes through `script`, one status per `get_run` call."""

    def __init__(self, script: list[RunView], *, busy: str | None = None) -> None:
        self.script = list(script)
        self.busy = busy
        self.windows: list[RunWindow] = []
        self.polls = 0
        self.history: list[RunView] = []

    def start_run(self, window: RunWindow | None = None) -> str:
        if self.busy:
            raise RunAlreadyActive(self.busy)
        self.windows.append(window or RunWindow())
        return self.script[0].run_id

    def get_run(self, run_id: str) -> RunView | None:
        known = [v for v in self.script + self.history if v.run_id == run_id]
        if not known:
            return None
        self.polls += 1
        current = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        return current

    def list_runs(self, n: int = 20) -> list[RunView]:
        return (self.history + self.script[-1:])[::-1][:n]


@pytest.fixture
def use(monkeypatch):
    """Install a control as what `make_pipeline_control` returns."""

    def install(fake):
        monkeypatch.setattr(control, "make_pipeline_control", lambda env=None, **kw: fake)
        return fake

    return install


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_trigger_wait_follows_the_run_to_success(use, capsys):
    fake = use(
        ScriptedControl(
            [view("r1", "queued"), view("r1", "running", done=1), view("r1", "succeeded", done=4)]
        )
    )
    code = cli.main(["trigger", "--as-of", "2026-06-01", "--wait", "--poll-seconds", "0.01"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert fake.windows == [RunWindow(as_of=date(2026, 6, 1))]
    assert fake.polls == 3  # it polled until the run was no longer active
    assert lines(out)[0] == "r1"  # the bare run id first, for scripts
    assert "succeeded" in out and "silver_to_gold" in out  # the steps table
    assert "run r1: running (bronze_to_silver running, 1/4 steps done)" in err  # progress


def test_trigger_wait_exits_non_zero_with_one_line_when_the_run_fails(use, capsys):
    use(
        ScriptedControl(
            [
                view("r2", "running", done=2),
                view("r2", "failed", done=2, error="silver_to_gold: AnalysisException\n at x"),
            ]
        )
    )
    code = cli.main(["trigger", "--wait", "--poll-seconds", "0.01", "--quiet"])
    out, err = capsys.readouterr()
    assert code == 1
    assert lines(out) == ["r2"]
    assert lines(err) == ["error: run r2 failed: silver_to_gold: AnalysisException at x"]


def test_trigger_wait_names_the_failed_step_when_the_run_gives_no_error(use, capsys):
    use(ScriptedControl([view("r3", "failed", done=1)]))
    assert cli.main(["trigger", "--wait", "--poll-seconds", "0.01"]) == 1
    assert lines(capsys.readouterr().err)[-1] == (
        "error: run r3 failed: step bronze_to_silver failed"
    )


def test_trigger_wait_gives_up_after_the_timeout_and_says_the_run_goes_on(use, capsys):
    use(ScriptedControl([view("r4", "running")]))
    code = cli.main(
        ["trigger", "--wait", "--poll-seconds", "0.01", "--timeout", "0.0005", "--quiet"]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert len(lines(err)) == 1 and "still running" in err and "status r4" in err


def test_a_second_start_is_refused_with_one_line(use, capsys):
    fake = use(ScriptedControl([view("r5", "running")], busy="run r0 is running; wait for it"))
    code = cli.main(["trigger", "--wait"])
    out, err = capsys.readouterr()
    assert code == 3
    assert out == "" and lines(err) == ["error: not started: run r0 is running; wait for it"]
    assert fake.polls == 0


def test_trigger_without_wait_only_starts(use, capsys):
    fake = use(ScriptedControl([view("r6", "queued"), view("r6", "failed")]))
    assert cli.main(["trigger", "--start-date", "2026-05-01", "--end-date", "2026-05-03"]) == 0
    assert lines(capsys.readouterr().out) == ["r6"]
    assert fake.windows == [RunWindow(start=date(2026, 5, 1), end=date(2026, 5, 3))]
    assert fake.polls == 0


def test_an_invalid_window_is_a_configuration_error(use, capsys):
    fake = use(ScriptedControl([view("r7", "queued")]))
    assert cli.main(["trigger", "--end-date", "2026-05-03"]) == 2
    assert lines(capsys.readouterr().err) == ["error: an end date needs a start date"]
    assert fake.windows == []


def test_an_unsupported_orchestrator_is_a_configuration_error(monkeypatch, capsys):
    monkeypatch.setenv("WVI_ORCHESTRATOR", "airflow")
    assert cli.main(["runs"]) == 2
    err = capsys.readouterr().err
    assert len(lines(err)) == 1 and "WVI_ORCHESTRATOR" in err


def test_status_of_an_unknown_run_fails_with_one_line(use, capsys):
    use(ScriptedControl([view("r8", "succeeded", done=4)]))
    assert cli.main(["status", "nope"]) == 1
    assert lines(capsys.readouterr().err) == ["error: no run nope"]


def test_status_without_id_shows_the_latest_run_with_steps(use, capsys):
    fake = use(ScriptedControl([view("r9", "succeeded", done=4)]))
    fake.history = [view("r8", "failed", error="boom")]
    assert cli.main(["status"]) == 0
    out = capsys.readouterr().out
    assert "run:      r9" in out and "status:   succeeded" in out
    for name in STEPS:
        assert name in out
    assert "6.0 s" in out and "rows=30" in out  # silver_to_gold's duration and rows


def test_runs_lists_newest_first(use, capsys):
    fake = use(ScriptedControl([view("r9", "succeeded", done=4)]))
    fake.history = [view("r8", "failed", error="boom")]
    assert cli.main(["runs", "-n", "5", "--quiet"]) == 0
    assert lines(capsys.readouterr().out) == ["r9 succeeded", "r8 failed"]
    assert cli.main(["runs", "-n", "1"]) == 0
    out = capsys.readouterr().out
    assert "r9" in out and "r8" not in out


def test_status_and_runs_read_the_local_run_records(tmp_path, monkeypatch, capsys):
    """The real local control (no process started): records under <root>/runs/."""
    monkeypatch.delenv("WVI_ORCHESTRATOR", raising=False)
    runs_dir = tmp_path / "runs"
    runs_dir.mkdir()
    record = {
        "run_id": "20260601T060000-abcd",
        "status": "succeeded",
        "queued_at": "2026-06-01T06:00:00+00:00",
        "started_at": "2026-06-01T06:00:01+00:00",
        "finished_at": "2026-06-01T06:02:01+00:00",
        "as_of": "2026-05-31",
        "steps": [
            {"name": "ingest", "status": "succeeded", "seconds": 30.0, "rows": {"events": 1200}},
            {"name": "silver", "status": "succeeded", "seconds": 90.0},
        ],
    }
    (runs_dir / "20260601T060000-abcd.json").write_text(json.dumps(record))
    assert cli.main(["status", "--data-root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "20260601T060000-abcd" in out and "succeeded" in out and "events=1,200" in out
    assert "120.0 s" in out  # the run's duration from its start and end
    assert cli.main(["runs", "--data-root", str(tmp_path), "--quiet"]) == 0
    assert lines(capsys.readouterr().out) == ["20260601T060000-abcd succeeded"]
    assert cli.main(["status", "20260601T060000-zzzz", "--data-root", str(tmp_path)]) == 1
    assert "no run 20260601T060000-zzzz" in capsys.readouterr().err
