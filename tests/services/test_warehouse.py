"""DuckDBWarehouse over Parquet folders (loaded tables, reloaded when their files change);
the Athena SQL rewrite and parameter literals."""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import date, datetime
from decimal import Decimal

import pandas as pd
import pytest
import sqlglot

from pipeline.lock import RunLock, lock_path
from services import queries
from services import warehouse as warehouse_module
from services.warehouse import (
    DERIVED_TABLES,
    GOLD_TABLES,
    SCHEMAS,
    AthenaWarehouse,
    DuckDBWarehouse,
    WarehouseError,
    athena_literal,
    athena_sql,
    make_warehouse,
    parquet_glob,
    table_signature,
)
from tests.services import gold_fixture
from tests.waiting import wait_for


def test_tables_have_the_contract_columns_and_types(warehouse):
    for table, columns in GOLD_TABLES.items():
        frame = warehouse.query(f"SELECT * FROM gold.{table} LIMIT 0")
        assert list(frame.columns) == list(columns), table
    types = warehouse.query(
        "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns"
    )
    found = {(r.table_schema, r.table_name, r.column_name): r.data_type for r in types.itertuples()}
    derived = {k: v for k, v in found.items() if f"{k[0]}.{k[1]}" in DERIVED_TABLES}
    assert {f"{k[0]}.{k[1]}" for k in derived} == set(DERIVED_TABLES)
    found = {k: v for k, v in found.items() if k not in derived}
    expected = {
        (schema, table, column): kind
        for schema, tables in SCHEMAS.items()
        for table, columns in tables.items()
        for column, kind in columns.items()
    }
    assert found == expected


def test_partition_column_comes_from_the_folder_and_staging_is_ignored(warehouse):
    frame = warehouse.query(
        "SELECT date, COUNT(*) AS n FROM gold.fact_media_daily GROUP BY date ORDER BY date"
    )
    days = [d.date() for d in pd.to_datetime(frame["date"])]
    assert date(2026, 6, 9) not in days  # only in .spark-staging-1/
    assert days == sorted({d for d in gold_fixture.FACT_MEDIA_DAILY["date"]})
    typed = warehouse.query("SELECT typeof(date) AS t FROM gold.fact_media_daily LIMIT 1")
    assert typed["t"].tolist() == ["DATE"]


def test_missing_tables_are_empty_tables(tmp_path):
    warehouse = DuckDBWarehouse(tmp_path / "nothing-here")
    for table in GOLD_TABLES:
        assert warehouse.query(f"SELECT * FROM gold.{table}").empty
    assert warehouse.query("SELECT * FROM silver.media_engagement").empty


def test_refresh_shows_tables_written_later(tmp_path):
    warehouse = DuckDBWarehouse(tmp_path, max_age_seconds=3600)
    assert warehouse.query("SELECT * FROM gold.dim_media").empty
    gold_fixture.write_table(tmp_path, "gold", "dim_media", gold_fixture.DIM_MEDIA, None)
    warehouse.refresh()
    assert len(warehouse.query("SELECT * FROM gold.dim_media")) == 3


def _write_day(root, day: date) -> None:
    daily = gold_fixture.FACT_MEDIA_DAILY
    folder = root / "gold" / "fact_media_daily" / f"date={day.isoformat()}"
    folder.mkdir(parents=True)
    rows = daily[daily["date"] == day].drop(columns=["date"])
    rows.to_parquet(folder / "part-0.parquet", index=False)


def test_new_partitions_show_after_a_refresh(tmp_path):
    _write_day(tmp_path, date(2026, 6, 10))
    warehouse = DuckDBWarehouse(tmp_path, max_age_seconds=3600)
    assert len(warehouse.query("SELECT * FROM gold.fact_media_daily")) == 2
    _write_day(tmp_path, date(2026, 6, 11))
    # The rows as loaded until the next refresh (explicit, or when max_age_seconds passed).
    assert len(warehouse.query("SELECT * FROM gold.fact_media_daily")) == 2
    warehouse.refresh()
    assert len(warehouse.query("SELECT * FROM gold.fact_media_daily")) == 3


def test_an_old_load_refreshes_on_the_next_query(tmp_path):
    _write_day(tmp_path, date(2026, 6, 10))
    warehouse = DuckDBWarehouse(tmp_path, max_age_seconds=0)
    assert len(warehouse.query("SELECT * FROM gold.fact_media_daily")) == 2
    _write_day(tmp_path, date(2026, 6, 11))
    assert len(warehouse.query("SELECT * FROM gold.fact_media_daily")) == 3


def test_removed_files_empty_the_table_on_refresh(tmp_path):
    gold_fixture.write_table(tmp_path, "gold", "dim_media", gold_fixture.DIM_MEDIA, None)
    warehouse = DuckDBWarehouse(tmp_path, max_age_seconds=3600)
    (tmp_path / "gold" / "dim_media" / "part-0.parquet").unlink()
    assert len(warehouse.query("SELECT * FROM gold.dim_media")) == 3  # loaded, not re-read
    warehouse.refresh()
    assert warehouse.query("SELECT * FROM gold.dim_media").empty


@pytest.fixture
def loads(monkeypatch) -> list[str]:
    """The tables the warehouse (re)loads, in order."""
    names: list[str] = []
    original = DuckDBWarehouse._create

    def create(self, cursor, name, select):
        if name not in DERIVED_TABLES:
            names.append(name)
        return original(self, cursor, name, select)

    monkeypatch.setattr(DuckDBWarehouse, "_create", create)
    return names


def test_refresh_reloads_only_the_tables_whose_files_changed(tmp_path, loads):
    gold_fixture.build(tmp_path)
    warehouse = DuckDBWarehouse(tmp_path, max_age_seconds=3600)
    assert sorted(loads) == sorted(f"{s}.{t}" for s, tables in SCHEMAS.items() for t in tables)
    loads.clear()
    warehouse.refresh()
    assert loads == []
    # Work folders of a write in progress are not part of the table.
    staging = tmp_path / "gold" / "fact_media_engagement" / "_temporary" / "0"
    staging.mkdir(parents=True)
    (staging / "part-1.parquet").write_bytes(b"not yet")
    warehouse.refresh()
    assert loads == []
    # A rewritten file (new size / mtime) reloads that table only.
    media = gold_fixture.DIM_MEDIA.head(2)
    media.to_parquet(tmp_path / "gold" / "dim_media" / "part-0.parquet", index=False)
    warehouse.refresh()
    assert loads == ["gold.dim_media"]
    assert len(warehouse.query("SELECT * FROM gold.dim_media")) == 2


def test_a_table_that_cannot_be_read_keeps_its_rows(tmp_path, monkeypatch, caplog):
    gold_fixture.write_table(tmp_path, "gold", "dim_media", gold_fixture.DIM_MEDIA, None)
    warehouse = DuckDBWarehouse(tmp_path, max_age_seconds=3600)
    gold_fixture.DIM_MEDIA.head(1).to_parquet(
        tmp_path / "gold" / "dim_media" / "part-0.parquet", index=False
    )
    # Files that vanish between the listing and the read (a table being rewritten).
    real_glob = warehouse_module.parquet_glob
    monkeypatch.setattr(warehouse_module, "parquet_glob", lambda d: str(d / "gone-*.parquet"))
    with caplog.at_level(logging.WARNING, logger="wvi.services.warehouse"):
        warehouse.refresh()
    assert "could not load gold.dim_media (attempt 2)" in caplog.text
    assert len(warehouse.query("SELECT * FROM gold.dim_media")) == 3
    monkeypatch.setattr(warehouse_module, "parquet_glob", real_glob)
    warehouse.refresh()  # the signature was not taken: the next refresh loads it
    assert len(warehouse.query("SELECT * FROM gold.dim_media")) == 1


def test_table_signature(tmp_path):
    assert table_signature(tmp_path / "absent") == ()
    table = tmp_path / "t"
    for name in ("a=1/part-1.parquet", "a=0/part-0.parquet", "_temporary/x.parquet"):
        (table / name).parent.mkdir(parents=True, exist_ok=True)
        (table / name).write_bytes(b"12345")
    (table / "a=0" / ".part-0.parquet.crc").write_bytes(b"c")
    (table / "_SUCCESS").write_bytes(b"")
    os.utime(table / "a=0" / "part-0.parquet", ns=(1, 2))
    signature = table_signature(table)
    assert [(path, size) for path, size, _ in signature] == [
        ("a=0/part-0.parquet", 5),
        ("a=1/part-1.parquet", 5),
    ]
    assert signature[0][2] == 2
    os.utime(table / "a=0" / "part-0.parquet", ns=(1, 3))
    assert table_signature(table) != signature


def test_parquet_glob(tmp_path):
    assert parquet_glob(tmp_path / "absent") is None
    (tmp_path / "t" / "_temporary" / "0").mkdir(parents=True)
    (tmp_path / "t" / "_temporary" / "0" / "part.parquet").write_bytes(b"")
    assert parquet_glob(tmp_path / "t") is None
    (tmp_path / "t" / "a=1" / "b=x").mkdir(parents=True)
    (tmp_path / "t" / "a=1" / "b=x" / "part.parquet").write_bytes(b"")
    assert parquet_glob(tmp_path / "t") == str(tmp_path / "t" / "a=*" / "b=*" / "*.parquet")


def summing_threads(warehouse, count: int, go_on, errors: list) -> list[threading.Thread]:
    """`count` started threads, each querying the plays total while `go_on()` holds; any
    exception or wrong total lands in `errors`."""

    def work():
        try:
            while go_on():
                frame = warehouse.query("SELECT SUM(play_count) AS p FROM gold.fact_media_daily")
                assert int(frame["p"][0]) == 1149
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads


def test_concurrent_queries(warehouse):
    errors: list[BaseException] = []
    rounds = iter(range(60))  # 60 queries in all, shared by the threads
    threads = summing_threads(warehouse, 6, lambda: next(rounds, None) is not None, errors)
    refresher = threading.Thread(target=lambda: [warehouse.refresh() for _ in range(5)])
    refresher.start()
    for thread in [*threads, refresher]:
        thread.join()
    assert errors == []


def test_queries_run_while_tables_reload(tmp_path, loads):
    gold_fixture.build(tmp_path)
    warehouse = DuckDBWarehouse(tmp_path, max_age_seconds=3600)
    loads.clear()
    errors: list[BaseException] = []
    done = threading.Event()
    threads = summing_threads(warehouse, 4, lambda: not done.is_set(), errors)
    part = next((tmp_path / "gold" / "fact_media_daily").glob("date=*/*.parquet"))
    for step in range(1, 6):  # a new mtime each time: every refresh reloads the table
        os.utime(part, ns=(step, step * 1_000_000_000))
        warehouse.refresh()
    done.set()
    for thread in threads:
        thread.join()
    assert errors == []
    assert loads == ["gold.fact_media_daily"] * 5


def test_params_must_be_positional(warehouse):
    with pytest.raises(TypeError):
        warehouse.query("SELECT ?", {"a": 1})
    assert warehouse.query("SELECT ? AS x", ["o'k"])["x"].tolist() == ["o'k"]


def test_duckdb_refuses_s3_roots():
    with pytest.raises(WarehouseError, match="athena"):
        DuckDBWarehouse("s3://bucket/prefix")


def test_athena_sql_maps_schemas_to_databases():
    databases = (("gold", "wistia_gold"), ("silver", "wistia_silver"))
    sql = (
        "SELECT d.date, m.title FROM gold.fact_media_daily d "
        "JOIN gold.dim_media m ON m.media_id = d.media_id "
        "JOIN silver.media_engagement s ON s.media_id = d.media_id WHERE d.channel = ?"
    )
    out = athena_sql(sql, databases)
    tables = {
        f"{t.db}.{t.name}"
        for t in sqlglot.parse_one(out, read="athena").find_all(sqlglot.exp.Table)
    }
    assert tables == {
        "wistia_gold.fact_media_daily",
        "wistia_gold.dim_media",
        "wistia_silver.media_engagement",
    }
    assert out.count("?") == 1 and "gold." not in out.replace("wistia_gold.", "")


def test_athena_literals_quote_and_escape():
    assert athena_literal("x' OR '1'='1") == "'x'' OR ''1''=''1'"
    assert athena_literal("'; DROP TABLE t; --") == "'''; DROP TABLE t; --'"
    assert athena_literal(None) == "NULL"
    assert athena_literal(True) == "TRUE"
    assert athena_literal(7) == "7" and athena_literal(Decimal("1.5")) == "1.5"
    assert athena_literal(0.25) == "0.25"
    assert athena_literal(date(2026, 6, 1)) == "'2026-06-01'"
    assert athena_literal(datetime(2026, 6, 1, 12, 30)) == "'2026-06-01 12:30:00'"
    with pytest.raises(WarehouseError):
        athena_literal(float("nan"))
    with pytest.raises(WarehouseError):
        athena_literal(object())


def test_make_warehouse(tmp_path):
    assert isinstance(make_warehouse({"WVI_DATA_ROOT": str(tmp_path)}), DuckDBWarehouse)
    athena = make_warehouse(
        {
            "WVI_WAREHOUSE": "athena",
            "WVI_ATHENA_WORKGROUP": "wvi",
            "WVI_ATHENA_OUTPUT": "s3://results/wvi/",
            "WVI_AWS_REGION": "eu-west-1",
            "WVI_ATHENA_DATABASE": "gold_db",
        }
    )
    assert isinstance(athena, AthenaWarehouse)
    assert athena.databases["gold"] == "gold_db"
    with pytest.raises(WarehouseError):
        make_warehouse({"WVI_WAREHOUSE": "athena"})  # no workgroup / output
    with pytest.raises(WarehouseError):
        make_warehouse({"WVI_WAREHOUSE": "sqlite"})


def test_utc_timestamps_read_as_utc_whatever_the_local_zone(tmp_path, monkeypatch):
    import pyarrow as pa
    import pyarrow.parquet as pq

    monkeypatch.setenv("TZ", "America/New_York")
    folder = tmp_path / "gold" / "dim_visitor"
    folder.mkdir(parents=True)
    instant = pa.array([datetime(2026, 1, 1, 12)], type=pa.timestamp("us", tz="UTC"))
    pq.write_table(pa.table({"visitor_id": ["v1"], "first_seen_at": instant}), folder / "p.parquet")
    frame = DuckDBWarehouse(tmp_path).query("SELECT first_seen_at FROM gold.dim_visitor")
    assert frame["first_seen_at"].tolist() == [pd.Timestamp(2026, 1, 1, 12)]


def test_queries_wait_for_a_load_in_the_background(gold_root, monkeypatch):
    release = threading.Event()
    original = DuckDBWarehouse._refresh

    def held_load(self):
        release.wait(60)
        original(self)

    monkeypatch.setattr(DuckDBWarehouse, "_refresh", held_load)
    warehouse = DuckDBWarehouse(gold_root, load_in_background=True)  # returns before loading
    answers: list = []
    asking = threading.Thread(target=lambda: answers.append(queries.data_range(warehouse)))
    asking.start()
    asking.join(0.5)
    assert asking.is_alive() and not answers  # it waits: no answer from tables not loaded yet
    release.set()
    asking.join(60)
    assert answers == [(date(2026, 6, 3), date(2026, 6, 20))]
    warehouse.close()


def test_a_failed_load_in_the_background_is_the_first_query_s_error(tmp_path, monkeypatch):
    def broken(self):
        raise OSError("disk gone")

    monkeypatch.setattr(DuckDBWarehouse, "_refresh", broken)
    warehouse = DuckDBWarehouse(tmp_path, load_in_background=True)
    with pytest.raises(OSError, match="disk gone"):
        warehouse.query("SELECT 1")


@pytest.fixture
def watching(tmp_path):
    warehouse = DuckDBWarehouse(tmp_path, max_age_seconds=0.1)
    warehouse.watch()
    yield warehouse
    warehouse.close()  # stops the thread


def media_rows(warehouse) -> int:
    return len(warehouse.query("SELECT * FROM gold.dim_media"))


def test_a_watching_warehouse_loads_new_files_before_anyone_asks(tmp_path, watching, loads):
    gold_fixture.write_table(tmp_path, "gold", "dim_media", gold_fixture.DIM_MEDIA, None)
    wait_for(lambda: "gold.dim_media" in loads)  # no query made
    wait_for(lambda: media_rows(watching) == 3)


def test_nothing_reloads_by_itself_while_a_run_holds_the_lock(tmp_path, watching, loads):
    with RunLock(lock_path(str(tmp_path)), "a-run"):
        gold_fixture.write_table(tmp_path, "gold", "dim_media", gold_fixture.DIM_MEDIA, None)
        time.sleep(0.5)  # several turns of the watching thread
        # Neither the thread nor a query older than max_age_seconds reloads a table then.
        assert media_rows(watching) == 0
        assert loads == []
    wait_for(lambda: "gold.dim_media" in loads)  # the run is over: loaded unasked
    wait_for(lambda: media_rows(watching) == 3)


def test_an_explicit_refresh_loads_even_while_a_run_holds_the_lock(tmp_path):
    warehouse = DuckDBWarehouse(tmp_path, max_age_seconds=3600)
    with RunLock(lock_path(str(tmp_path)), "a-run"):
        gold_fixture.write_table(tmp_path, "gold", "dim_media", gold_fixture.DIM_MEDIA, None)
        warehouse.refresh()  # the Admin page's, once it sees a run complete
        assert len(warehouse.query("SELECT * FROM gold.dim_media")) == 3
    warehouse.close()
