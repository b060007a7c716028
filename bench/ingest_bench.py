"""Ingestion benchmarks (issue 2). Reproduce with `make bench` or `python -m bench.ingest_bench`.

(a) requests/minute reached against a slow API (`--latency-ms 300 --rate-limit 600`), concurrent
    client vs a plain sequential one (concurrency 1);
(b) peak memory (max RSS) of an ingestion of ~1 million events;
(c) events ingested per second with no latency and no rate limit (same run as b).

The simulator runs in its own process so that its memory and CPU are not the client's. Results
are printed as a table and written to bench/out/ingest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

OUT = Path(__file__).parent / "out"
TODAY = date(2026, 6, 30)
AS_OF = TODAY - timedelta(days=1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_simulator(*flags: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cmd = [sys.executable, "-m", "pipeline", "simulate", "--port", str(port), "--quiet"]
    cmd += ["--today", TODAY.isoformat(), *flags]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, f"{url}/modern"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("simulator did not start")


def run_ingest(base_url: str, data_root: Path, backfill_days: int, **env: str) -> dict:
    """One `python -m pipeline ingest` as a child process; returns time, RSS and manifest."""
    shutil.rmtree(data_root, ignore_errors=True)
    environment = {
        **os.environ,
        "WISTIA_API_BASE_URL": base_url,
        "WISTIA_API_TOKEN": "demo-token",
        "WVI_DATA_ROOT": str(data_root),
        **env,
    }
    cmd = [sys.executable, "-m", "pipeline", "ingest", "--quiet", "--as-of", AS_OF.isoformat()]
    cmd += ["--backfill-days", str(backfill_days)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run(cmd, env=environment, check=True)
    elapsed = time.perf_counter() - started
    max_rss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    manifest_path = next((data_root / "bronze" / "_manifests").glob("*.json"))
    manifest = json.loads(manifest_path.read_text())
    return {
        "elapsed_s": elapsed,
        # ru_maxrss of children is the max over all waited children so far: only meaningful
        # when this run is the largest, which the order of the benchmarks below ensures.
        "max_rss_mib": max_rss_kib / 1024 if max_rss_kib > before else None,
        "manifest": manifest,
    }


def window_rates(manifest: dict, window_s: float = 60.0) -> dict:
    """Requests in 60 s windows: the maximum over any window, and the mean over windows that
    lie wholly inside the run (each starting at a request). A sliding-window limit allows a
    burst at the start, so requests/elapsed of a short run would overstate the sustained rate.
    """
    times = sorted(
        datetime.fromisoformat(e["started_at"]).timestamp() for e in manifest["requests"]
    )
    counts, full = [], []
    j = 0
    for i, start in enumerate(times):
        while j < len(times) and times[j] < start + window_s:
            j += 1
        counts.append(j - i)
        if start + window_s <= times[-1]:
            full.append(j - i)
    return {
        "requests": len(times),
        "span_s": round(times[-1] - times[0], 1),
        "max_per_60s": max(counts),
        "mean_per_60s": round(sum(full) / len(full), 1) if full else None,
    }


def bench_throughput(work: Path) -> dict:
    proc, url = start_simulator(
        "--latency-ms",
        "300",
        "--rate-limit",
        "600",
        "--medias",
        "20",
        "--days",
        "70",
        "--daily-plays",
        "110",
    )
    try:
        concurrent = run_ingest(url, work / "a-concurrent", 60, WVI_CONCURRENCY="8")
        time.sleep(61)  # let the simulator's window drain before the next client
        # The same client with one worker: the plain sequential baseline.
        sequential = run_ingest(url, work / "a-sequential", 20, WVI_CONCURRENCY="1")
        stats = json.loads(_get(url.replace("/modern", "/__sim/stats")))
    finally:
        proc.terminate()
        proc.wait()
    return {
        "limit_per_60s": 600,
        "concurrent": window_rates(concurrent["manifest"]),
        "sequential": window_rates(sequential["manifest"]),
        "server_rate_limited_429": stats["rate_limited"],
        "server_max_in_window": stats["max_in_window"],
    }


def bench_volume(work: Path) -> dict:
    proc, url = start_simulator(
        "--rate-limit", "100000000", "--medias", "20", "--days", "40", "--daily-plays", "1750"
    )
    try:
        run = run_ingest(url, work / "b-volume", 30, WVI_RATE_LIMIT="100000000")
    finally:
        proc.terminate()
        proc.wait()
    summary = run["manifest"]["summary"]["streams"]
    events = summary["events"]["records"]
    return {
        "events": events,
        "requests": run["manifest"]["summary"]["total"]["requests"],
        "elapsed_s": run["elapsed_s"],
        "events_per_s": events / run["elapsed_s"],
        "peak_rss_mib": run["max_rss_mib"],
    }


def _get(url: str) -> bytes:
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["throughput", "volume"], help="run one benchmark")
    parser.add_argument("--work", type=Path, default=OUT / "work", help="scratch data root")
    args = parser.parse_args()
    results: dict[str, object] = {"date": datetime.now(UTC).isoformat(timespec="seconds")}
    results["cpu_count"] = os.cpu_count()
    # Volume first: its ingest is the largest child, so ru_maxrss belongs to it.
    if args.only in (None, "volume"):
        results["volume"] = bench_volume(args.work)
        print(json.dumps(results["volume"], indent=2))
    if args.only in (None, "throughput"):
        results["throughput"] = bench_throughput(args.work)
        print(json.dumps(results["throughput"], indent=2))
    OUT.mkdir(exist_ok=True)
    (OUT / "ingest.json").write_text(json.dumps(results, indent=2))
    shutil.rmtree(args.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
