"""An admin runs the real pipeline from the Admin page and follows it in the browser.

Nothing is faked between the button and the data: the Streamlit server's
`LocalPipelineControl` spawns `python -m pipeline run` (ingest from a simulator started here,
Spark silver/gold, quality checks), and the page follows the run record it writes. A
successful run takes about two minutes of local Spark, hence `slow`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.ui import NO_DATA
from pipeline.simulator import SimulatorConfig, SimulatorServer
from services import kpis
from services.control import pid_alive
from services.filters import Period
from tests.browser import harness
from tests.browser.conftest import PASSWORDS, app_env

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]  # the run outlasts pyproject's 300 s
STATUSES = ("queued", "running", "succeeded", "failed")
STEPS = ["ingest", "silver", "gold", "checks", "commit"]
RUN_TIMEOUT = 420  # seconds for a whole Spark run on a busy machine


@pytest.fixture(scope="module")
def simulator():
    config = SimulatorConfig(port=0, seed=11, medias=3, days=40, daily_plays=12)
    with SimulatorServer(config) as running:
        yield running


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("admin-flow-data")


@pytest.fixture(scope="module")
def server(simulator, data_root, users_path, tmp_path_factory):
    env = app_env(
        data_root,
        users_path,
        WISTIA_API_BASE_URL=simulator.base_url,
        WISTIA_API_TOKEN=simulator.config.token,
        WVI_BACKFILL_DAYS="7",  # a first run backfills a week, not 30 days
        WVI_MAX_ATTEMPTS="2",
        WVI_BACKOFF_BASE="0.01",
        WVI_BACKOFF_MAX="0.1",
    )
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    try:
        with harness.StreamlitServer(env, log) as running:
            yield running
    finally:
        stop_runs(data_root)


def stop_runs(data_root: Path) -> None:
    """End the run processes this module's server started (by their recorded pids)."""
    for pid_file in (data_root / "runs").glob("*.pid"):
        with contextlib.suppress(OSError, ValueError):
            pid = int(pid_file.read_text().strip())
            if pid_alive(pid):
                os.killpg(pid, signal.SIGTERM)  # the run is its own session (group) leader


@pytest.fixture
def admin(page, server):
    harness.sign_in(page, server.url(), "alice", PASSWORDS["alice"])
    harness.go_to(page, "Admin")
    return page


def run_status(page) -> str | None:
    """The status badge of the run shown on the Admin page."""
    box = page.locator(".st-key-run_status")
    if not box.count():
        return None
    with contextlib.suppress(Exception):
        words = box.inner_text(timeout=2_000).split()
        return next((w for w in words if w in STATUSES), None)
    return None


def follow(page, until: tuple[str, ...], timeout: float) -> list[str]:
    """The statuses the page shows, in order, until one of `until` (no reloads: the
    page refreshes itself)."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = run_status(page)
        if status and (not seen or seen[-1] != status):
            seen.append(status)
        if status in until:
            return seen
        page.wait_for_timeout(300)
    raise AssertionError(f"the run did not reach {until} in {timeout:.0f} s; saw {seen}")


def steps(page) -> list[tuple[str, str]]:
    """(step, status) rows of the run's steps table, once the page has settled."""
    harness.wait_idle(page)
    rows = page.locator(".st-key-t_run_steps table tbody tr")
    expect(rows).to_have_count(len(STEPS))
    return [tuple(row.locator("td, th").all_inner_texts()[:2]) for row in rows.all()]


def run_ids(data_root: Path) -> set[str]:
    return {p.stem for p in (data_root / "runs").glob("*.json")}


def start(page, data_root: Path) -> str:
    """Press Start run; the new run's id once the page shows that run."""
    before = run_ids(data_root)
    page.get_by_role("button", name="Start run").click()
    deadline = time.monotonic() + 30
    while not (new := run_ids(data_root) - before) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    [run_id] = new
    expect(page.locator(".st-key-run_status")).to_contain_text(run_id)
    return run_id


def choose(page, label: str, option: str) -> None:
    """Pick `option` in the sidebar select box `label` and wait for the rerun."""
    box = page.get_by_test_id("stSidebar").get_by_role("combobox", name=label)
    box.click()
    page.get_by_role("option", name=option, exact=True).click()
    harness.wait_idle(page)
    expect(box).to_have_value(option)


def truth_cards(simulator, period: Period) -> list[tuple[str, str]]:
    """(label, value) of the six KPI cards computed from the simulator's exact truth."""
    days = simulator.account.truth(period.start, period.end)["media_daily"]
    current = kpis.kpis_from_sums(
        sum(t["play_count"] for t in days),
        sum(t["load_count"] for t in days),
        sum(t["hours_watched"] for t in days),
        simulator.account.unique_visitors(None, period.start, period.end),
        sum(t["sum_percent_viewed"] for t in days),
        sum(t["count_percent_viewed"] for t in days),
    )
    zero = kpis.kpis_from_sums(0, 0, 0, 0, 0, 0)
    summary = kpis.KpiSummary(period, period.previous(), current, zero, kpis.deltas(current, zero))
    return [(card.label, card.value) for card in summary.cards()]


def test_a_run_goes_queued_running_succeeded_and_a_second_start_is_refused(
    admin, simulator, data_root
):
    run_id = start(admin, data_root)
    expect(admin.get_by_text(f"Run {run_id} queued.")).to_be_visible()
    first = run_status(admin)
    admin.get_by_role("button", name="Start run").click()  # while the first is active
    expect(admin.get_by_text("A run is already in progress")).to_be_visible()
    assert run_ids(data_root) == {run_id}

    seen = [first, *follow(admin, ("succeeded", "failed"), RUN_TIMEOUT)]
    seen = [s for i, s in enumerate(seen) if s and (i == 0 or seen[i - 1] != s)]
    assert seen == ["queued", "running", "succeeded"], seen
    assert steps(admin) == [(name, "succeeded") for name in STEPS]
    expect(admin.get_by_text("Quality checks passed")).to_be_visible()

    # The run cleared the query cache: the Overview shows the new data, and for the week the
    # run ingested its KPI values are those of the simulator's truth.
    harness.go_to(admin, "Overview")
    expect(admin.get_by_test_id("stMetric")).to_have_count(6)
    expect(admin.get_by_text(NO_DATA.split(" — ")[0])).to_have_count(0)
    as_of = date.fromisoformat(
        json.loads((data_root / "runs" / f"{run_id}.json").read_text())["as_of"]
    )
    choose(admin, "Date range", "Last 7 days")
    shown = [(label, value) for label, value, _ in harness.metrics(admin)]
    assert shown == truth_cards(simulator, Period.last_days(7, as_of))


def test_a_failing_run_shows_failed_with_its_error(admin, simulator, data_root):
    accepted = simulator.config.token
    simulator.config.token = "rotated-token"  # the run's token no longer works: HTTP 401
    try:
        start(admin, data_root)
        seen = follow(admin, ("failed", "succeeded"), 120)
    finally:
        simulator.config.token = accepted
    assert seen[-1] == "failed", seen
    error = admin.get_by_test_id("stAlert").filter(has_text="Error:")
    expect(error).to_contain_text("Wistia refused the API token (HTTP 401")
    assert steps(admin)[0] == ("ingest", "failed")
    log_tail = admin.get_by_test_id("stCode")  # the log tail opens by itself for a failed run
    expect(log_tail).to_contain_text("ERROR wvi.run")
