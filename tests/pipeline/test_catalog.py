"""Catalog writes: create once (external, explicit path), then insertInto with dynamic overwrite."""

from __future__ import annotations

import time
from datetime import date

import pandas as pd
import pytest
from pyspark.sql.types import DateType, LongType, StringType, StructField, StructType

from pipeline.catalog import (
    CatalogError,
    TableSpec,
    describe_table,
    ensure_database,
    ensure_table,
    partition_values,
    partitions,
    write_table,
)
from tests.spark_fixture import unique_db

SPEC = TableSpec(
    "daily",
    StructType(
        [
            StructField("media_id", StringType()),
            StructField("plays", LongType()),
            StructField("date", DateType()),
        ]
    ),
    ("date",),
)


def frame(spark, rows):
    return spark.createDataFrame(pd.DataFrame(rows, columns=SPEC.columns), SPEC.schema)


def test_table_spec_rules():
    with pytest.raises(ValueError, match="lowercase"):
        TableSpec("Daily", SPEC.schema, ("date",))
    with pytest.raises(ValueError, match="last"):
        TableSpec("daily", SPEC.schema, ("media_id",))


def test_dynamic_overwrite_keeps_other_partitions_and_the_table(spark, tmp_path):
    db = unique_db()
    ensure_database(spark, db, str(tmp_path))
    path = str(tmp_path / "daily")
    d1, d2, d3 = date(2026, 5, 1), date(2026, 5, 2), date(2026, 5, 3)
    assert write_table(spark, frame(spark, [("a", 1, d1), ("a", 2, d2)]), db, SPEC, path) == 2
    details = describe_table(spark, db, "daily")
    assert details["Type"] == "EXTERNAL" and details["Location"].endswith("/daily")
    assert details["Provider"] == "parquet"
    created = details["Created Time"]
    time.sleep(1.1)  # 'Created Time' has one-second resolution

    # Columns in another order: write_table selects them in table order (insertInto is
    # positional).
    second = frame(spark, [("a", 20, d2), ("b", 3, d3)]).select("date", "plays", "media_id")
    assert write_table(spark, second, db, SPEC, path) == 2
    rows = {(r.media_id, r.date): r.plays for r in spark.table(f"{db}.daily").collect()}
    assert rows == {("a", d1): 1, ("a", d2): 20, ("b", d3): 3}  # d1 kept, d2 replaced
    assert partition_values(spark, db, "daily") == [d.isoformat() for d in (d1, d2, d3)]
    assert describe_table(spark, db, "daily")["Created Time"] == created
    assert not ensure_table(spark, db, SPEC, path)  # exists: not created again


def test_existing_files_are_registered_when_the_table_is_created(spark, tmp_path):
    db, other = unique_db(), unique_db()
    path = str(tmp_path / "daily")
    ensure_database(spark, db)
    write_table(spark, frame(spark, [("a", 1, date(2026, 5, 1))]), db, SPEC, path)
    ensure_database(spark, other)  # e.g. a new metastore over old files
    assert ensure_table(spark, other, SPEC, path)
    assert partitions(spark, other, "daily") == ["date=2026-05-01"]
    assert spark.table(f"{other}.daily").count() == 1


def test_a_mismatching_table_is_an_error_not_a_recreate(spark, tmp_path):
    db = unique_db()
    ensure_database(spark, db)
    ensure_table(spark, db, SPEC, str(tmp_path / "daily"))
    with pytest.raises(CatalogError, match="points at"):
        ensure_table(spark, db, SPEC, str(tmp_path / "elsewhere"))
    renamed = TableSpec(
        "daily",
        StructType([StructField("media", StringType()), *SPEC.schema.fields[1:]]),
        ("date",),
    )
    with pytest.raises(CatalogError, match="columns"):
        ensure_table(spark, db, renamed, str(tmp_path / "daily"))
    with pytest.raises(ValueError, match="lowercase"):
        ensure_database(spark, "Bad-Name")
