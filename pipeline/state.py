"""Watermarks: per stream and per media, the last date that a committed run covered.

A run never moves the watermarks itself: ingestion leaves its proposal in
`state/pending/<run_id>.json`, and `commit` merges it into `state/watermarks.json` only after
the later stages (silver, gold, checks) succeeded. A killed or failed run therefore leaves the
watermarks as they were, and the next run covers the same window again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from pipeline.storage import Storage

WATERMARKS = "state/watermarks.json"
EVENT_RETENTION_DAYS = 730


def pending_key(run_id: str) -> str:
    return f"state/pending/{run_id}.json"


@dataclass
class Watermarks:
    """`dates[stream][media_id]` = last complete date; `medias_bookmark` = newest `updated`."""

    dates: dict[str, dict[str, str]] = field(default_factory=dict)
    medias_bookmark: str | None = None
    run_id: str | None = None

    def get(self, stream: str, media_id: str) -> date | None:
        value = self.dates.get(stream, {}).get(media_id)
        return date.fromisoformat(value) if value else None

    def known_media_ids(self) -> set[str]:
        return {m for per_media in self.dates.values() for m in per_media}

    def merged(self, other: Watermarks) -> Watermarks:
        """Per key the later date: watermarks never move backwards."""
        dates = {s: dict(m) for s, m in self.dates.items()}
        for stream, per_media in other.dates.items():
            target = dates.setdefault(stream, {})
            for media_id, value in per_media.items():
                target[media_id] = max(value, target.get(media_id, value))
        bookmarks = [b for b in (self.medias_bookmark, other.medias_bookmark) if b]
        return Watermarks(dates, max(bookmarks) if bookmarks else None, other.run_id)

    def to_json(self) -> bytes:
        body: dict[str, Any] = {
            "version": 1,
            "run_id": self.run_id,
            "medias_bookmark": self.medias_bookmark,
            "streams": self.dates,
        }
        return json.dumps(body, indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Watermarks:
        body = json.loads(raw)
        return cls(body.get("streams", {}), body.get("medias_bookmark"), body.get("run_id"))


def load_watermarks(storage: Storage) -> Watermarks:
    return (
        Watermarks.from_json(storage.get(WATERMARKS))
        if storage.exists(WATERMARKS)
        else Watermarks()
    )


def save_pending(storage: Storage, run_id: str, proposal: Watermarks) -> str:
    key = pending_key(run_id)
    storage.put(key, proposal.to_json())
    return key


def commit_watermarks(storage: Storage, run_id: str) -> Watermarks:
    """Merge a successful run's proposal into the watermarks; the explicit commit step."""
    key = pending_key(run_id)
    if not storage.exists(key):
        raise FileNotFoundError(f"no pending watermarks for run {run_id} (was it ingested?)")
    merged = load_watermarks(storage).merged(Watermarks.from_json(storage.get(key)))
    merged.run_id = run_id
    storage.put(WATERMARKS, merged.to_json())
    storage.delete(key)
    return merged


def run_window(
    watermark: date | None,
    as_of: date,
    *,
    overlap_days: int,
    backfill_days: int,
    retention_days: int | None = None,
) -> tuple[date, date]:
    """[watermark − overlap, as_of], or the last `backfill_days` up to as_of on a first run."""
    if watermark is None:
        start = as_of - timedelta(days=backfill_days - 1)
    else:
        start = min(watermark - timedelta(days=overlap_days), as_of)
    if retention_days is not None:
        start = max(start, as_of - timedelta(days=retention_days))
    return start, as_of
