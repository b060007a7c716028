"""The local runner end to end: simulator over HTTP -> bronze -> silver -> gold -> checks.

Gold is compared with the simulator's truth exactly (floats to 1e-9); daily incremental runs
must give the gold of one run over the same window; killed runs must be repaired by the next.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from pipeline.catalog import describe_table
from pipeline.lock import RunInProgress, RunLock, lock_path
from pipeline.runner import RunOptions, SparkStart, list_runs, run_pipeline
from pipeline.simulator import SimulatorServer
from pipeline.state import WATERMARKS, load_watermarks
from pipeline.storage import LocalStorage
from tests.conftest import TODAY, settings_for, sim_config
from tests.pipeline.gold_truth import (
    assert_daily_matches_truth,
    assert_kpis_match_truth,
    gold_table,
)
from tests.spark_fixture import unique_db

pytestmark = pytest.mark.slow
AS_OF = TODAY - timedelta(days=1)


def local_settings(server, root, **overrides):
    return settings_for(
        server, root, WVI_SILVER_DB=unique_db("s"), WVI_GOLD_DB=unique_db("g"), **overrides
    )


def test_end_to_end_with_chaos_gold_equals_truth(tmp_path, spark):
    config = sim_config(medias=5, days=30, daily_plays=15, chaos="all", chaos_rate=0.05)
    with SimulatorServer(config) as server:
        # Four failing chaos kinds at 5 % fail an attempt ~19 % of the time: ten attempts (still
        # bounded) make six failures in a row on one request, seen once in CI, negligible.
        settings = local_settings(server, tmp_path, WVI_MAX_ATTEMPTS=10)
        record = run_pipeline(
            settings, RunOptions(as_of=AS_OF, backfill_days=14), spark_factory=lambda _: spark
        )
        start = AS_OF - timedelta(days=13)
        truth = server.account.truth(start, AS_OF)
        assert record["status"] == "succeeded"
        assert [s["status"] for s in record["steps"]] == ["succeeded"] * 5
        assert record["quality"]["passed"]
        assert assert_daily_matches_truth(tmp_path, truth) >= 2 * 14  # the brief media
        assert_kpis_match_truth(tmp_path, truth, server.account, start, AS_OF)
    assert load_watermarks(LocalStorage(tmp_path)).get("events", "gskhw4w4lm") == AS_OF


def test_seven_daily_runs_equal_one_run_over_the_window(tmp_path, spark):
    first_as_of = AS_OF - timedelta(days=6)
    config = sim_config(medias=3, days=25, daily_plays=10)
    daily_root, once_root = tmp_path / "daily", tmp_path / "once"
    with SimulatorServer(config) as server:
        settings = local_settings(server, daily_root)
        storage = LocalStorage(daily_root)
        for day in range(7):
            as_of = first_as_of + timedelta(days=day)
            server.set_today(as_of + timedelta(days=1))  # late events keep arriving
            run_pipeline(
                settings,
                RunOptions(as_of=as_of, backfill_days=10),
                spark_factory=lambda _: spark,
            )
            marks = load_watermarks(storage)
            assert marks.get("events", "gskhw4w4lm") == as_of  # one day per run
            assert marks.get("media_by_date", "v08dlrgr7v") == as_of
        run_pipeline(
            local_settings(server, once_root),
            RunOptions(as_of=AS_OF, backfill_days=16),
            spark_factory=lambda _: spark,
        )
        truth = server.account.truth(first_as_of - timedelta(days=9), AS_OF)
    for table, keys in {
        "fact_media_daily": ["media_id", "date"],
        "fact_media_engagement": ["media_id", "visitor_id", "date"],
        "dim_media": ["media_id"],
        "dim_visitor": ["visitor_id"],
    }.items():
        daily = gold_table(daily_root, table).sort_values(keys).reset_index(drop=True)
        once = gold_table(once_root, table).sort_values(keys).reset_index(drop=True)
        assert daily.equals(once[daily.columns]), table
    assert_daily_matches_truth(daily_root, truth)


def test_a_second_run_is_refused_while_one_holds_the_lock(tmp_path, simulator):
    settings = local_settings(simulator, tmp_path)
    with (
        RunLock(lock_path(str(tmp_path)), "other-run"),
        pytest.raises(RunInProgress, match="other-run"),
    ):
        run_pipeline(settings, RunOptions(as_of=AS_OF))


def run_in_subprocess(server, root: Path, run_id: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "WISTIA_API_BASE_URL": server.base_url,
        "WISTIA_API_TOKEN": server.config.token,
        "WVI_DATA_ROOT": str(root),
        "WVI_BACKOFF_BASE": "0.01",
    }
    cmd = [sys.executable, "-m", "pipeline", "run", "--quiet", "--run-id", run_id]
    cmd += ["--as-of", AS_OF.isoformat(), "--backfill-days", "6"]
    # Its own session so that the kill takes Spark's JVM down with it, like a crash.
    return subprocess.Popen(cmd, env=env, start_new_session=True)


def wait_for_step(root: Path, run_id: str, step: str, proc: subprocess.Popen) -> None:
    record_path = root / "runs" / f"{run_id}.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the run ended before it could be killed"
        try:
            record = json.loads(record_path.read_text())
        except (OSError, ValueError):
            record = {}
        if any(s["name"] == step and s["status"] == "running" for s in record.get("steps", [])):
            return
        time.sleep(0.05)
    raise AssertionError(f"step {step} never started")


@pytest.mark.parametrize("stage", ["ingest", "silver", "gold"])
def test_a_killed_run_is_repaired_by_the_next(tmp_path, spark, stage):
    # A slow API keeps ingest going long enough to be caught in the act.
    config = sim_config(
        medias=4, days=20, daily_plays=30, latency_ms=40 if stage == "ingest" else 0
    )
    with SimulatorServer(config) as server:
        proc = run_in_subprocess(server, tmp_path, f"killed-{stage}")
        wait_for_step(tmp_path, f"killed-{stage}", stage, proc)
        if stage != "ingest":
            time.sleep(0.5)  # into the step's Spark work
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        assert not (tmp_path / WATERMARKS).exists(), "a killed run must not move watermarks"

        record = run_pipeline(
            local_settings(server, tmp_path),
            RunOptions(as_of=AS_OF, backfill_days=6),
            spark_factory=lambda _: spark,
        )
        truth = server.account.truth(AS_OF - timedelta(days=5), AS_OF)
    assert record["status"] == "succeeded"
    assert_daily_matches_truth(tmp_path, truth)
    killed = next(r for r in list_runs(LocalStorage(tmp_path)) if r["run_id"] == f"killed-{stage}")
    assert killed["status"] == "failed" and "killed" in killed["error"]


def test_spark_starts_with_the_catalog_ready_while_ingest_runs(spark, tmp_path):
    silver_db, gold_db = unique_db("s"), unique_db("g")
    starting = SparkStart(lambda root: spark, str(tmp_path), silver_db, gold_db).start()
    assert starting.session() is spark
    for db, layer, table in ((silver_db, "silver", "events"), (gold_db, "gold", "dim_media")):
        location = describe_table(spark, db, table)["Location"]
        assert location.endswith(str(tmp_path / layer / table))


def test_a_spark_that_cannot_start_fails_the_run_when_it_needs_spark(tmp_path):
    def broken(root):
        raise RuntimeError("no Java here")

    starting = SparkStart(broken, str(tmp_path), "s", "g").start()
    with pytest.raises(RuntimeError, match="no Java here"):
        starting.session()
