"""Schema drift: field names in Bronze that the pipeline does not read.

Wistia adds fields additively and the spec allows extra properties, so unknown fields never
reject a record; this only reports them. It parses a few pages per stream in plain Python
(cheap, and independent of Spark), not the whole load.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from pipeline.storage import Storage
from pipeline.transform.bronze_index import PartRef
from pipeline.transform.schemas import BRONZE_FIELDS


def unknown_fields(
    storage: Storage, refs: Sequence[PartRef], pages_per_stream: int = 10
) -> dict[str, list[str]]:
    """Top-level field names found in a sample of valid pages and unknown to the pipeline.

    The sample is spread evenly over each stream's pages (so over medias and runs).
    """
    by_stream: dict[str, list[PartRef]] = {}
    for ref in refs:
        if ref.valid:
            by_stream.setdefault(ref.stream, []).append(ref)
    found: dict[str, set[str]] = {}
    for stream, stream_refs in by_stream.items():
        step = max(1, len(stream_refs) // pages_per_stream)
        known = set(BRONZE_FIELDS[stream])
        for ref in stream_refs[::step][:pages_per_stream]:
            try:
                body = json.loads(storage.get(ref.part))
            except (OSError, ValueError):
                continue
            for record in body if isinstance(body, list) else [body]:
                if isinstance(record, dict):
                    found.setdefault(stream, set()).update(set(record) - known)
    return {stream: sorted(names) for stream, names in sorted(found.items()) if names}
