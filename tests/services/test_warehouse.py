"""DuckDBWarehouse over Parquet folders; the Athena SQL rewrite and parameter literals."""

from __future__ import annotations

import threading
from datetime import date, datetime
from decimal import Decimal

import pandas as pd
import pytest
import sqlglot

from services.warehouse import (
    GOLD_TABLES,
    AthenaWarehouse,
    DuckDBWarehouse,
    WarehouseError,
    athena_literal,
    athena_sql,
    make_warehouse,
    parquet_glob,
)
from tests.services import gold_fixture


def test_views_have_the_contract_columns(warehouse):
    for table, columns in GOLD_TABLES.items():
        frame = warehouse.query(f"SELECT * FROM gold.{table} LIMIT 0")
        assert list(frame.columns) == list(columns), table


def test_partition_column_comes_from_the_folder_and_staging_is_ignored(warehouse):
    frame = warehouse.query(
        "SELECT date, COUNT(*) AS n FROM gold.fact_media_daily GROUP BY date ORDER BY date"
    )
    days = [d.date() for d in pd.to_datetime(frame["date"])]
    assert date(2026, 6, 9) not in days  # only in .spark-staging-1/
    assert days == sorted({d for d in gold_fixture.FACT_MEDIA_DAILY["date"]})
    typed = warehouse.query("SELECT typeof(date) AS t FROM gold.fact_media_daily LIMIT 1")
    assert typed["t"].tolist() == ["DATE"]


def test_missing_tables_are_empty_views(tmp_path):
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


def test_new_partitions_show_without_refresh(tmp_path):
    daily = gold_fixture.FACT_MEDIA_DAILY
    first = daily[daily["date"] == date(2026, 6, 10)]
    gold_fixture.write_table(tmp_path, "gold", "fact_media_daily", first, "date")
    warehouse = DuckDBWarehouse(tmp_path, max_age_seconds=3600)
    assert len(warehouse.query("SELECT * FROM gold.fact_media_daily")) == 2
    later = tmp_path / "gold" / "fact_media_daily" / "date=2026-06-11"
    later.mkdir()
    rows = daily[daily["date"] == date(2026, 6, 11)].drop(columns=["date"])
    rows.to_parquet(later / "part-0.parquet", index=False)
    assert len(warehouse.query("SELECT * FROM gold.fact_media_daily")) == 3


def test_removed_files_trigger_a_refresh(tmp_path):
    gold_fixture.write_table(tmp_path, "gold", "dim_media", gold_fixture.DIM_MEDIA, None)
    warehouse = DuckDBWarehouse(tmp_path, max_age_seconds=3600)
    (tmp_path / "gold" / "dim_media" / "part-0.parquet").unlink()
    assert warehouse.query("SELECT * FROM gold.dim_media").empty


def test_parquet_glob(tmp_path):
    assert parquet_glob(tmp_path / "absent") is None
    (tmp_path / "t" / "_temporary" / "0").mkdir(parents=True)
    (tmp_path / "t" / "_temporary" / "0" / "part.parquet").write_bytes(b"")
    assert parquet_glob(tmp_path / "t") is None
    (tmp_path / "t" / "a=1" / "b=x").mkdir(parents=True)
    (tmp_path / "t" / "a=1" / "b=x" / "part.parquet").write_bytes(b"")
    assert parquet_glob(tmp_path / "t") == str(tmp_path / "t" / "a=*" / "b=*" / "*.parquet")


def test_concurrent_queries(warehouse):
    errors: list[BaseException] = []

    def work():
        try:
            for _ in range(10):
                frame = warehouse.query("SELECT SUM(play_count) AS p FROM gold.fact_media_daily")
                assert int(frame["p"][0]) == 1149
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    refresher = threading.Thread(target=lambda: [warehouse.refresh() for _ in range(5)])
    refresher.start()
    for thread in [*threads, refresher]:
        thread.join()
    assert errors == []


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
