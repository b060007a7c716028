"""Pipeline benchmarks (issue 3). Reproduce with `python -m bench.pipeline_bench`.

(full)        `python -m pipeline run` over ~1 million events: the simulator (own process, seed 7,
              20 medias, 1750 daily plays, no latency, no rate limit) → 30 days ingested →
              silver → gold → checks; seconds per stage from the run record.
(incremental) the cost of a daily run after 30 days of history against the same daily run on
              an empty history. Both runs cover the same window (the new day plus the
              WVI_OVERLAP_DAYS re-read days), so the ratio shows only what the history adds.

Each run is a child process, as the CLI runs it; the stage times come from its run record and
exclude the Spark start-up. Results are printed and written to bench/out/pipeline.json; the
full run's data root is kept at bench/out/pipeline-1m (the dashboard benchmark reads it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.ingest_bench import AS_OF, OUT, start_simulator

SIMULATOR = ("--seed", "7", "--medias", "20", "--days", "40", "--daily-plays", "1750")
NO_LIMIT = ("--rate-limit", "100000000")
HISTORY_DAYS = 30
FULL_ROOT = OUT / "pipeline-1m"


def run_pipeline(base_url: str, data_root: Path, as_of: str, *flags: str) -> dict:
    """One `python -m pipeline run`; returns its run record plus the wall-clock time."""
    env = {
        **os.environ,
        "WISTIA_API_BASE_URL": base_url,
        "WISTIA_API_TOKEN": "demo-token",
        "WVI_DATA_ROOT": str(data_root),
        "WVI_RATE_LIMIT": "100000000",
    }
    run_id = f"bench-{time.time_ns()}"
    cmd = [sys.executable, "-m", "pipeline", "run", "--quiet", "--run-id", run_id]
    cmd += ["--as-of", as_of, *flags]
    started = time.perf_counter()
    subprocess.run(cmd, env=env, check=True)
    record = json.loads((data_root / "runs" / f"{run_id}.json").read_text())
    record["wall_s"] = round(time.perf_counter() - started, 1)
    return record


def stage_seconds(record: dict) -> dict[str, float]:
    return {step["name"]: round(step["seconds"], 1) for step in record["steps"]}


def events_of(record: dict) -> int:
    return int(record["steps"][0]["rows"].get("events", 0))


def bench_full(base_url: str) -> dict:
    shutil.rmtree(FULL_ROOT, ignore_errors=True)
    record = run_pipeline(
        base_url, FULL_ROOT, AS_OF.isoformat(), "--backfill-days", str(HISTORY_DAYS)
    )
    stages = stage_seconds(record)
    return {
        "events": events_of(record),
        "silver_rows": record["steps"][1]["rows"],
        "stages_s": stages,
        "silver_plus_gold_s": round(stages["silver"] + stages["gold"], 1),
        "wall_s": record["wall_s"],
    }


def bench_incremental(base_url: str, work: Path) -> dict:
    """Day `AS_OF` after 30 days of history vs the same window on an empty data root."""
    history, empty = work / "history", work / "empty"
    for root in (history, empty):
        shutil.rmtree(root, ignore_errors=True)
    day_before = (AS_OF - timedelta(days=1)).isoformat()
    run_pipeline(base_url, history, day_before, "--backfill-days", str(HISTORY_DAYS))
    daily = run_pipeline(base_url, history, AS_OF.isoformat())
    start, end = daily["window"]["events"]  # the window the incremental run actually read
    days = (datetime.fromisoformat(end) - datetime.fromisoformat(start)).days
    first = run_pipeline(base_url, empty, AS_OF.isoformat(), "--backfill-days", str(days + 1))
    with_history, without = stage_seconds(daily), stage_seconds(first)
    cost = {
        "with_history": round(with_history["silver"] + with_history["gold"], 1),
        "empty_history": round(without["silver"] + without["gold"], 1),
    }
    return {
        "window_days": days + 1,
        "events_in_window": {"with_history": events_of(daily), "empty_history": events_of(first)},
        "stages_s": {"with_history": with_history, "empty_history": without},
        "silver_plus_gold_s": cost,
        "ratio": round(cost["with_history"] / cost["empty_history"], 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["full", "incremental"], help="run one benchmark")
    parser.add_argument("--work", type=Path, default=OUT / "work", help="scratch data roots")
    args = parser.parse_args()
    results: dict[str, object] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "simulator": " ".join(SIMULATOR),
    }
    proc, url = start_simulator(*SIMULATOR, *NO_LIMIT)
    try:
        if args.only in (None, "full"):
            results["full"] = bench_full(url)
            print(json.dumps(results["full"], indent=2))
        if args.only in (None, "incremental"):
            results["incremental"] = bench_incremental(url, args.work)
            print(json.dumps(results["incremental"], indent=2))
    finally:
        proc.terminate()
        proc.wait()
    OUT.mkdir(exist_ok=True)
    (OUT / "pipeline.json").write_text(json.dumps(results, indent=2))
    shutil.rmtree(args.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
