"""The query layer (ARCHITECTURE §12): one `Warehouse.query(sql, params)` over DuckDB or Athena.

The dashboard's SQL (all in `services.queries`) names tables `gold.<table>` and
`silver.<table>` and takes `?` parameters. `DuckDBWarehouse` serves those names as in-memory
tables loaded from the Parquet files under the data root; `AthenaWarehouse` rewrites the
schema qualifiers to the Glue databases. Both engines bind the values themselves — DuckDB as
prepared-statement parameters, Athena as `ExecutionParameters` — so user input never becomes
SQL text: a value can only ever be one literal, it never changes the statement's structure.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import math
import numbers
import os
import threading
import time
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from services import snapshot as snapshots

log = logging.getLogger("wvi.services.warehouse")

# Columns (and DuckDB types) of each table: ARCHITECTURE §8, plus the one Silver table the
# dashboard reads. A column missing from the files reads as NULL; extra columns are ignored.
GOLD_TABLES: dict[str, dict[str, str]] = {
    "dim_media": {
        "media_id": "VARCHAR",
        "title": "VARCHAR",
        "url": "VARCHAR",
        "channel": "VARCHAR",
        "created_at": "TIMESTAMP",
        "duration_seconds": "DOUBLE",
        "folder_name": "VARCHAR",
    },
    "dim_visitor": {
        "visitor_id": "VARCHAR",
        "ip_address": "VARCHAR",
        "country": "VARCHAR",
        "region": "VARCHAR",
        "city": "VARCHAR",
        "browser": "VARCHAR",
        "platform": "VARCHAR",
        "is_mobile": "BOOLEAN",
        "first_seen_at": "TIMESTAMP",
        "last_seen_at": "TIMESTAMP",
    },
    "fact_media_engagement": {
        "media_id": "VARCHAR",
        "visitor_id": "VARCHAR",
        "date": "DATE",
        "play_count": "BIGINT",
        "total_watch_time_seconds": "DOUBLE",
        "watched_percent": "DOUBLE",
        "max_watched_percent": "DOUBLE",
    },
    "fact_media_daily": {
        "media_id": "VARCHAR",
        "date": "DATE",
        "channel": "VARCHAR",
        "load_count": "BIGINT",
        "play_count": "BIGINT",
        "play_rate": "DOUBLE",
        "hours_watched": "DOUBLE",
        "unique_visitors": "BIGINT",
        "avg_engagement": "DOUBLE",
    },
    "media_metrics_summary": {
        "media_id": "VARCHAR",
        "media_name": "VARCHAR",
        "load_date": "DATE",
        "total_plays": "BIGINT",
        "total_loads": "BIGINT",
        "total_visitors": "BIGINT",
        "play_rate": "DOUBLE",
        "engagement": "DOUBLE",
    },
}
SILVER_TABLES: dict[str, dict[str, str]] = {
    "media_engagement": {
        "media_id": "VARCHAR",
        "engagement": "DOUBLE",
        "engagement_data": "BIGINT[]",
        "rewatch_data": "BIGINT[]",
        "load_date": "DATE",
    },
}
SCHEMAS: dict[str, dict[str, dict[str, str]]] = {"gold": GOLD_TABLES, "silver": SILVER_TABLES}

# Tables the DuckDB side derives from loaded ones, rebuilt whenever one of those reloads, so
# that the dashboard's heaviest work — COUNT(DISTINCT visitor_id) over every engagement row
# of a period — is done once per reload instead of on every query (services.queries, the
# first-visits family: ~1 s per million engagement rows to build, then queries read a few
# thousand rows); and the audience rows joined to dim_visitor once.
#
# The trick that keeps the distinct count exact for any span of days [s, e]: give each
# engagement row the visitor's previous active day ("since"); a visitor is in the span
# exactly once, on its first row there, the one whose previous active day is before s (or
# has none). Rows of a visitor are ordered by (date, media_id), so the second and later rows of
# one visitor-day have that same day as their previous one and never count. The previous day
# depends on what the count is restricted to, so there are three levels: with the same media,
# in the same channel, or in any media.
LOAD_TIMEOUT_SECONDS = 300  # a query waits this long for a first load in the background
WATCH_MIN_SECONDS = 0.1  # the watching thread's shortest pause, whatever max_age_seconds is
SNAPSHOT = "snapshot"  # the attached snapshot's catalog name (services.snapshot)
SNAPSHOT_QUIET_SECONDS = 10.0  # tables unchanged this long before a snapshot is written
ENGAGEMENT_AUDIENCE = "gold.engagement_audience"
ENGAGEMENT_DAILY = "gold.engagement_daily"
FIRST_VISITS = "gold.first_visits"
# One channel per media (dim_media has one row per media; if not, the greatest channel). A
# media without a row has none (NULL): in the totals, in no channel's figures.
MEDIA_CHANNEL = "(SELECT media_id, MAX(channel) AS channel FROM gold.dim_media GROUP BY media_id)"
_ENGAGEMENT_WITH_CHANNEL = f"""SELECT f.media_id, f.visitor_id, f.date, f.play_count,
        f.watched_percent, m.channel
    FROM gold.fact_media_engagement f LEFT JOIN {MEDIA_CHANNEL} m ON m.media_id = f.media_id"""
DERIVED_TABLES: dict[str, tuple[tuple[str, ...], str]] = {
    # Grain: media × visitor × date (fact_media_engagement's rows) with the media's channel and
    # the visitor's attributes, in media order: the Media page's audience queries (one media)
    # read a few row groups without joining dim_visitor (~13 ms instead of ~35 ms each).
    ENGAGEMENT_AUDIENCE: (
        ("gold.fact_media_engagement", "gold.dim_media", "gold.dim_visitor"),
        f"""SELECT f.media_id, m.channel, f.date, f.visitor_id, f.play_count,
            v.country, v.is_mobile, v.platform, v.browser
        FROM gold.fact_media_engagement f
        LEFT JOIN {MEDIA_CHANNEL} m ON m.media_id = f.media_id
        LEFT JOIN gold.dim_visitor v ON v.visitor_id = f.visitor_id
        ORDER BY f.media_id, f.date""",
    ),
    # Grain: media × date. fact_media_engagement's sums for the Engagement KPI (§9).
    ENGAGEMENT_DAILY: (
        ("gold.fact_media_engagement", "gold.dim_media"),
        f"""SELECT e.media_id, e.channel, e.date,
            SUM(e.watched_percent * e.play_count) AS watched_weighted,
            CAST(SUM(e.play_count) AS BIGINT) AS engaged_plays
        FROM ({_ENGAGEMENT_WITH_CHANNEL}) e GROUP BY e.media_id, e.channel, e.date""",
    ),
    # Grain: level × (media | channel | nothing) × date × since: how many visitors were active
    # on `date` (with that media / in that channel / at all) after last being so on `since`
    # (NULL: never before). Level 'media' rows carry media_id and its channel, 'channel' rows
    # the channel, 'visitor' rows neither. Rows without a visitor_id are no visitor, as for
    # COUNT(DISTINCT).
    FIRST_VISITS: (
        ("gold.fact_media_engagement", "gold.dim_media"),
        f"""WITH e AS ({_ENGAGEMENT_WITH_CHANNEL} WHERE f.visitor_id IS NOT NULL),
        r AS (
            SELECT e.media_id, e.channel, e.date,
              lag(e.date) OVER (PARTITION BY e.visitor_id, e.media_id ORDER BY e.date)
                AS since_media,
              lag(e.date) OVER (PARTITION BY e.visitor_id, e.channel
                                ORDER BY e.date, e.media_id) AS since_channel,
              lag(e.date) OVER (PARTITION BY e.visitor_id ORDER BY e.date, e.media_id)
                AS since_visitor
            FROM e
        )
        SELECT 'media' AS level, media_id, channel, date, since_media AS since,
               COUNT(*) AS visitors
        FROM r GROUP BY media_id, channel, date, since_media
        UNION ALL
        SELECT 'channel', CAST(NULL AS VARCHAR), channel, date, since_channel, COUNT(*)
        FROM r GROUP BY channel, date, since_channel
        UNION ALL
        SELECT 'visitor', CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), date, since_visitor,
               COUNT(*)
        FROM r GROUP BY date, since_visitor""",
    ),
}


class WarehouseError(RuntimeError):
    """The warehouse could not be configured or a query failed."""


class Warehouse(Protocol):
    """What the dashboard needs from a SQL engine."""

    def query(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        """Run one statement with positional `?` parameters and return its rows."""
        ...

    def refresh(self) -> None:
        """Make data written since the last call visible (a no-op where it always is)."""
        ...


# ------------------------------------------------------------------------------------ DuckDB
# A table's files as loaded: sorted (path relative to the table folder, size, mtime_ns).
Signature = tuple[tuple[str, int, int], ...]


class DuckDBWarehouse:
    """An in-memory DuckDB database with tables `gold.<table>` / `silver.<table>` loaded from
    the Parquet files under the data root.

    Each table is read from `<root>/<schema>/<table>/[<key>=<value>/...]*.parquet` (the
    partition values come from the folder names, Hive style) into an in-memory table with the
    documented columns and types; a table without files is an empty table with those columns.
    Why tables, not views over `read_parquet`: a view re-lists, re-reads and re-casts every
    file on every query (a million events on 2 cores: the Media page's eight queries took
    ~270 ms over views, ~110 ms over loaded tables).

    It also builds the `DERIVED_TABLES` from the loaded ones (`derived_tables` names them, so
    `services.queries` knows it may use them): the Overview's distinct-visitor counts took
    ~500 ms over the loaded engagement rows, ~35 ms over the derived tables.

    With `snapshot=True` (the app) it starts from the snapshot that an earlier process left
    under the data root (`services.snapshot`) and, with `write_snapshots`, writes one in the
    background once the tables have stopped changing for `SNAPSHOT_QUIET_SECONDS` after a
    load: a restart then serves the tables in ~70 ms instead of loading them (~2 s for a
    million engagement rows). Tables whose files changed since the snapshot are loaded as
    usual.

    `refresh()` (also run by a query when the last one is older than `max_age_seconds`, and
    after `watch()` by a thread that often) reloads only the tables whose files changed — new,
    rewritten or removed files, compared by `table_signature` — so between refreshes queries
    see the data as last loaded. Neither a query nor the thread refreshes while a local
    pipeline run holds the data root's run lock: its gold may be half rewritten, so queries
    see the data as it was before the run until it is over (or `refresh()` is called). Each
    query runs on its own cursor, so sessions in different threads can query at once, also
    while a refresh reloads a table (they see the old rows until the new ones are in).
    """

    def __init__(
        self,
        data_root: str | os.PathLike[str],
        *,
        max_age_seconds: float = 30.0,
        load_in_background: bool = False,
        snapshot: bool = False,
        write_snapshots: bool = True,
    ):
        """`load_in_background`: return at once and load the tables in a thread; queries
        wait for that first load (the app starts it when the server starts: Home.py).
        `snapshot`: start from the snapshot under the data root and keep it up to date
        (`write_snapshots`; else only `save_snapshot()` writes it)."""
        import duckdb

        root = str(data_root)
        if "://" in root:
            raise WarehouseError(
                f"the DuckDB warehouse reads a local data root, not {root!r}; "
                "set WVI_WAREHOUSE=athena for data on S3"
            )
        self.root = Path(root).expanduser().resolve()
        self.max_age_seconds = max_age_seconds
        self._con = duckdb.connect(":memory:")
        # Spark writes UTC instants; read them as UTC wall time, whatever the machine's zone.
        self._con.execute("SET GLOBAL TimeZone = 'UTC'")
        self._cursor_lock = threading.Lock()  # the connection itself is not thread-safe
        self._refresh_lock = threading.Lock()  # one refresh at a time
        self._refreshed_at = -math.inf
        self.sources: dict[str, str | None] = {}
        self.signatures: dict[str, Signature] = {}
        self._derived_from: dict[str, tuple[Signature, ...]] = {}
        self.derived_tables: set[str] = set()  # built from the tables as they are loaded now
        self.snapshot_path = (
            snapshots.snapshot_path(self.root, snapshots.snapshot_key(_definitions()))
            if snapshot
            else None
        )
        self.write_snapshots = write_snapshots
        self.snapshot_outdated = False  # tables changed since the snapshot was read or written
        self.snapshot_error: str | None = None  # why the last background write failed
        self._snapshot_views: set[str] = set()  # tables served from the attached snapshot
        self._snapshot_attached = False
        self._snapshot_checked = False
        self._snapshot_lock = threading.Lock()
        self._changed_at = -math.inf
        self._snapshot_writer: threading.Thread | None = None
        self._closed = False
        self._stop_watching = threading.Event()
        self._watcher: threading.Thread | None = None
        self.load_error: str | None = None  # why a first load in the background failed
        self._loaded = threading.Event()
        if load_in_background:
            threading.Thread(
                target=self._first_load, name="wvi-warehouse-load", daemon=True
            ).start()
        else:
            self.refresh()
            self._loaded.set()

    def watch(self) -> None:
        """Refresh in a thread every `max_age_seconds` as well, so that gold a run wrote is
        loaded before anyone asks for it (the app's server, from its start to its end:
        `stop_watching`)."""
        if self._watcher is None and not self._stop_watching.is_set():
            self._watcher = threading.Thread(
                target=self._watch, name="wvi-warehouse-watch", daemon=True
            )
            self._watcher.start()

    def stop_watching(self) -> None:
        """Stop the thread `watch` started, after a refresh it is making."""
        self._stop_watching.set()
        if self._watcher is not None:
            self._watcher.join()

    def _watch(self) -> None:
        while not self._stop_watching.wait(max(self.max_age_seconds, WATCH_MIN_SECONDS)):
            if self._run_going():
                continue  # its gold may be half written: load it once the run is over
            try:
                self._refresh_if_idle()
            except Exception as exc:  # files that can't be read now; the next turn retries
                log.warning("could not refresh the warehouse: %s", exc)

    def _run_going(self) -> bool:
        """A local pipeline run holds the data root's run lock (it may be rewriting gold)."""
        from pipeline.lock import RunLock, lock_path

        try:
            return RunLock.is_held(lock_path(str(self.root)))
        except OSError:  # a read-only data root: no run writes there
            return False

    def _first_load(self) -> None:
        try:
            self.refresh()
        except Exception as exc:  # the first query refreshes again, and raises it there
            self.load_error = " ".join(str(exc).split()) or type(exc).__name__
            log.warning("could not load the warehouse: %s", self.load_error)
        finally:
            self._loaded.set()

    def refresh(self) -> None:
        """Reload every table whose files changed since it was loaded (or was never loaded)."""
        with self._refresh_lock:
            self._refresh()

    def _refresh(self) -> None:
        cursor = self._cursor()
        changed = False
        try:
            for schema in SCHEMAS:
                cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            if not self._snapshot_checked:
                self._snapshot_checked = True
                self._open_snapshot(cursor)
            elif self._snapshot_attached and not self._snapshot_views:
                # Every table has been replaced since (queries then reading a view on it
                # were done long ago): let the old file go.
                cursor.execute(f"DETACH {SNAPSHOT}")
                self._snapshot_attached = False
            for schema, tables in SCHEMAS.items():
                for table, columns in tables.items():
                    changed |= self._load(cursor, schema, table, columns)
            for name, (sources, sql) in DERIVED_TABLES.items():
                changed |= self._derive(cursor, name, sources, sql)
        finally:
            cursor.close()
        self._refreshed_at = time.monotonic()
        if changed and self.snapshot_path is not None:
            self.snapshot_outdated = True
            self._changed_at = time.monotonic()
            if self.write_snapshots:
                self._save_snapshot_soon()

    def _load(self, cursor: Any, schema: str, table: str, columns: Mapping[str, str]) -> bool:
        """(Re)load one table if its files changed; keep the loaded rows if they can't be read.
        True when the table's rows were replaced."""
        import duckdb

        name, folder = f"{schema}.{table}", self.root / schema / table
        for attempt in (1, 2):
            # The signature is taken before the read: files that change during it differ from
            # it, so the next refresh loads the table again.
            signature = table_signature(folder)
            if self.signatures.get(name) == signature and name in self.sources:
                return False
            pattern = parquet_glob(folder)
            try:
                self._create(cursor, name, _table_select(cursor, columns, pattern))
            except duckdb.IOException as exc:
                # Files went away between the listing and the read (a table being rewritten):
                # list again once, then keep what was loaded and retry at the next refresh.
                log.warning("could not load %s (attempt %d): %s", name, attempt, exc)
                continue
            self.signatures[name], self.sources[name] = signature, pattern
            # Derived tables built from the old rows are not used until rebuilt (`_derive`).
            self.derived_tables -= {d for d, (src, _) in DERIVED_TABLES.items() if name in src}
            return True
        if name not in self.sources:  # never loaded: an empty table until the files settle
            self._create(cursor, name, _table_select(cursor, columns, None))
            self.sources[name] = None
            return True
        return False

    def _derive(self, cursor: Any, name: str, sources: Sequence[str], sql: str) -> bool:
        """(Re)build a derived table when a table it reads was (re)loaded since it was built;
        True when it was.

        Until it is built from the current tables it is not in `derived_tables`, so queries
        don't use it (they count distinct visitors the plain way); a build that fails (out of
        memory) leaves it out and is tried again at the next refresh.
        """
        import duckdb

        built_from = tuple(self.signatures.get(source, ()) for source in sources)
        if self._derived_from.get(name) == built_from:
            return False
        self.derived_tables.discard(name)
        try:
            self._create(cursor, name, sql)
        except duckdb.Error as exc:
            log.warning("could not build %s: %s", name, exc)
            self._derived_from.pop(name, None)
            return False
        self._derived_from[name] = built_from
        self.derived_tables.add(name)
        return True

    def _create(self, cursor: Any, name: str, select: str) -> None:
        """`CREATE OR REPLACE TABLE name AS select`; a view on the snapshot of that name is
        replaced in one transaction, so concurrent queries see the old rows or the new."""
        if name not in self._snapshot_views:
            cursor.execute(f"CREATE OR REPLACE TABLE {name} AS {select}")
            return
        cursor.execute("BEGIN TRANSACTION")
        try:
            cursor.execute(f"DROP VIEW {name}")
            cursor.execute(f"CREATE TABLE {name} AS {select}")
            cursor.execute("COMMIT")
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        self._snapshot_views.discard(name)

    # -------------------------------------------------------------------------- snapshot
    def _open_snapshot(self, cursor: Any) -> None:
        """Serve every table that is still what a load would give from the snapshot."""
        import duckdb

        path = self.snapshot_path
        if path is None or not path.is_file():
            return
        try:
            cursor.execute(f"ATTACH '{_literal(str(path))}' AS {SNAPSHOT} (READ_ONLY)")
            self._snapshot_attached = True
            states = dict(
                cursor.execute(f"SELECT * FROM {SNAPSHOT}.{snapshots.STATE_TABLE}").fetchall()
            )
        except duckdb.Error as exc:  # unreadable: load from Parquet; the next write replaces it
            log.warning("not using the warehouse snapshot %s: %s", path, exc)
            with contextlib.suppress(duckdb.Error):
                cursor.execute(f"DETACH {SNAPSHOT}")
            self._snapshot_attached = False
            return
        for schema, tables in SCHEMAS.items():
            for table in tables:
                name, folder = f"{schema}.{table}", self.root / schema / table
                signature = table_signature(folder)
                if states.get(name) == snapshots.state_text(signature):
                    self._serve_from_snapshot(cursor, name)
                    self.signatures[name], self.sources[name] = signature, parquet_glob(folder)
        for name, (sources, _) in DERIVED_TABLES.items():
            built_from = tuple(self.signatures.get(source, ()) for source in sources)
            if all(s in self._snapshot_views for s in sources) and states.get(
                name
            ) == snapshots.state_text(built_from):
                self._serve_from_snapshot(cursor, name)
                self._derived_from[name] = built_from
                self.derived_tables.add(name)

    def _serve_from_snapshot(self, cursor: Any, name: str) -> None:
        cursor.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM {SNAPSHOT}.{name}")
        self._snapshot_views.add(name)

    def _save_snapshot_soon(self) -> None:
        """Have the writer thread write the snapshot (one thread; see `_snapshot_loop`)."""
        with self._snapshot_lock:
            if self._snapshot_writer is None and not self._closed:
                self._snapshot_writer = threading.Thread(
                    target=self._snapshot_loop, name="wvi-warehouse-snapshot", daemon=True
                )
                self._snapshot_writer.start()

    def _snapshot_loop(self) -> None:
        """Write once the tables have been still for `SNAPSHOT_QUIET_SECONDS`: while a
        pipeline run rewrites gold table by table, each refresh reloads some, and a write
        after each would cost a core for nothing."""
        while True:
            with self._snapshot_lock:
                if self._closed or not self.snapshot_outdated:
                    self._snapshot_writer = None
                    return
                wait = self._changed_at + SNAPSHOT_QUIET_SECONDS - time.monotonic()
            if wait > 0:
                time.sleep(min(wait, 1.0))
                continue
            try:
                self.save_snapshot()
                self.snapshot_error = None
            except Exception as exc:  # a read-only data root, a full disk: only a cache
                self.snapshot_error = " ".join(str(exc).split()) or type(exc).__name__
                log.warning("could not write the warehouse snapshot: %s", self.snapshot_error)
                with self._snapshot_lock:
                    self._snapshot_writer = None
                return

    def save_snapshot(self) -> bool:
        """Write the loaded tables to the snapshot now, if they changed since it was read or
        written and there is data; True when it wrote. Refreshes wait meanwhile, so each
        table is stored with the state it was loaded in; queries go on. Raises what went
        wrong."""
        if self.snapshot_path is None:
            raise WarehouseError("this warehouse was opened without snapshot=True")
        with self._refresh_lock:
            if not self.snapshot_outdated:
                return False
            if not any(self.signatures.values()):  # no files at all: nothing worth keeping
                self.snapshot_outdated = False
                return False
            states = {name: snapshots.state_text(s) for name, s in self.signatures.items()}
            states |= {
                name: snapshots.state_text(self._derived_from[name]) for name in self.derived_tables
            }
            cursor = self._cursor()
            try:
                snapshots.write_snapshot(cursor, self.snapshot_path, states)
            finally:
                cursor.close()
            self.snapshot_outdated = False
            return True

    def wait_until_loaded(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the first load; True once it is over (see
        `load_error` for how it went)."""
        return self._loaded.wait(timeout)

    def query(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        """Run `sql` with positional parameters on a fresh cursor."""
        _check_params(params)
        if not self._loaded.wait(LOAD_TIMEOUT_SECONDS):
            raise WarehouseError(f"the tables under {self.root} are still loading; try again")
        if time.monotonic() - self._refreshed_at > self.max_age_seconds and (
            self._refreshed_at == -math.inf or not self._run_going()
        ):
            self._refresh_if_idle()
        cursor = self._cursor()
        try:
            return cursor.execute(sql, list(params)).df()
        finally:
            cursor.close()

    def _refresh_if_idle(self) -> None:
        # A refresh already running in another thread will have the news: don't queue behind
        # it, query the tables as they are.
        if not self._closed and self._refresh_lock.acquire(blocking=False):
            try:
                self._refresh()
            finally:
                self._refresh_lock.release()

    def _cursor(self) -> Any:
        with self._cursor_lock:
            return self._con.cursor()

    def close(self) -> None:
        """Close the database: after a load in the background, and a snapshot write going
        on, are done; a write still waiting for the tables to settle is not made."""
        self.stop_watching()
        self._loaded.wait(LOAD_TIMEOUT_SECONDS)
        with self._snapshot_lock:
            self._closed = True
            writer = self._snapshot_writer
        if writer is not None:
            writer.join()
        with self._refresh_lock, self._cursor_lock:
            self._con.close()


def save_snapshot(data_root: str | os.PathLike[str]) -> bool:
    """Bring the snapshot of `data_root` up to date now (tables unchanged since it was written
    are taken from it, the others loaded); True when it wrote one. Raises what went wrong."""
    warehouse = DuckDBWarehouse(data_root, snapshot=True, write_snapshots=False)
    try:
        return warehouse.save_snapshot()
    finally:
        warehouse.close()


def table_signature(table_dir: Path) -> Signature:
    """What identifies a table's data files: sorted (relative path, size, mtime_ns) of its
    `*.parquet` files, skipping `_`/`.` names as `parquet_glob` does; () when there are none."""
    if not table_dir.is_dir():
        return ()
    found: list[tuple[str, int, int]] = []
    for folder, dirs, files in os.walk(table_dir):
        dirs[:] = [d for d in dirs if not d.startswith(("_", "."))]
        for file in files:
            if file.endswith(".parquet") and not file.startswith(("_", ".")):
                path = Path(folder, file)
                try:
                    stat = path.stat()
                except FileNotFoundError:  # removed while we walked: not part of the table
                    continue
                found.append(
                    (path.relative_to(table_dir).as_posix(), stat.st_size, stat.st_mtime_ns)
                )
    return tuple(sorted(found))


def parquet_glob(table_dir: Path) -> str | None:
    """A glob for the table's Parquet files, or None when it has none.

    The partition layout is read from the first data file found (`date=*/*.parquet`,
    `*.parquet`). Names starting with `_` or `.` are skipped, like Spark and Hive do, so
    `_temporary/` and `.spark-staging-*/` work folders of a write in progress never count.
    """
    if not table_dir.is_dir():
        return None
    for folder, dirs, files in os.walk(table_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith(("_", ".")))
        if any(f.endswith(".parquet") and not f.startswith(("_", ".")) for f in files):
            relative = Path(folder).relative_to(table_dir).parts
            if not all("=" in part for part in relative):
                return None
            keys = [f"{part.split('=', 1)[0]}=*" for part in relative]
            return str(table_dir.joinpath(*keys, "*.parquet"))
    return None


def _table_select(cursor: Any, columns: Mapping[str, str], pattern: str | None) -> str:
    """A SELECT of the files' rows in the documented columns and types (a column missing
    from the files is NULL, extra columns are left out)."""
    if pattern is None:
        select = ", ".join(f'CAST(NULL AS {kind}) AS "{col}"' for col, kind in columns.items())
        return f"SELECT {select} WHERE 1 = 0"
    source = f"read_parquet('{_literal(pattern)}', hive_partitioning = true)"
    present = {row[0] for row in cursor.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    select = ", ".join(
        f'TRY_CAST("{col}" AS {kind}) AS "{col}"'
        if col in present
        else f'CAST(NULL AS {kind}) AS "{col}"'
        for col, kind in columns.items()
    )
    return f"SELECT {select} FROM {source}"


def _definitions() -> Any:
    """What the tables are and how they are loaded: a snapshot written by other code is not
    read. The loading code is this module, so any change to it costs one reload."""
    source = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    return {"schemas": SCHEMAS, "derived": DERIVED_TABLES, "loader": source}


def _literal(text: str) -> str:
    return text.replace("'", "''")


# ------------------------------------------------------------------------------------ Athena
class AthenaWarehouse:
    """Athena through pyathena's PandasCursor, with server-side result reuse.

    `gold.` / `silver.` in the SQL become the configured Glue databases (rewritten with
    sqlglot, so only table references change). Every query names the workgroup and/or the
    output location (`s3_staging_dir`) and asks for result reuse
    (`ResultReuseByAgeConfiguration`, `result_reuse_minutes`).

    The query text keeps its `?` markers and the values go as `ExecutionParameters`, one
    Trino literal each (`athena_literal`: strings single-quoted with quotes doubled, numbers,
    dates as quoted ISO text, NULL, TRUE/FALSE; any other type is refused), so a value never
    becomes SQL text. Athena binds execution parameters only in WHERE clauses ("SELECT ? FROM
    table is not supported"); every statement in `services.queries` keeps its markers there.

    Result reuse needs Athena engine v3 and happens only within one workgroup with the same
    result configuration; AWS documents that overriding the workgroup's result configuration
    for a query disables it, so with a workgroup that has an output location, leave
    `output_location` unset.
    """

    def __init__(
        self,
        *,
        database: str = "wistia_gold",
        silver_database: str = "wistia_silver",
        workgroup: str | None = None,
        output_location: str | None = None,
        region: str | None = None,
        result_reuse_minutes: int = 60,
        poll_interval: float = 1.0,
        **connect_kwargs: Any,
    ) -> None:
        if not workgroup and not output_location:
            raise WarehouseError("Athena needs WVI_ATHENA_WORKGROUP or WVI_ATHENA_OUTPUT")
        self.databases = {"gold": database, "silver": silver_database}
        self.result_reuse_minutes = result_reuse_minutes
        self._connect_kwargs = dict(
            schema_name=database,
            work_group=workgroup,
            s3_staging_dir=output_location,
            region_name=region,
            poll_interval=poll_interval,
            result_reuse_enable=True,
            result_reuse_minutes=result_reuse_minutes,
            **connect_kwargs,
        )
        self._connection: Any = None
        self._lock = threading.Lock()

    @property
    def connection(self) -> Any:
        """The pyathena connection (opened on first use; shared, its boto3 client is)."""
        with self._lock:
            if self._connection is None:
                from pyathena import connect

                kwargs = {k: v for k, v in self._connect_kwargs.items() if v is not None}
                self._connection = connect(**kwargs)
            return self._connection

    def statement(self, sql: str, params: Sequence[Any] = ()) -> tuple[str, list[str] | None]:
        """What goes to Athena for `sql` and `params`: (query text, execution parameters)."""
        _check_params(params)
        text = athena_sql(sql, tuple(sorted(self.databases.items())))
        markers = len(_marker_tokens(text))
        if markers != len(params):
            raise WarehouseError(f"{markers} ? markers but {len(params)} values")
        # Athena refuses an empty ExecutionParameters list: None when there are no values.
        return text, [athena_literal(v) for v in params] or None

    def query(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        """Run `sql` on Athena (a new cursor per call) and return the rows as a DataFrame."""
        from pyathena.pandas.cursor import PandasCursor

        text, execution_parameters = self.statement(sql, params)
        cursor = self.connection.cursor(PandasCursor)
        try:
            # qmark style: pyathena sends the list as ExecutionParameters and leaves the text
            # alone (no client-side formatting of values into it).
            cursor.execute(
                text,
                execution_parameters,
                paramstyle="qmark",
                result_reuse_enable=True,
                result_reuse_minutes=self.result_reuse_minutes,
            )
            return cursor.as_pandas()
        finally:
            cursor.close()

    def refresh(self) -> None:
        """Nothing to do: Athena plans every query from the Glue catalog."""


@lru_cache(maxsize=256)
def athena_sql(sql: str, databases: tuple[tuple[str, str], ...]) -> str:
    """`sql` with the schema qualifiers replaced by Glue databases, in Athena's dialect."""
    import sqlglot
    from sqlglot import exp

    mapping = dict(databases)

    def qualify(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and node.db in mapping:
            node.set("db", exp.to_identifier(mapping[node.db]))
        return node

    tree = sqlglot.parse_one(sql, read="athena")
    return tree.transform(qualify).sql(dialect="athena")


def athena_literal(value: Any) -> str:
    """A Python value as one Athena SQL literal, the text of one execution parameter."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, numbers.Integral):  # int and numpy integers
        return str(int(value))
    if isinstance(value, Decimal | float):
        if not math.isfinite(value):
            raise WarehouseError(f"not a finite number: {value!r}")
        return str(value) if isinstance(value, Decimal) else repr(float(value))
    if isinstance(value, dt.datetime):
        return "'" + value.isoformat(sep=" ") + "'"
    if isinstance(value, dt.date):
        return "'" + value.isoformat() + "'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise WarehouseError(f"unsupported parameter type: {type(value).__name__}")


def _marker_tokens(sql: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the `?` placeholders in `sql`."""
    import sqlglot
    from sqlglot.tokens import TokenType

    return [
        (t.start, t.end + 1)
        for t in sqlglot.tokenize(sql, read="athena")
        if t.token_type == TokenType.PLACEHOLDER and sql[t.start : t.end + 1] == "?"
    ]


def _check_params(params: Sequence[Any]) -> None:
    if isinstance(params, str | bytes | Mapping):
        raise TypeError("params must be a sequence of positional values for the ? markers")


# ------------------------------------------------------------------------------------ choice
def make_warehouse(
    env: Mapping[str, str] | None = None,
    *,
    data_root: str | None = None,
    load_in_background: bool = False,
    snapshot: bool = False,
) -> Warehouse:
    """The warehouse `WVI_WAREHOUSE` names: `duckdb` (default) or `athena`
    (`load_in_background`, `snapshot`: see `DuckDBWarehouse`; Athena has nothing to load)."""
    env = os.environ if env is None else env
    kind = (env.get("WVI_WAREHOUSE") or "duckdb").strip().lower()
    if kind == "duckdb":
        root = data_root or env.get("WVI_DATA_ROOT") or "./data"
        return DuckDBWarehouse(root, load_in_background=load_in_background, snapshot=snapshot)
    if kind == "athena":
        return AthenaWarehouse(
            database=env.get("WVI_ATHENA_DATABASE") or "wistia_gold",
            silver_database=env.get("WVI_ATHENA_SILVER_DATABASE") or "wistia_silver",
            workgroup=env.get("WVI_ATHENA_WORKGROUP") or None,
            output_location=env.get("WVI_ATHENA_OUTPUT") or None,
            region=env.get("WVI_AWS_REGION") or env.get("AWS_REGION") or None,
        )
    raise WarehouseError(f"WVI_WAREHOUSE must be duckdb or athena, not {kind!r}")


__all__ = [
    "DERIVED_TABLES",
    "ENGAGEMENT_AUDIENCE",
    "ENGAGEMENT_DAILY",
    "FIRST_VISITS",
    "GOLD_TABLES",
    "SILVER_TABLES",
    "AthenaWarehouse",
    "DuckDBWarehouse",
    "Warehouse",
    "WarehouseError",
    "athena_literal",
    "athena_sql",
    "make_warehouse",
    "parquet_glob",
    "save_snapshot",
    "table_signature",
]
