"""Which Bronze parts a load date consists of, from the run manifests (no Spark).

Only runs whose manifest says `status: complete` count; a run folder without a manifest (a
killed run) or with a failed one is ignored. The run ids of a load date are found by listing
`bronze/<stream>/load_date=<day>/`, so the cost follows that day's runs, not the whole history
of manifests.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from pipeline.bronze import manifest_key
from pipeline.storage import Storage
from pipeline.transform.schemas import STREAMS

_RUN_DIR = re.compile(r"^bronze/[^/]+/load_date=[^/]+/run_id=([^/]+)/")
_PART_NO = re.compile(r"part-(\d+)\.json$")


@dataclass(frozen=True)
class PartRef:
    """One stored response body and what the manifest says about it."""

    stream: str
    part: str  # key relative to the data root
    run_id: str
    extracted_at: str  # the run's started_at (ISO-8601, UTC)
    media_id: str | None
    valid: bool
    part_no: int

    @property
    def run_dir(self) -> str:
        return self.part.rsplit("/", 1)[0]


def complete_runs(storage: Storage, load_date: date) -> list[dict[str, Any]]:
    """Manifests of the complete runs of `load_date`, oldest first."""
    run_ids: set[str] = set()
    for stream in STREAMS:
        for key in storage.list(f"bronze/{stream}/load_date={load_date.isoformat()}"):
            match = _RUN_DIR.match(key)
            if match:
                run_ids.add(match.group(1))
    manifests = []
    for run_id in sorted(run_ids):
        key = manifest_key(run_id)
        if not storage.exists(key):
            continue  # killed before it could write its manifest
        manifest = json.loads(storage.get(key))
        if manifest.get("status") == "complete" and manifest.get("load_date") == str(load_date):
            manifests.append(manifest)
    return sorted(manifests, key=lambda m: (m.get("started_at", ""), m["run_id"]))


def part_refs(manifests: list[dict[str, Any]]) -> list[PartRef]:
    """Every stored body of the given runs: valid pages and truncated/malformed ones."""
    refs = []
    for manifest in manifests:
        for entry in manifest.get("requests", []):
            part = entry.get("part")
            if not part or entry.get("stream") not in STREAMS:
                continue
            # A body that parsed (valid) is only kept if the attempt succeeded; a body that did
            # not parse is kept for the quarantine whatever the attempt's outcome.
            valid = entry.get("valid") is True
            if valid and entry.get("outcome") != "ok":
                continue
            match = _PART_NO.search(part)
            refs.append(
                PartRef(
                    stream=entry["stream"],
                    part=part,
                    run_id=manifest["run_id"],
                    extracted_at=manifest.get("started_at") or "",
                    media_id=entry.get("media_id"),
                    valid=valid,
                    part_no=int(match.group(1)) if match else 0,
                )
            )
    return refs
