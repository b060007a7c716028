"""The DuckDB warehouse's snapshot: its loaded tables in one DuckDB file under the data root.

Loading a million engagement rows from Parquet and deriving the dashboard's tables from them
takes ~2 s; starting from a DuckDB file takes ~70 ms. So the warehouse (`DuckDBWarehouse`
with `snapshot=True`, as the app runs it) writes what it loaded to
`<data root>/_warehouse/snapshot-<key>.duckdb` (so does `python -m pipeline run` after a
run), and the next process serving the same data root starts from it: every table whose
Parquet files are still the ones it was loaded from is read from the file, the others are
loaded as usual.

Each table is stored with its state — the signature of the files it was loaded from, or of
the tables it was derived from — so a table is taken from the snapshot only if it is what a
load would give now. `<key>` changes with the tables' definitions, the loading code and the
DuckDB version, so a snapshot written by another version of the code is never read (and is
removed by the next write). A snapshot is written to a temporary file and renamed into
place: readers see the old file or the new one, never half of one. It is a cache: deleting
it loses nothing (and is the cure for one damaged on disk).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger("wvi.services.snapshot")

FOLDER = "_warehouse"  # under the data root; `_` like `_spark`: not a table, not data
STATE_TABLE = "main._wvi_state"  # name → state text, for each table in the file
FORMAT = 1  # bump when the file's layout changes
STALE_TEMPORARY_SECONDS = 3600  # a temporary file this old belongs to a write that died


def snapshot_key(definitions: Any) -> str:
    """A short hash of `definitions` (what the tables are and how they are loaded), of this
    file's format and of the DuckDB version."""
    import duckdb

    text = json.dumps([FORMAT, duckdb.__version__, definitions], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def snapshot_path(data_root: Path, key: str) -> Path:
    """Where the snapshot of the tables defined as `key` lives under `data_root`."""
    return data_root / FOLDER / f"snapshot-{key}.duckdb"


def state_text(state: Any) -> str:
    """A table's state (a signature or a tuple of them) as the text stored beside it."""
    return json.dumps(state, separators=(",", ":"))


def write_snapshot(source: Any, path: Path, states: Mapping[str, str]) -> None:
    """Copy the tables named in `states` (`schema.table` → state text) from the DuckDB
    connection `source` into a new snapshot at `path`.

    The rows stream through Arrow into a DuckDB file opened with one thread, leaving the
    other cores to the dashboard's queries. The caller keeps the tables from changing while
    this runs.
    """
    import duckdb

    path.parent.mkdir(exist_ok=True)  # under the data root, never creating it
    temporary = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    out = duckdb.connect(str(temporary), config={"threads": 1})
    try:
        for name in states:
            out.execute(f"CREATE SCHEMA IF NOT EXISTS {name.partition('.')[0]}")
            out.register("source_rows", source.sql(f"SELECT * FROM {name}").to_arrow_reader())
            out.execute(f"CREATE TABLE {name} AS SELECT * FROM source_rows")
            out.unregister("source_rows")
        out.execute(f"CREATE TABLE {STATE_TABLE} (name VARCHAR PRIMARY KEY, state VARCHAR)")
        out.executemany(f"INSERT INTO {STATE_TABLE} VALUES (?, ?)", list(states.items()))
        out.close()
    except BaseException:
        out.close()
        _remove(temporary)
        raise
    try:
        os.replace(temporary, path)
    except OSError:
        _remove(temporary)
        raise
    _remove_others(path)


def _remove_others(path: Path) -> None:
    """Snapshots of other keys (another version of the code) and temporary files left by
    writes that died."""
    now = time.time()
    for other in path.parent.iterdir():
        if other.name.startswith("snapshot-") and other.suffix == ".duckdb" and other != path:
            _remove(other)
        elif other.name.startswith(".snapshot-") and ".tmp" in other.name:
            try:
                if now - other.stat().st_mtime > STALE_TEMPORARY_SECONDS:
                    _remove(other)
            except FileNotFoundError:
                pass


def _remove(path: Path) -> None:
    for file in (path, path.with_name(path.name + ".wal")):
        try:
            file.unlink(missing_ok=True)
        except OSError as exc:  # read-only data root and the like: only a cache
            log.warning("could not remove %s: %s", file, exc)


__all__ = [
    "FOLDER",
    "STATE_TABLE",
    "snapshot_key",
    "snapshot_path",
    "state_text",
    "write_snapshot",
]
