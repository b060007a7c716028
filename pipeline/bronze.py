"""Bronze: every response body exactly as received, plus a manifest of every request.

Layout (ARCHITECTURE §6)::

    bronze/<stream>/load_date=YYYY-MM-DD/run_id=<id>/part-<n>.json
    bronze/_manifests/<run_id>.json

Parts are created exclusively and never rewritten. The manifest is written last; a run folder
without a manifest (a killed run) or with `status != "complete"` is ignored downstream, and the
next run simply pulls the window again into a new run folder.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime
from typing import Any, BinaryIO

from pipeline.storage import Storage

MANIFESTS = "bronze/_manifests"


def new_run_id(now: datetime | None = None) -> str:
    """Sortable, unique run id: UTC timestamp plus random suffix."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def part_prefix(stream: str, load_date: date, run_id: str) -> str:
    return f"bronze/{stream}/load_date={load_date.isoformat()}/run_id={run_id}"


def manifest_key(run_id: str) -> str:
    return f"{MANIFESTS}/{run_id}.json"


class BronzeRun:
    """Writes one run's parts and collects its manifest entries (thread-safe)."""

    def __init__(self, storage: Storage, run_id: str, load_date: date) -> None:
        self.storage = storage
        self.run_id = run_id
        self.load_date = load_date
        self.started_at = datetime.now(UTC)
        self._lock = threading.Lock()
        self._parts: Counter[str] = Counter()
        self.entries: list[dict[str, Any]] = []

    def open_part(self, stream: str) -> tuple[str, AbstractContextManager[BinaryIO]]:
        with self._lock:
            self._parts[stream] += 1
            number = self._parts[stream]
        key = f"{part_prefix(stream, self.load_date, self.run_id)}/part-{number:05d}.json"
        return key, self.storage.create_exclusive(key)

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.entries.append(entry)

    def summary(self) -> dict[str, Any]:
        """Requests, retries, bytes and records, per stream and in total."""
        per_stream: dict[str, Counter[str]] = {}
        for entry in self.entries:
            counts = per_stream.setdefault(entry["stream"], Counter())
            counts["requests"] += 1
            counts["retries"] += entry.get("attempt", 1) > 1
            counts[entry.get("outcome", "unknown")] += 1
            counts["bytes"] += entry.get("bytes") or 0
            if entry.get("outcome") == "ok":
                counts["records"] += entry.get("records") or 0
        total: Counter[str] = Counter()
        for counts in per_stream.values():
            total.update(counts)
        return {
            "streams": {k: dict(v) for k, v in sorted(per_stream.items())},
            "total": dict(total),
        }

    def write_manifest(self, status: str, **extra: Any) -> str:
        """Write the manifest once, at the end of the run (complete or failed)."""
        with self._lock:
            entries = sorted(self.entries, key=lambda e: e["started_at"])
        body = {
            "run_id": self.run_id,
            "load_date": self.load_date.isoformat(),
            "status": status,
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            **extra,
            "summary": self.summary(),
            "requests": entries,
        }
        key = manifest_key(self.run_id)
        with self.storage.create_exclusive(key) as handle:
            handle.write(json.dumps(body, indent=1, default=str).encode())
        return key


def read_manifests(storage: Storage, status: str | None = "complete") -> Iterator[dict[str, Any]]:
    """Manifests of earlier runs, oldest first, optionally only those with `status`."""
    for key in storage.list(MANIFESTS):
        manifest = json.loads(storage.get(key))
        if status is None or manifest.get("status") == status:
            yield manifest
