"""Rate limiting, counters, latency and every chaos switch."""

from __future__ import annotations

import json
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import requests

from pipeline.simulator import SimulatorServer

from .conftest import TODAY, fetch_all_events, session_for, small_config


def test_rate_limit_429_with_retry_after() -> None:
    with (
        SimulatorServer(small_config(rate_limit=5, rate_window_seconds=2.0)) as sim,
        session_for() as http,
    ):
        statuses = [http.get(f"{sim.base_url}/medias").status_code for _ in range(7)]
        assert statuses == [200] * 5 + [429] * 2
        limited = http.get(f"{sim.base_url}/medias")
        assert limited.status_code == 429
        assert limited.headers["Content-Type"].startswith("text/plain")
        assert limited.text == "Rate limit exceeded"
        assert 1 <= int(limited.headers["Retry-After"]) <= 2
        stats = sim.stats()
        assert stats["rate_limited"] == 3 and stats["by_status"] == {"200": 5, "429": 3}
        assert stats["requests_total"] == 8 and stats["max_in_window"] == 8


def test_rejected_requests_do_not_occupy_the_window() -> None:
    with (
        SimulatorServer(small_config(rate_limit=3, rate_window_seconds=1.0)) as sim,
        session_for() as http,
    ):
        first = [http.get(f"{sim.base_url}/medias").status_code for _ in range(10)]
        assert first.count(200) == 3
        time.sleep(1.05)  # only the 3 accepted requests held slots; they have expired now
        again = [http.get(f"{sim.base_url}/medias").status_code for _ in range(3)]
        assert again == [200, 200, 200]


def test_rate_limit_503_mode_has_no_retry_after() -> None:
    config = small_config(rate_limit=2, rate_window_seconds=5.0, rate_limit_mode="503")
    with SimulatorServer(config) as sim, session_for() as http:
        responses = [http.get(f"{sim.base_url}/medias") for _ in range(3)]
        assert [r.status_code for r in responses] == [200, 200, 503]
        assert "Retry-After" not in responses[2].headers
        assert sim.stats()["rate_limited"] == 1


def test_max_in_window_counts_arrivals_and_resets() -> None:
    with SimulatorServer(small_config(rate_window_seconds=1.0)) as sim, session_for() as http:
        for _ in range(4):
            http.get(f"{sim.base_url}/medias")
        time.sleep(1.05)
        for _ in range(2):
            http.get(f"{sim.base_url}/medias")
        stats = http.get(f"{sim.root_url}/__sim/stats").json()  # the control plane is not counted
        assert stats["max_in_window"] == 4 and stats["requests_total"] == 6
        assert requests.post(f"{sim.root_url}/__sim/reset-stats").status_code == 200
        assert sim.stats()["requests_total"] == 0 and sim.stats()["max_in_window"] == 0
        http.get(f"{sim.base_url}/medias")
        sim.reset_stats()
        assert sim.stats()["by_status"] == {}


def test_latency_overlaps_across_threads() -> None:
    with SimulatorServer(small_config(latency_ms=200)) as sim:
        started = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(lambda _: _get_status(sim.base_url + "/medias"), range(8)))
        elapsed = time.perf_counter() - started
        assert codes == [200] * 8
        assert 0.2 <= elapsed < 1.0  # 8 x 200 ms in parallel, not 1.6 s in series


def _get_status(url: str) -> int:
    return requests.get(url, headers={"Authorization": "Bearer demo-token"}).status_code


def test_error_chaos_kinds_are_each_observed() -> None:
    config = small_config(chaos=frozenset({"429", "503", "500", "truncated"}), chaos_rate=0.25)
    with SimulatorServer(config) as sim, session_for() as http:
        seen: Counter[str] = Counter()
        for _ in range(80):
            response = http.get(f"{sim.base_url}/stats/medias/gskhw4w4lm")
            seen[_classify(response)] += 1
        assert {"429", "503", "500", "truncated", "ok"} <= set(seen)
        chaos = sim.stats()["chaos"]
        assert {k: chaos[k] for k in ("429", "503", "500", "truncated")} == {
            k: seen[k] for k in ("429", "503", "500", "truncated")
        }


def _classify(response: requests.Response) -> str:
    if response.status_code == 429:
        assert response.headers["Retry-After"] == "1"
        return "429"
    if response.status_code == 503:
        assert "Retry-After" not in response.headers
        return "503"
    if response.status_code == 500:
        assert response.json() == {"error": "Internal server error"}
        return "500"
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) == len(response.content)
    try:
        json.loads(response.content)
    except ValueError:
        return "truncated"
    return "ok"


def test_slow_chaos_adds_delay() -> None:
    with SimulatorServer(small_config(chaos=frozenset({"slow"}), chaos_rate=1.0)) as sim:
        started = time.perf_counter()
        assert _get_status(f"{sim.base_url}/medias") == 200
        assert time.perf_counter() - started >= 0.3
        assert sim.stats()["chaos"] == {"slow": 1}


def test_all_means_every_kind() -> None:
    config = small_config(chaos=frozenset({"all"}))
    assert config.chaos == {"429", "503", "500", "slow", "truncated", "duplicates"}


def test_duplicates_only_add_copies_and_stay_stable() -> None:
    window = {"start_date": str(TODAY - timedelta(days=6)), "end_date": str(TODAY)}
    with (
        SimulatorServer(small_config(chaos=frozenset({"duplicates"}))) as sim,
        session_for() as http,
    ):
        pages = fetch_all_events(http, sim.base_url, **window)
        assert fetch_all_events(http, sim.base_url, **window) == pages  # same query, same list
        events = [e for p in pages for e in p]
        clean = list(sim.account.iter_events(None, TODAY - timedelta(days=6), TODAY))
        first_seen = list({e["event_key"]: e for e in events}.values())
        assert [e["event_key"] for e in first_seen] == [e["event_key"] for e in clean]
        extra = len(events) - len(clean)
        assert 0.01 * len(clean) <= extra <= 0.03 * len(clean)
        assert sim.stats()["chaos"]["duplicates"] == 2 * extra  # the list was fetched twice
        page_of: dict[str, list[int]] = {}
        for number, page in enumerate(pages):
            for event in page:
                page_of.setdefault(event["event_key"], []).append(number)
        assert any(len(set(p)) > 1 for p in page_of.values())  # some copies cross a page
        assert max(len(p) for p in page_of.values()) == 2
        # Filtered lists get their own duplicates and stay consistent too.
        media = sim.account.medias[0].hashed_id
        one = fetch_all_events(http, sim.base_url, media_id=media, **window)
        keys = [e["event_key"] for p in one for e in p]
        assert len(set(keys)) < len(keys)
