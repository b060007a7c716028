"""Dashboard benchmarks (issue 4). Reproduce with `python -m bench.app_bench` after
`python -m bench.pipeline_bench --only full` (it reads that run's gold: ~1 million events).

(queries) server-side time of each page's warehouse calls, as the page makes them on a cold
          cache (DuckDB over the gold Parquet, no Streamlit cache), `--repeat` times each:
          p50 and p95 per page; then the same on the tables as a restarted dashboard serves
          them, from the warehouse's snapshot file.
(render)  time from the click on "Sign in" until the Overview is fully drawn in Debian's
          Chromium (KPI cards shown, the script idle, no skeletons left, the charts drawn).
          The first sign-in after a server start meets empty query caches: measured
          `--starts` times without the warehouse's snapshot (after an upgrade, or with
          `_warehouse/` deleted: the server loads the tables from Parquet before it answers)
          and as many with it (a restart, or a start after `pipeline run`), with each start's
          time until the server answered. The later ones are served from the TTL cache,
          each in a fresh browser (a new context: nothing cached), then in a returning
          browser (one context whose cookies are cleared before each sign-in: the app's files
          come from its HTTP cache). The sign-in is clicked as soon as the form is filled in.

Results are printed and written to bench/out/app.json.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bench.ingest_bench import OUT
from bench.pipeline_bench import FULL_ROOT
from services import kpis, queries
from services import snapshot as snapshots
from services.filters import Period
from services.warehouse import DuckDBWarehouse, Warehouse, save_snapshot
from tests.waiting import wait_for

if TYPE_CHECKING:
    from playwright.sync_api import Page

Calls = list[Callable[[Warehouse], object]]


def page_calls(warehouse: Warehouse) -> dict[str, Calls]:
    """What each page asks the warehouse for with the default filters (last 30 days)."""
    _, last = queries.data_range(warehouse)
    period = Period(last - timedelta(days=29), last)
    media_id = str(queries.media_list(warehouse)["media_id"].iloc[0])
    sidebar: Calls = [queries.data_range, queries.media_list, queries.channel_list]
    return {
        "Overview": [
            *sidebar,
            lambda w: kpis.kpi_summary(w, period, None, None),
            lambda w: queries.media_breakdown(w, period, None),
            lambda w: queries.daily_trend(w, period, None, None),
        ],
        "Channels": [
            *sidebar,
            lambda w: kpis.channel_comparison(w, period, ("Facebook", "YouTube", "Other")),
        ],
        "Trends": [*sidebar, lambda w: queries.weekly_trend(w, period, None, None)],
        "Media": [
            *sidebar,
            lambda w: queries.latest_media_summary(w, media_id),
            lambda w: queries.media_daily(w, media_id, period),
            lambda w: queries.retention_curve(w, media_id, period),
            lambda w: queries.top_countries(w, period, media_id),
            lambda w: queries.devices(w, period, media_id),
        ],
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench_queries(data_root: Path, repeat: int, *, restarted: bool = False) -> dict:
    """Each page's calls on the tables loaded from Parquet, or (`restarted`) as a restarted
    dashboard serves them: from the warehouse's snapshot file."""
    if restarted:
        save_snapshot(data_root)
        warehouse = DuckDBWarehouse(str(data_root), snapshot=True, write_snapshots=False)
        assert not warehouse.snapshot_outdated, "every table should come from the snapshot"
    else:
        warehouse = DuckDBWarehouse(str(data_root))
    result = {}
    for page, calls in page_calls(warehouse).items():
        for call in calls:  # warm-up: file metadata, DuckDB's own caches
            call(warehouse)
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            for call in calls:
                call(warehouse)
            times.append((time.perf_counter() - started) * 1000)
        result[page] = {
            "queries": len(calls),
            "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(percentile(times, 0.95), 1),
        }
    warehouse.close()
    return result


def overview_drawn(page) -> bool:
    """KPI cards present, script idle, no skeleton, every chart drawn."""
    return bool(
        page.evaluate(
            """() => {
            const app = document.querySelector("[data-testid='stApp']");
            if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
            if (document.querySelectorAll("[data-testid='stMetric']").length < 4) return false;
            if (document.querySelector("[data-testid='stSkeleton']")) return false;
            const charts = document.querySelectorAll("[data-testid='stVegaLiteChart']");
            if (charts.length === 0) return false;
            return [...charts].every(c => c.querySelector('.marks'));
        }"""
        )
    )


def timed_sign_in(page: Page, url: str, password: str) -> int:
    """Open `url`, sign in as the bench user: ms from the click until the Overview is drawn."""
    from tests.browser import harness

    harness.open_url(page, url)
    harness.fill_login(page, "bench", password)
    started = time.perf_counter()
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_timeout(50)  # let the click's rerun begin
    while not overview_drawn(page):
        page.wait_for_timeout(20)
    return round((time.perf_counter() - started) * 1000)


def first_sign_ins(starts: int, env: dict, tmp: Path, password: str) -> tuple[list, list]:
    """The first sign-in after each of `starts` server starts, each in a fresh browser; and
    each start's time until the server answered (it loads the data first: Home.py)."""
    from tests.browser import harness

    times, ready = [], []
    with harness.chromium() as browser:
        for _ in range(starts):
            server = harness.StreamlitServer(env, tmp / "server.log")
            started = time.perf_counter()
            with server:
                ready.append(round((time.perf_counter() - started) * 1000))
                context, page = harness.new_page(browser)
                times.append(timed_sign_in(page, server.url(), password))
                context.close()
    return times, ready


def bench_render(data_root: Path, logins: int, starts: int) -> dict:
    """Sign-ins after a server start, without and with the warehouse's snapshot; then, on
    one server, sign-ins in a fresh browser (a new context each: nothing cached) and in a
    returning one (one context, its cookies cleared before each sign-in, so the login form
    shows but the HTTP cache keeps the app's files)."""
    from services.users import add_user
    from tests.browser import harness

    snapshot_folder = data_root / snapshots.FOLDER
    with tempfile.TemporaryDirectory() as tmp:
        users_file, password = Path(tmp) / "users.yaml", secrets.token_urlsafe(12)
        add_user(users_file, "bench", "viewer", "Bench Viewer", password)
        env = harness.app_environment(data_root, users_file, secrets.token_urlsafe(48))
        cold, cold_ready = [], []
        for _ in range(starts):  # as after an upgrade, or with `_warehouse/` deleted
            shutil.rmtree(snapshot_folder, ignore_errors=True)
            times, ready = first_sign_ins(1, env, Path(tmp), password)
            cold, cold_ready = cold + times, cold_ready + ready
        # As a previous server (or `python -m pipeline run`) leaves it: the servers above
        # were stopped before their writers' quiet period was over.
        save_snapshot(data_root)
        restarted, restarted_ready = first_sign_ins(starts, env, Path(tmp), password)
        fresh, returning = [], []
        server = harness.StreamlitServer(env, Path(tmp) / "server.log")
        with server, harness.chromium() as browser:
            for _ in range(logins + 1):  # the first is one more first sign-in: not counted
                context, page = harness.new_page(browser)
                fresh.append(timed_sign_in(page, server.url(), password))
                context.close()
            context, page = harness.new_page(browser)
            for _ in range(logins + 1):  # the first fills the context's cache: not counted
                context.clear_cookies()
                returning.append(timed_sign_in(page, server.url(), password))
                # The sign-in's cookie is written after the Overview is drawn: once it is
                # there, clearing it signs the next round out (before, the write could land
                # after the clearing and the next round find the dashboard signed in).
                wait_for(lambda: harness.auth_cookie(context), 30, "the login cookie")
            context.close()
    later, cached = fresh[1:], returning[1:]
    return {
        "first_after_start_without_snapshot_ms": cold,
        "start_until_answering_without_snapshot_ms": cold_ready,
        "first_after_start_with_snapshot_ms": restarted,
        "start_until_answering_with_snapshot_ms": restarted_ready,
        "later_logins_p50_ms": round(statistics.median(later)) if later else None,
        "later_logins_max_ms": max(later) if later else None,
        "returning_browser_p50_ms": round(statistics.median(cached)) if cached else None,
        "returning_browser_max_ms": max(cached) if cached else None,
        "logins": logins,
        "fresh_ms": later,
        "returning_ms": cached,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-root", type=Path, default=FULL_ROOT)
    parser.add_argument("--repeat", type=int, default=50, help="timed rounds per page")
    parser.add_argument("--logins", type=int, default=8, help="timed sign-ins per kind")
    parser.add_argument("--starts", type=int, default=3, help="server starts per kind")
    args = parser.parse_args()
    if not (args.data_root / "gold").is_dir():
        parser.error(f"no gold under {args.data_root}: run python -m bench.pipeline_bench first")
    results: dict[str, object] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "data_root": str(args.data_root),
    }
    results["queries"] = bench_queries(args.data_root, args.repeat)
    print(json.dumps(results["queries"], indent=2))
    results["queries_after_restart"] = bench_queries(args.data_root, args.repeat, restarted=True)
    print(json.dumps(results["queries_after_restart"], indent=2))
    results["render"] = bench_render(args.data_root, args.logins, args.starts)
    print(json.dumps(results["render"], indent=2))
    OUT.mkdir(exist_ok=True)
    (OUT / "app.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
