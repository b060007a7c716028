"""The warehouse's snapshot (services.snapshot): a restart serves the tables it left, exactly
as a load from Parquet would, and loads whatever changed since."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from services import kpis, queries
from services import snapshot as snapshots
from services import warehouse as warehouse_module
from services.filters import Period
from services.warehouse import DERIVED_TABLES, SCHEMAS, DuckDBWarehouse, WarehouseError
from tests.services import gold_fixture
from tests.waiting import wait_for

TABLES = [f"{schema}.{table}" for schema, tables in SCHEMAS.items() for table in tables]
PERIOD = Period(gold_fixture.PERIOD_START, gold_fixture.PERIOD_END)


@pytest.fixture
def root(tmp_path) -> Path:
    return gold_fixture.build(tmp_path)


@pytest.fixture
def created(monkeypatch) -> list[str]:
    """The tables the warehouses create (loaded from Parquet or derived), in order."""
    names: list[str] = []
    original = DuckDBWarehouse._create

    def create(self, cursor, name, select):
        names.append(name)
        return original(self, cursor, name, select)

    monkeypatch.setattr(DuckDBWarehouse, "_create", create)
    return names


def answers(warehouse: DuckDBWarehouse) -> list:
    """What the pages ask, over every table (the derived ones included)."""
    media_id = gold_fixture.DIM_MEDIA["media_id"].iloc[0]
    return [
        queries.data_range(warehouse),
        kpis.kpi_summary(warehouse, PERIOD, None, None),
        kpis.kpi_summary(warehouse, PERIOD, "YouTube", None),
        queries.media_breakdown(warehouse, PERIOD, None),
        queries.weekly_trend(warehouse, PERIOD, None, None),
        queries.top_countries(warehouse, PERIOD, media_id),
        queries.devices(warehouse, PERIOD, media_id),
        queries.retention_curve(warehouse, media_id, PERIOD),
        queries.latest_media_summary(warehouse, media_id),
        warehouse.query("SELECT * FROM gold.dim_visitor ORDER BY visitor_id"),
    ]


def assert_same(left: list, right: list) -> None:
    assert len(left) == len(right)
    for a, b in zip(left, right, strict=True):
        if isinstance(a, tuple) and a and isinstance(a[0], pd.DataFrame):
            assert_same(list(a), list(b))
        elif isinstance(a, pd.DataFrame):
            pd.testing.assert_frame_equal(a, b)
        else:
            assert a == b


def snapshot_of(root: Path) -> DuckDBWarehouse:
    """A warehouse that loaded `root` and wrote its snapshot."""
    warehouse = DuckDBWarehouse(root, snapshot=True, write_snapshots=False)
    assert warehouse.save_snapshot()
    warehouse.close()
    assert warehouse.snapshot_path is not None and warehouse.snapshot_path.is_file()
    return warehouse


@pytest.fixture
def no_quiet_period(monkeypatch) -> None:
    monkeypatch.setattr(warehouse_module, "SNAPSHOT_QUIET_SECONDS", 0.0)


def test_a_restart_serves_the_snapshot_and_answers_as_a_load_does(root, created):
    written = snapshot_of(root)
    created.clear()
    restarted = DuckDBWarehouse(root, snapshot=True)
    assert created == []  # nothing read from Parquet, nothing derived again
    assert restarted.derived_tables == set(DERIVED_TABLES)
    loaded = DuckDBWarehouse(root)
    assert_same(answers(restarted), answers(loaded))
    assert restarted.snapshot_path == written.snapshot_path
    restarted.close()
    loaded.close()


def test_tables_changed_since_the_snapshot_are_loaded_and_derived_again(root, created):
    snapshot_of(root)
    media = gold_fixture.DIM_MEDIA.assign(channel="Facebook")  # every media moves channel
    media.to_parquet(root / "gold" / "dim_media" / "part-0.parquet", index=False)
    created.clear()
    restarted = DuckDBWarehouse(root, snapshot=True, max_age_seconds=3600)
    # dim_media from Parquet; every derived table reads it, so all three are built again.
    assert sorted(created) == sorted(["gold.dim_media", *DERIVED_TABLES])
    assert_same(answers(restarted), answers(DuckDBWarehouse(root)))
    assert kpis.kpi_summary(restarted, PERIOD, "YouTube", None).current.plays == 0

    # A table served from the snapshot is replaced like any other when its files change.
    created.clear()
    daily = gold_fixture.FACT_MEDIA_DAILY.assign(play_count=1)
    for folder in (root / "gold" / "fact_media_daily").glob("date=*"):
        rows = daily[daily["date"].astype(str) == folder.name.split("=")[1]]
        rows = rows.drop(columns=["date"])
        rows.to_parquet(next(folder.glob("*.parquet")), index=False)
    restarted.refresh()
    assert created == ["gold.fact_media_daily"]
    assert_same(answers(restarted), answers(DuckDBWarehouse(root)))
    restarted.close()


def test_a_load_that_changed_tables_writes_a_new_snapshot(root):
    first = snapshot_of(root)
    before = first.snapshot_path.stat().st_mtime_ns
    media = gold_fixture.DIM_MEDIA.head(2)
    media.to_parquet(root / "gold" / "dim_media" / "part-0.parquet", index=False)
    snapshot_of(root)
    assert first.snapshot_path.stat().st_mtime_ns != before
    restarted = DuckDBWarehouse(root, snapshot=True)
    assert restarted._snapshot_views == set(TABLES) | set(DERIVED_TABLES)
    assert len(queries.media_list(restarted)) == 2
    restarted.close()


def test_an_unreadable_snapshot_is_ignored_and_replaced(root, created, caplog, no_quiet_period):
    path = snapshot_of(root).snapshot_path
    path.write_bytes(b"not a database")
    created.clear()
    warehouse = DuckDBWarehouse(root, snapshot=True)
    assert sorted(created) == sorted([*TABLES, *DERIVED_TABLES])  # loaded from Parquet
    assert "not using the warehouse snapshot" in caplog.text
    assert_same(answers(warehouse), answers(DuckDBWarehouse(root)))
    wait_for(lambda: not warehouse.snapshot_outdated)  # the writer thread wrote a good one
    warehouse.close()
    created.clear()
    DuckDBWarehouse(root, snapshot=True).close()
    assert created == []


def test_the_writer_waits_until_the_tables_are_still(root, monkeypatch):
    monkeypatch.setattr(warehouse_module, "SNAPSHOT_QUIET_SECONDS", 1.5)
    warehouse = DuckDBWarehouse(root, snapshot=True)
    time.sleep(0.5)
    assert not warehouse.snapshot_path.exists()  # a pipeline run may still be rewriting gold
    wait_for(lambda: warehouse.snapshot_path.exists())
    warehouse.close()
    # A warehouse closed while its writer waits writes nothing (and closes at once).
    os.utime(next((root / "gold" / "dim_media").glob("*.parquet")))
    before = warehouse.snapshot_path.stat().st_mtime_ns
    other = DuckDBWarehouse(root, snapshot=True)
    other.close()
    assert warehouse.snapshot_path.stat().st_mtime_ns == before


def test_a_derived_table_is_taken_only_with_the_sources_it_was_built_from(root, created):
    visitors = root / "gold" / "dim_visitor"
    kept = visitors.with_name("dim_visitor.kept")
    visitors.rename(kept)  # no dim_visitor files when the snapshot is written
    snapshot_of(root)
    kept.rename(visitors)
    created.clear()
    restarted = DuckDBWarehouse(root, snapshot=True)
    # engagement_audience joins dim_visitor: built again, the other two come from the file.
    assert sorted(created) == ["gold.dim_visitor", "gold.engagement_audience"]
    assert_same(answers(restarted), answers(DuckDBWarehouse(root)))
    restarted.close()


def test_a_derived_table_is_not_taken_when_a_source_could_not_be_loaded(root, created, monkeypatch):
    snapshot_of(root)
    os.utime(next((root / "gold" / "dim_visitor").glob("*.parquet")))  # changed since
    original = warehouse_module._table_select

    def unreadable_visitors(cursor, columns, pattern):
        if pattern and "dim_visitor" in pattern:
            raise duckdb.IOException("file removed while reading")
        return original(cursor, columns, pattern)

    monkeypatch.setattr(warehouse_module, "_table_select", unreadable_visitors)
    created.clear()
    restarted = DuckDBWarehouse(root, snapshot=True, write_snapshots=False)
    # dim_visitor is empty until its files can be read; the audience rows joined to the
    # snapshot's visitors would not match it: built again from the tables as they are.
    assert "gold.engagement_audience" in created
    audience = restarted.query("SELECT COUNT(country) AS n FROM gold.engagement_audience")
    assert audience["n"].iloc[0] == 0
    restarted.close()


def test_the_snapshot_is_let_go_once_every_table_was_replaced(root):
    snapshot_of(root)
    restarted = DuckDBWarehouse(root, snapshot=True, write_snapshots=False)
    attached = "SELECT database_name FROM duckdb_databases() WHERE database_name = 'snapshot'"
    assert len(restarted.query(attached)) == 1
    for file in root.glob("*/*/**/*.parquet"):
        os.utime(file)
    restarted.refresh()  # every table reloaded, every derived table rebuilt
    assert not restarted._snapshot_views
    restarted.refresh()
    assert restarted.query(attached).empty
    assert_same(answers(restarted), answers(DuckDBWarehouse(root)))
    restarted.close()


def test_no_snapshot_of_no_data_and_no_data_root_made(tmp_path):
    missing = tmp_path / "typo"
    warehouse = DuckDBWarehouse(missing, snapshot=True, write_snapshots=False)
    assert warehouse.save_snapshot() is False
    warehouse.close()
    assert not missing.exists()


def test_a_snapshot_of_other_definitions_is_never_read(root, monkeypatch):
    path = snapshot_of(root).snapshot_path
    monkeypatch.setattr(snapshots, "FORMAT", snapshots.FORMAT + 1)
    other = DuckDBWarehouse(root, snapshot=True, write_snapshots=False)
    assert other.snapshot_path != path and not other._snapshot_views
    assert other.save_snapshot()
    other.close()
    assert other.snapshot_path.is_file() and not path.exists()  # the old one is removed


def test_temporary_files_of_dead_writes_are_removed(root):
    folder = root / snapshots.FOLDER
    folder.mkdir()
    stale, fresh = folder / ".snapshot-x.duckdb.1-2.tmp", folder / ".snapshot-x.duckdb.3-4.tmp"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"x")
    old = time.time() - snapshots.STALE_TEMPORARY_SECONDS - 60
    os.utime(stale, (old, old))
    snapshot_of(root)
    assert not stale.exists() and fresh.exists()  # a write of another process may be going on


def test_a_data_root_it_cannot_write_is_served_all_the_same(
    root, monkeypatch, caplog, no_quiet_period
):
    def refuse(*args, **kwargs):
        raise PermissionError("read-only file system")

    monkeypatch.setattr(snapshots, "write_snapshot", refuse)
    warehouse = DuckDBWarehouse(root, snapshot=True)
    wait_for(lambda: warehouse.snapshot_error is not None)
    assert warehouse.snapshot_error == "read-only file system"
    assert "could not write the warehouse snapshot" in caplog.text
    assert warehouse.derived_tables == set(DERIVED_TABLES)
    assert len(queries.media_list(warehouse)) == len(gold_fixture.DIM_MEDIA)
    warehouse.close()


def test_queries_during_a_snapshot_write_and_a_swap_see_whole_tables(root):
    snapshot_of(root)
    restarted = DuckDBWarehouse(root, snapshot=True, write_snapshots=False, max_age_seconds=3600)
    expected = len(gold_fixture.FACT_MEDIA_ENGAGEMENT)
    counts: list[int | Exception] = []
    stop = threading.Event()

    def ask() -> None:
        while not stop.is_set():
            try:
                sql = "SELECT COUNT(*) AS n FROM gold.fact_media_engagement"
                counts.append(int(restarted.query(sql)["n"].iloc[0]))
            except Exception as exc:  # a table missing for a moment: the defect looked for
                counts.append(exc)

    asking = threading.Thread(target=ask)
    asking.start()
    for _ in range(3):  # view → table, then table → table, each while the queries go on
        os.utime(next((root / "gold" / "fact_media_engagement").rglob("date=*/*.parquet")))
        restarted.refresh()
        assert restarted.save_snapshot()
    stop.set()
    asking.join()
    assert counts and set(counts) == {expected}
    restarted.close()


def test_only_a_warehouse_with_a_snapshot_saves_one(root):
    warehouse = DuckDBWarehouse(root)
    with pytest.raises(WarehouseError, match="snapshot=True"):
        warehouse.save_snapshot()
    assert warehouse.snapshot_path is None and not (root / snapshots.FOLDER).exists()
