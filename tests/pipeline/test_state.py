from datetime import date

import pytest

from pipeline.state import (
    WATERMARKS,
    Watermarks,
    commit_watermarks,
    load_watermarks,
    run_window,
    save_pending,
)
from pipeline.storage import LocalStorage


def test_first_run_backfills_up_to_as_of():
    assert run_window(None, date(2026, 5, 31), overlap_days=3, backfill_days=30) == (
        date(2026, 5, 2),
        date(2026, 5, 31),
    )


def test_incremental_run_reaches_back_by_the_overlap():
    assert run_window(date(2026, 5, 30), date(2026, 5, 31), overlap_days=3, backfill_days=30) == (
        date(2026, 5, 27),
        date(2026, 5, 31),
    )


def test_retention_clamps_the_start():
    start, _ = run_window(
        None, date(2026, 5, 31), overlap_days=3, backfill_days=900, retention_days=730
    )
    assert start == date(2024, 5, 31)


def test_watermarks_never_move_backwards():
    old = Watermarks({"events": {"a": "2026-05-10", "b": "2026-05-01"}}, "2026-05-01T00:00:00")
    new = Watermarks({"events": {"a": "2026-05-08", "c": "2026-05-09"}}, "2026-04-01T00:00:00")
    merged = old.merged(new)
    assert merged.dates["events"] == {"a": "2026-05-10", "b": "2026-05-01", "c": "2026-05-09"}
    assert merged.medias_bookmark == "2026-05-01T00:00:00"


def test_commit_is_explicit(tmp_path):
    storage = LocalStorage(tmp_path)
    save_pending(storage, "run-1", Watermarks({"events": {"a": "2026-05-10"}}, None, "run-1"))
    assert not storage.exists(WATERMARKS)
    assert load_watermarks(storage).get("events", "a") is None
    commit_watermarks(storage, "run-1")
    assert load_watermarks(storage).get("events", "a") == date(2026, 5, 10)
    with pytest.raises(FileNotFoundError, match="run-1"):
        commit_watermarks(storage, "run-1")
