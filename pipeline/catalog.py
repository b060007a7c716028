"""Catalog writes that Glue and Athena accept (ARCHITECTURE §8, notes/aws-glue-athena.md §1.4).

Each table is created once — external, with an explicit path, lowercase names, partition
columns last — and then only written with `insertInto` in dynamic partition-overwrite mode,
which replaces exactly the partitions present in the written DataFrame and never re-creates
the catalog entry. `saveAsTable(mode="overwrite")` is never used. Database names are
parameters so that tests can use a fresh database per test in one Spark session.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


class CatalogError(RuntimeError):
    """An existing table does not match what the pipeline is about to write."""


@dataclass(frozen=True)
class TableSpec:
    """A table's name, columns (partition columns last) and partition columns."""

    name: str
    schema: StructType
    partition_by: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        names = [f.name for f in self.schema.fields]
        for name in (self.name, *names):
            if not _NAME.match(name):
                raise ValueError(f"not a lowercase catalog name: {name!r}")
        if tuple(names[len(names) - len(self.partition_by) :]) != self.partition_by:
            raise ValueError(f"{self.name}: partition columns must come last: {names}")

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.schema.fields]


def qualified(database: str, table: str) -> str:
    return f"`{database}`.`{table}`"


def ensure_database(spark: SparkSession, database: str, location: str | None = None) -> None:
    """Create the database if it does not exist (on Glue it usually already does)."""
    if not _NAME.match(database):
        raise ValueError(f"not a lowercase database name: {database!r}")
    if spark.catalog.databaseExists(database):
        return
    where = f" LOCATION '{_escape(location)}'" if location else ""
    spark.sql(f"CREATE DATABASE IF NOT EXISTS `{database}`{where}")


def ensure_table(spark: SparkSession, database: str, spec: TableSpec, path: str) -> bool:
    """Create `database.table` at `path` unless it exists; returns True if it was created.

    An existing table must have the same columns in the same order (insertInto is positional)
    and the same location; anything else is a `CatalogError`, never a silent re-create.
    """
    name = qualified(database, spec.name)
    described = _describe(spark, database, spec.name)
    if described is not None:
        existing, details = described
        if existing != spec.columns:
            raise CatalogError(
                f"{database}.{spec.name} has columns {existing}, expected {spec.columns}; "
                "migrate or drop the table (its data stays at its external path)"
            )
        location = details.get("Location", "")
        if location and _norm_path(location) != _norm_path(path):
            raise CatalogError(
                f"{database}.{spec.name} points at {location}, not {path}; "
                "use another database name or drop the table"
            )
        return False
    columns = ", ".join(f"`{f.name}` {f.dataType.simpleString()}" for f in spec.schema.fields)
    partitioned = (
        f" PARTITIONED BY ({', '.join(f'`{c}`' for c in spec.partition_by)})"
        if spec.partition_by
        else ""
    )
    spark.sql(
        f"CREATE TABLE IF NOT EXISTS {name} ({columns}) USING parquet{partitioned} "
        f"LOCATION '{_escape(path)}'"
    )
    if spec.partition_by and _has_files(spark, path):
        # Data already at the path (a lost local metastore, a new catalog over old files).
        spark.sql(f"ALTER TABLE {name} RECOVER PARTITIONS")
    return True


def write_table(
    spark: SparkSession,
    df: DataFrame,
    database: str,
    spec: TableSpec,
    path: str,
    *,
    ensure: bool = True,
) -> int:
    """Replace the partitions of `spec` present in `df` (the whole table if unpartitioned).

    Creates the table first if needed (`ensure=False`: the caller already did). Returns the
    number of rows written (observed during the write: no extra pass over the data).
    """
    if ensure:
        ensure_table(spark, database, spec, path)
    spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
    fields = spec.schema.fields
    ordered = df.select(*[F.col(f.name).cast(f.dataType).alias(f.name) for f in fields])
    observation = Observation()
    observed = ordered.observe(observation, F.count(F.lit(1)).alias("rows"))
    observed.write.mode("overwrite").insertInto(qualified(database, spec.name))
    return int(observation.get.get("rows", 0))


def describe_table(spark: SparkSession, database: str, table: str) -> dict[str, str]:
    """The `DESCRIBE TABLE EXTENDED` details ('Created Time', 'Location', 'Type', ...)."""
    described = _describe(spark, database, table)
    if described is None:
        raise CatalogError(f"no table {database}.{table}")
    return described[1]


def _describe(
    spark: SparkSession, database: str, table: str
) -> tuple[list[str], dict[str, str]] | None:
    """(columns in order, details) of a table in one metastore call; None if it is missing."""
    try:
        rows = spark.sql(f"DESCRIBE TABLE EXTENDED {qualified(database, table)}").collect()
    except AnalysisException as exc:
        if "TABLE_OR_VIEW_NOT_FOUND" in str(exc) or "not found" in str(exc).lower():
            return None
        raise
    columns: list[str] = []
    details: dict[str, str] = {}
    section = "columns"
    for row in rows:
        key = (row.col_name or "").strip()
        if key.startswith("# Detailed Table Information"):
            section = "details"
        elif not key or key.startswith("#"):
            section = "details" if section == "details" else "other"
        elif section == "columns":
            columns.append(key)
        elif section == "details":
            details[key] = (row.data_type or "").strip()
    return columns, details


def partitions(spark: SparkSession, database: str, table: str) -> list[str]:
    """The table's partitions as `col=value` strings, sorted."""
    rows = spark.sql(f"SHOW PARTITIONS {qualified(database, table)}").collect()
    return sorted(row[0] for row in rows)


def partition_values(spark: SparkSession, database: str, table: str) -> list[str]:
    """The values of a table's single partition column, sorted (metadata only)."""
    return sorted(p.split("=", 1)[1] for p in partitions(spark, database, table))


def _has_files(spark: SparkSession, path: str) -> bool:
    """Whether `path` exists and holds anything (through Hadoop's FileSystem: local or S3)."""
    jvm = spark.sparkContext._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    fs = hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    return bool(fs.exists(hadoop_path) and len(fs.listStatus(hadoop_path)) > 0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _norm_path(path: str) -> str:
    path = re.sub(r"^file:(//)?", "", path)
    path = re.sub(r"^s3[an]://", "s3://", path)
    return path.rstrip("/")


__all__ = [
    "CatalogError",
    "TableSpec",
    "describe_table",
    "ensure_database",
    "ensure_table",
    "partition_values",
    "partitions",
    "qualified",
    "write_table",
]
