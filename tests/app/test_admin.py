"""The Admin page's run controls against a fake `PipelineControl` (no processes, no Spark)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app import data
from services.control import RunAlreadyActive, RunView, RunWindow, StepView
from tests.app.conftest import signed_in, texts

T0 = datetime(2026, 6, 21, 6, 0, tzinfo=UTC)
QUALITY = {
    "passed": True,
    "counts": {"checks": 2, "failed": 0, "warnings": 0},
    "checks": [
        {"name": "not_null_key", "table": "dim_media", "status": "pass", "failed": 0},
        {"name": "unique_key", "table": "dim_media", "status": "pass", "failed": 0},
    ],
}


class FakeControl:
    """One run at a time, moved along by the test."""

    def __init__(self) -> None:
        self.runs: dict[str, RunView] = {}
        self.windows: list[RunWindow | None] = []

    def start_run(self, window: RunWindow | None = None) -> str:
        active = [r for r in self.runs.values() if r.is_active]
        if active:
            raise RunAlreadyActive(f"run {active[0].run_id} is {active[0].status}")
        run_id = f"20260621T0600{len(self.runs):02d}Z-abc"
        self.windows.append(window)
        self.runs[run_id] = RunView(run_id, "queued", queued_at=T0)
        return run_id

    def get_run(self, run_id: str) -> RunView | None:
        return self.runs.get(run_id)

    def list_runs(self, n: int = 20) -> list[RunView]:
        return sorted(self.runs.values(), key=lambda r: r.run_id, reverse=True)[:n]

    def move(self, run_id: str, status: str, **fields) -> None:
        self.runs[run_id] = RunView(run_id, status, queued_at=T0, started_at=T0, **fields)


@pytest.fixture
def control(app_env, monkeypatch) -> FakeControl:
    fake = FakeControl()
    monkeypatch.setattr(data, "pipeline_control", lambda: fake)
    return fake


@pytest.fixture
def admin(control):
    at = signed_in("alice")
    return at.switch_page("app_pages/admin.py").run()


def start(at):
    return at.button(key="admin_start").click().run()


def test_an_incremental_run_is_queued_with_its_as_of_date(admin, control):
    admin.date_input(key="admin_as_of").set_value(date(2026, 6, 20)).run()
    at = start(admin)
    [run_id] = control.runs
    assert control.windows == [RunWindow(as_of=date(2026, 6, 20))]
    assert f"Run `{run_id}` queued." in texts(at.success)
    assert at.dataframe[0].value["status"].tolist() == ["queued"]
    assert "Refreshing every 2 s until the run ends." in texts(at.caption)


def test_a_backfill_window_is_passed_on(admin, control):
    admin.radio(key="admin_mode").set_value("Backfill a window").run()
    admin.date_input(key="admin_from").set_value(date(2026, 5, 1)).run()
    admin.date_input(key="admin_to").set_value(date(2026, 5, 31)).run()
    start(admin)
    assert control.windows == [RunWindow(start=date(2026, 5, 1), end=date(2026, 5, 31))]


def test_a_backwards_window_cannot_be_started(admin, control):
    admin.radio(key="admin_mode").set_value("Backfill a window").run()
    admin.date_input(key="admin_from").set_value(date(2026, 7, 1)).run()
    at = admin.date_input(key="admin_to").set_value(date(2026, 6, 30)).run()
    assert at.button(key="admin_start").disabled
    assert "The window must start on or before its last day." in texts(at.error)


def test_a_second_start_while_one_runs_is_refused_clearly(admin, control):
    start(admin)
    [run_id] = control.runs
    control.move(run_id, "running")
    at = start(admin)
    assert len(control.runs) == 1
    [warning] = texts(at.warning)
    assert "A run is already in progress" in warning and run_id in warning


def test_a_finished_run_shows_steps_quality_and_clears_the_query_cache(admin, control, monkeypatch):
    cleared = []
    monkeypatch.setattr(data, "clear_cache", lambda: cleared.append(True))
    start(admin)
    [run_id] = control.runs
    steps = [
        StepView("ingest", "succeeded", seconds=0.3, rows={"events": 12, "medias": 2}),
        StepView("silver", "succeeded", seconds=40.0, rows={"events": 12}),
    ]
    control.move(run_id, "succeeded", steps=steps, duration_seconds=41.2, quality=QUALITY)
    at = admin.run()
    assert cleared == [True]  # the other pages show the new data
    assert at.dataframe[0].value["status"].tolist() == ["succeeded"]
    steps_table = at.table[0].value
    assert steps_table["Step"].tolist() == ["ingest", "silver"]
    assert steps_table["Seconds"].tolist() == ["0.3", "40.0"]
    assert steps_table["Rows"].tolist() == ["events: 12, medias: 2", "events: 12"]
    assert "**Quality checks passed** — 2 checks, 0 failed, 0 warnings." in texts(at.success)
    assert not at.exception


def test_a_failed_run_shows_its_error_and_log(admin, control):
    start(admin)
    [run_id] = control.runs
    control.move(
        run_id,
        "failed",
        error="Wistia refused the token (401)",
        log_tail=["ERROR wvi.run: run failed: Wistia refused the token (401)"],
        steps=[StepView("ingest", "failed", seconds=0.2)],
    )
    at = admin.run()
    assert "**Error:** Wistia refused the token (401)" in texts(at.error)
    assert "Wistia refused the token (401)" in at.code[0].value
    assert at.table[0].value["Status"].tolist() == ["failed"]


def test_no_runs_yet(admin):
    assert "No runs yet. Start one above, or run `python -m pipeline run`." in texts(admin.info)
