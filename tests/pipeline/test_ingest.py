"""Ingestion against the simulator over HTTP: completeness, manifests, immutability, limits."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import date, timedelta

import pytest

from pipeline.bronze import read_manifests
from pipeline.ingest import IngestOptions, ingest
from pipeline.simulator import SimulatorServer
from pipeline.state import load_watermarks
from pipeline.storage import LocalStorage
from tests.conftest import TODAY, settings_for, sim_config

AS_OF = TODAY - timedelta(days=1)


def bronze_records(storage: LocalStorage, stream: str, manifest: dict) -> list[dict]:
    """Records of every valid part of one run, as the manifest lists them."""
    records: list[dict] = []
    for entry in manifest["requests"]:
        if entry["stream"] == stream and entry.get("outcome") == "ok":
            body = json.loads(storage.get(entry["part"]))
            records.extend(body if isinstance(body, list) else [body])
    return records


def test_with_all_chaos_every_truth_record_reaches_bronze(tmp_path):
    """30 days x 20 media with every chaos switch on: nothing is lost, all is accounted for."""
    config = sim_config(
        medias=20, days=45, daily_plays=6, chaos=frozenset({"all"}), chaos_rate=0.08
    )
    with SimulatorServer(config) as server:
        settings = settings_for(server, tmp_path)
        storage = LocalStorage(tmp_path)
        result = ingest(settings, storage, IngestOptions(as_of=AS_OF, backfill_days=30))
        stats = server.stats()
        start, end = AS_OF - timedelta(days=29), AS_OF
        truth = server.account.truth(start, end)

    manifest = next(read_manifests(storage))
    assert manifest["run_id"] == result.run_id
    # Every request the simulator answered is in the manifest, retries included.
    assert len(manifest["requests"]) == stats["requests_total"]
    retries = [e for e in manifest["requests"] if e["attempt"] > 1]
    assert retries, "chaos at 8% should have forced some retries"
    assert max(e["attempt"] for e in manifest["requests"]) <= settings.max_attempts
    injected = sum(stats["chaos"].values())
    assert len(retries) <= injected + stats["rate_limited"]
    malformed = [e for e in manifest["requests"] if e.get("valid") is False]
    assert all(storage.exists(e["part"]) for e in malformed), "bad bodies are kept as received"

    events = bronze_records(storage, "events", manifest)
    keys_by_media_day: dict[tuple[str, str], set[str]] = defaultdict(set)
    for event in events:
        keys_by_media_day[(event["media_id"], event["received_at"][:10])].add(event["event_key"])
    by_date = {
        (entry["media_id"], row["date"]): row
        for entry in manifest["requests"]
        if entry["stream"] == "media_by_date" and entry.get("outcome") == "ok"
        for row in json.loads(storage.get(entry["part"]))
    }
    checked = 0
    for day in truth["media_daily"]:
        key = (day["media_id"], day["date"])
        assert len(keys_by_media_day.get(key, ())) == day["play_count"], key
        assert by_date[key]["play_count"] == day["play_count"]
        assert by_date[key]["load_count"] == day["load_count"]
        checked += day["play_count"]
    assert checked > 1000
    assert {m["hashed_id"] for m in bronze_records(storage, "medias", manifest)} >= {
        "gskhw4w4lm",
        "v08dlrgr7v",
    }
    assert len(bronze_records(storage, "media_stats", manifest)) == 20
    assert len(bronze_records(storage, "media_engagement", manifest)) == 20


def test_client_never_exceeds_the_rate_limit(tmp_path):
    config = sim_config(medias=6, days=10, daily_plays=100, rate_limit=25, rate_window_seconds=2.0)
    with SimulatorServer(config) as server:
        settings = settings_for(
            server, tmp_path, WVI_RATE_LIMIT=25, WVI_RATE_WINDOW=2.0, WVI_CONCURRENCY=8
        )
        ingest(settings, LocalStorage(tmp_path), IngestOptions(as_of=AS_OF, backfill_days=10))
        stats = server.stats()
    assert stats["requests_total"] > 60, "enough requests to need throttling"
    assert stats["rate_limited"] == 0
    assert stats["max_in_window"] <= 25


def test_rerunning_a_window_adds_a_run_and_touches_nothing_earlier(tmp_path, simulator):
    storage = LocalStorage(tmp_path)
    settings = settings_for(simulator, tmp_path)
    options = IngestOptions(as_of=AS_OF, backfill_days=7)
    first = ingest(settings, storage, options)
    before = {key: (tmp_path / key).stat().st_mtime_ns for key in storage.list("bronze")}
    contents = {key: storage.get(key) for key in before}
    second = ingest(settings, storage, options)
    assert second.run_id != first.run_id
    for key, mtime in before.items():
        assert (tmp_path / key).stat().st_mtime_ns == mtime
        assert storage.get(key) == contents[key]
    runs = Counter(
        k.split("run_id=")[1].split("/")[0] for k in storage.list("bronze") if "run_id=" in k
    )
    assert set(runs) == {first.run_id, second.run_id}
    assert runs[first.run_id] == runs[second.run_id]


def test_watermarks_move_only_on_commit_and_drive_the_next_window(tmp_path, simulator):
    storage = LocalStorage(tmp_path)
    settings = settings_for(simulator, tmp_path)
    first = ingest(
        settings, storage, IngestOptions(as_of=AS_OF - timedelta(days=2), backfill_days=5)
    )
    assert load_watermarks(storage).dates == {}
    from pipeline.state import commit_watermarks

    commit_watermarks(storage, first.run_id)
    marks = load_watermarks(storage)
    media = "gskhw4w4lm"
    assert marks.get("events", media) == AS_OF - timedelta(days=2)
    second = ingest(settings, storage, IngestOptions(as_of=AS_OF))
    # [watermark - 3 days overlap, as_of]
    assert second.windows["events"] == [
        (AS_OF - timedelta(days=5)).isoformat(),
        AS_OF.isoformat(),
    ]


def test_a_backfill_beyond_a_gap_does_not_move_the_watermark(tmp_path, simulator):
    from pipeline.state import commit_watermarks

    storage, media = LocalStorage(tmp_path), "gskhw4w4lm"
    settings = settings_for(simulator, tmp_path)
    mark = AS_OF - timedelta(days=10)
    commit_watermarks(storage, ingest(settings, storage, IngestOptions(as_of=mark)).run_id)
    assert load_watermarks(storage).get("events", media) == mark

    # Days mark+1 .. mark+4 stay uncovered: the watermark must not jump over them.
    gap = IngestOptions(as_of=AS_OF, start_date=mark + timedelta(days=5), end_date=AS_OF)
    commit_watermarks(storage, ingest(settings, storage, gap).run_id)
    assert load_watermarks(storage).get("events", media) == mark

    # A window that joins on to the watermark moves it to its end.
    joined = IngestOptions(as_of=AS_OF, start_date=mark + timedelta(days=1), end_date=AS_OF)
    commit_watermarks(storage, ingest(settings, storage, joined).run_id)
    assert load_watermarks(storage).get("events", media) == AS_OF


def test_only_the_configured_media_are_pulled(tmp_path, simulator):
    storage = LocalStorage(tmp_path)
    settings = settings_for(simulator, tmp_path, WVI_MEDIA_IDS="gskhw4w4lm")
    result = ingest(settings, storage, IngestOptions(as_of=AS_OF, backfill_days=3))
    assert result.media_ids == ["gskhw4w4lm"]
    manifest = next(read_manifests(storage))
    assert {e.get("media_id") for e in manifest["requests"] if e["stream"] != "medias"} == {
        "gskhw4w4lm"
    }


@pytest.mark.parametrize("explicit", [(date(2026, 6, 1), date(2026, 6, 3))])
def test_explicit_window_is_used_for_every_media(tmp_path, simulator, explicit):
    storage = LocalStorage(tmp_path)
    result = ingest(
        settings_for(simulator, tmp_path),
        storage,
        IngestOptions(as_of=AS_OF, start_date=explicit[0], end_date=explicit[1]),
    )
    assert result.windows["events"] == [explicit[0].isoformat(), explicit[1].isoformat()]
    assert result.windows["media_by_date"] == [explicit[0].isoformat(), explicit[1].isoformat()]
