"""The Admin page's parts: start a run or a backfill, the run history, one run's details.

Runs go through `services.control` (`PipelineControl`), never a process or boto3 call here.
While a run is queued or running the history is a fragment that reruns itself every
`REFRESH_SECONDS`; when a run the session saw active has ended, the fragment clears the
query cache (so the other pages show the new data) and reruns the whole page once, which
re-creates the fragment without the timer.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
import streamlit as st
from botocore.exceptions import BotoCoreError, ClientError

from app import data, ui
from services.control import (
    PipelineControl,
    PipelineControlError,
    RunAlreadyActive,
    RunView,
    RunWindow,
)
from services.filters import today_utc

REFRESH_SECONDS = 2
HISTORY = 30
WATCHED_KEY = "wvi_watched_runs"  # runs this session saw queued/running
SELECTED_KEY = "admin_run"
INCREMENTAL, BACKFILL = "Incremental run", "Backfill a window"
STATUS_COLORS = {"queued": "gray", "running": "blue", "succeeded": "green", "failed": "red"}
# What a control raises when it can't talk to its orchestrator: the Glue control wraps AWS
# errors (missing credentials, throttling, no such workflow) in PipelineControlError; the
# botocore ones are here in case one slips through unwrapped.
CONTROL_ERRORS = (PipelineControlError, BotoCoreError, ClientError)


# ------------------------------------------------------------------------------ start
def start_form(control: PipelineControl) -> None:
    """Choose incremental (as of a date) or a backfill window, and start the run."""
    st.subheader("Start a run")
    mode = st.radio("What to run", [INCREMENTAL, BACKFILL], horizontal=True, key="admin_mode")
    window = _window(mode)
    if st.button("Start run", type="primary", key="admin_start", disabled=window is None):
        start(control, window)


def _window(mode: str) -> RunWindow | None:
    today = today_utc()
    yesterday = today - timedelta(days=1)
    if mode == INCREMENTAL:
        as_of = st.date_input("As of", value=yesterday, max_value=today, key="admin_as_of")
        st.caption("Covers the days since the last complete run (with a few days' overlap).")
        return RunWindow(as_of=as_of)
    left, right = st.columns(2)
    first = left.date_input("From", value=yesterday - timedelta(days=29), key="admin_from")
    last = right.date_input("To", value=yesterday, max_value=today, key="admin_to")
    if not isinstance(first, date) or not isinstance(last, date) or first > last:
        st.error("The window must start on or before its last day.")
        return None
    st.caption(
        "Re-reads every day of the window from Wistia. Watermarks move only when the window "
        "joins on to them, so a backfill never marks skipped days as done."
    )
    return RunWindow(start=first, end=last)


def start(control: PipelineControl, window: RunWindow | None) -> str | None:
    """Start a run and say what happened; the run id, or None when it was refused."""
    try:
        run_id = control.start_run(window)
    except RunAlreadyActive as exc:
        st.warning(f"**A run is already in progress** — {exc}.", icon=":material/block:")
        return None
    except (*CONTROL_ERRORS, ValueError) as exc:
        st.error(f"The run could not be started: {exc}")
        return None
    st.success(f"Run `{run_id}` queued.")
    st.session_state[SELECTED_KEY] = run_id
    return run_id


# ------------------------------------------------------------------------------ history
def history(control: PipelineControl) -> None:
    """The run history and the chosen run, refreshing itself while a run is active."""
    runs = list_runs(control)
    if runs is None:
        return
    active = any(run.is_active for run in runs)
    panel = st.fragment(_panel, run_every=REFRESH_SECONDS if active else None)
    panel(control, active)


def list_runs(control: PipelineControl) -> list[RunView] | None:
    """The latest runs, or None after saying why they can't be read (the page goes on)."""
    try:
        return control.list_runs(HISTORY)
    except CONTROL_ERRORS as exc:
        st.error(f"The run history can't be read: {exc}")
        return None


def _panel(control: PipelineControl, refreshing: bool) -> None:
    runs = list_runs(control)
    if runs is None:  # e.g. throttled during a refresh: the next tick tries again
        return
    if _note_finished(runs) or (refreshing and not any(r.is_active for r in runs)):
        st.rerun()  # the whole page: drops the timer and shows the new state everywhere
    st.subheader("Runs")
    if not runs:
        st.info("No runs yet. Start one above, or run `python -m pipeline run`.")
        return
    ui.table(history_frame(runs), "runs", column_config=RUN_COLUMNS)
    chosen = _pick(runs)
    details(chosen)


def _note_finished(runs: list[RunView]) -> bool:
    """Remember active runs; True (after clearing the query cache) when one has ended."""
    watched: set[str] = st.session_state.setdefault(WATCHED_KEY, set())
    ended = {r.run_id for r in runs if r.run_id in watched and not r.is_active}
    watched.difference_update(ended)
    watched.update(r.run_id for r in runs if r.is_active)
    if ended:
        data.clear_cache()
    return bool(ended)


def _pick(runs: list[RunView]) -> RunView:
    by_id = {r.run_id: r for r in runs}
    if st.session_state.get(SELECTED_KEY) not in by_id:
        st.session_state[SELECTED_KEY] = runs[0].run_id
    run_id = st.selectbox(
        "Run",
        list(by_id),
        key=SELECTED_KEY,
        format_func=lambda r: f"{r} · {by_id[r].status}",
    )
    return by_id[run_id]


def history_frame(runs: list[RunView]) -> pd.DataFrame:
    """One row per run: id, status, started, duration, window, error."""
    return pd.DataFrame(
        [
            {
                "run_id": r.run_id,
                "status": r.status,
                "started": _when(r.started_at or r.queued_at),
                "duration_s": r.duration_seconds,
                "window": _window_text(r),
                "error": r.error or "",
            }
            for r in runs
        ]
    )


RUN_COLUMNS: dict[str, Any] = {
    "run_id": st.column_config.TextColumn("Run"),
    "status": st.column_config.TextColumn("Status"),
    "started": st.column_config.TextColumn("Started (UTC)"),
    "duration_s": st.column_config.NumberColumn("Duration (s)", format="%.1f"),
    "window": st.column_config.TextColumn("Window"),
    "error": st.column_config.TextColumn("Error"),
    "name": st.column_config.TextColumn("Check"),
    "table": st.column_config.TextColumn("Table"),
    "level": st.column_config.TextColumn("Level"),
    "failed": st.column_config.NumberColumn("Failed rows"),
    "details": st.column_config.TextColumn("Details"),
}


# ------------------------------------------------------------------------------ one run
def details(run: RunView) -> None:
    """Status, steps, error, quality checks and log tail of one run."""
    with st.container(key="run_status", horizontal=True, vertical_alignment="center"):
        st.markdown(f"Run `{run.run_id}`")
        st.badge(run.status, color=STATUS_COLORS.get(run.status, "gray"))  # type: ignore[arg-type]
        if run.duration_seconds is not None:
            st.caption(f"{run.duration_seconds:.1f} s")
    if run.is_active:
        st.caption(f"Refreshing every {REFRESH_SECONDS} s until the run ends.")
    if run.error:
        st.error(f"**Error:** {run.error}")
    st.markdown("**Steps**")
    ui.table(
        steps_frame(run),
        "run_steps",
        empty_message="No steps yet.",
        static=True,
        file_stem=f"run_{run.run_id}_steps",
    )
    _quality(run)
    with st.expander("Log tail", expanded=run.status == "failed"):
        st.code("\n".join(run.log_tail) or "(no log yet)", language=None)


def steps_frame(run: RunView) -> pd.DataFrame:
    """One row per step: Step, Status, Seconds, Rows (display names: a plain table)."""
    return pd.DataFrame(
        [
            {
                "Step": s.name,
                "Status": s.status,
                "Seconds": "" if s.seconds is None else f"{float(s.seconds):.1f}",
                "Rows": _rows(s.rows),
            }
            for s in run.steps
        ],
        columns=["Step", "Status", "Seconds", "Rows"],
    )


def _quality(run: RunView) -> None:
    quality = run.quality
    if not quality:
        st.caption("No quality-check results for this run (yet).")
        return
    counts = quality.get("counts") or {}
    summary = (
        f"{counts.get('checks', '?')} checks, {counts.get('failed', '?')} failed, "
        f"{counts.get('warnings', '?')} warnings"
    )
    if quality.get("passed"):
        st.success(f"**Quality checks passed** — {summary}.")
    else:
        st.error(f"**Quality checks failed** — {summary}.")
    checks = pd.DataFrame(quality.get("checks") or [])
    if not checks.empty:
        checks = checks.drop(columns=[c for c in ("sample",) if c in checks.columns])
        with st.expander("Quality checks"):
            ui.table(checks, f"run_{run.run_id}_checks", column_config=RUN_COLUMNS)


# ------------------------------------------------------------------------------ formatting
def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _window_text(run: RunView) -> str:
    start, end = run.requested_window
    if start or end:
        return f"{start or '…'} – {end or '…'} (backfill)"
    return f"incremental, as of {run.as_of}" if run.as_of else "incremental"


def _rows(rows: Any) -> str:
    if isinstance(rows, dict):
        return ", ".join(f"{name}: {count}" for name, count in rows.items())
    return "" if rows is None else str(rows)


__all__ = [
    "REFRESH_SECONDS",
    "details",
    "history",
    "history_frame",
    "list_runs",
    "start",
    "start_form",
    "steps_frame",
]
