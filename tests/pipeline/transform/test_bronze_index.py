"""Which Bronze parts a load date consists of: complete runs only (no Spark)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from pipeline.storage import LocalStorage
from pipeline.transform.bronze_index import complete_runs, part_refs
from tests.pipeline.transform.bronze_fixtures import BronzeBuilder

LOAD = date(2026, 5, 2)


def test_killed_and_failed_runs_are_ignored(tmp_path):
    early = BronzeBuilder(tmp_path, LOAD, "20260503T010000Z-a", datetime(2026, 5, 3, 1, tzinfo=UTC))
    early.page("events", [{"event_key": "a"}], media_id="m1")
    early.complete()
    killed = BronzeBuilder(tmp_path, LOAD, "20260503T020000Z-b")
    killed.page("events", [{"event_key": "b"}], media_id="m1")
    failed = BronzeBuilder(tmp_path, LOAD, "20260503T030000Z-c")
    failed.page("events", [{"event_key": "c"}], media_id="m1")
    failed.fail()
    other_day = BronzeBuilder(tmp_path, date(2026, 5, 3), "20260504T010000Z-d")
    other_day.page("events", [{"event_key": "d"}], media_id="m1")
    other_day.complete()

    manifests = complete_runs(LocalStorage(tmp_path), LOAD)
    assert [m["run_id"] for m in manifests] == ["20260503T010000Z-a"]


def test_part_refs_carry_media_validity_and_order(tmp_path):
    run = BronzeBuilder(tmp_path, LOAD, "20260503T010000Z-a", datetime(2026, 5, 3, 1, tzinfo=UTC))
    run.page("medias", [{"hashed_id": "m1"}])
    run.page("media_by_date", [{"date": "2026-05-01"}], media_id="m1")
    run.page("events", None, media_id="m1", raw="[{")  # truncated body, kept for quarantine
    run.complete()
    refs = part_refs(complete_runs(LocalStorage(tmp_path), LOAD))
    assert [(r.stream, r.media_id, r.valid, r.part_no) for r in refs] == [
        ("medias", None, True, 1),
        ("media_by_date", "m1", True, 1),
        ("events", "m1", False, 1),
    ]
    assert refs[0].extracted_at.startswith("2026-05-03T01:00")
    assert refs[1].run_dir == f"bronze/media_by_date/load_date={LOAD}/run_id=20260503T010000Z-a"
