"""Bronze → Silver for one load date: read the pages, validate, rename/cast, deduplicate.

Reading is Spark-native: the pages of each complete run directory are read with the JSON
reader (multi-line, permissive, explicit all-string schema), each row's file is matched to its
manifest entry (`_metadata.file_path` → part key), and the manifest supplies the run, the
extraction time and — for the per-media streams whose bodies do not carry it — the media id.
Pages the manifest marks as not valid JSON become one quarantine row each, with the text as
received. Within the load date the latest extraction of each key wins (`common.silver_order`:
the later run, then the later page, then the later position in the page).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import (
    BooleanType,
    DateType,
    IntegerType,
    StringType,
    StructField,
    StructType,
)

from pipeline.storage import Storage
from pipeline.transform.bronze_index import PartRef
from pipeline.transform.common import latest, silver_order
from pipeline.transform.pii import protect_email_col, protect_ip_col
from pipeline.transform.schemas import CORRUPT, bronze_schema
from pipeline.transform.validate import (
    MALFORMED_PAGE,
    REASON,
    quarantine_rows,
    redact_raw,
    tag,
    valid_rows,
)

SILVER_KEYS: dict[str, tuple[str, ...]] = {
    "medias": ("media_id",),
    "media_stats": ("media_id",),
    "media_by_date": ("media_id", "date"),
    "events": ("event_key",),
    "media_engagement": ("media_id",),
}

_PARTS_SCHEMA = StructType(
    [
        StructField("_part", StringType(), False),
        StructField("_stream", StringType(), False),
        StructField("_run_id", StringType(), False),
        StructField("_extracted_at", StringType()),
        StructField("_media_id", StringType()),
        StructField("_valid", BooleanType(), False),
        StructField("_part_no", IntegerType(), False),
        StructField("_load_date", DateType()),
    ]
)


def parts_frame(spark: SparkSession, refs: Sequence[PartRef], load_date) -> DataFrame:
    """The manifest entries as a small DataFrame (broadcast into the joins).

    Built from pandas through Arrow, so that no Python worker is needed to read it.
    """
    rows = [
        (r.part, r.stream, r.run_id, r.extracted_at, r.media_id, r.valid, r.part_no, load_date)
        for r in refs
    ]
    frame = pd.DataFrame(rows, columns=_PARTS_SCHEMA.fieldNames())
    df = spark.createDataFrame(frame, _PARTS_SCHEMA)
    return df.withColumn("_extracted_at", F.col("_extracted_at").cast("timestamp"))


def _part_key() -> F.Column:
    """The part key (`bronze/...`) of the row's file, whatever the URI scheme and root."""
    after_root = F.substring_index(F.col("_metadata.file_path"), "/bronze/", -1)
    return F.concat(F.lit("bronze/"), after_root)


def read_bronze(
    spark: SparkSession,
    storage: Storage,
    stream: str,
    refs: Sequence[PartRef],
    load_date,
    *,
    by_file: bool = False,
) -> DataFrame:
    """The records of the valid pages of `stream` among `refs`, with lineage columns.

    Reads the run directories (one listing each) unless `by_file`; rows of files that the
    manifest does not list as valid pages of this stream are dropped by the join.
    """
    valid = [r for r in refs if r.stream == stream and r.valid]
    schema = bronze_schema(stream)
    if not valid:
        empty = spark.createDataFrame(pd.DataFrame(columns=schema.fieldNames()), schema)
        lineage = parts_frame(spark, [], load_date).drop("_stream", "_valid")
        return empty.crossJoin(lineage).withColumn("_position", F.lit(0).cast("bigint"))
    if by_file:
        paths = sorted(storage.uri(r.part) for r in valid)
    else:
        paths = sorted({storage.uri(r.run_dir) for r in valid})
    raw = (
        spark.read.schema(schema)
        .option("multiLine", True)
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", CORRUPT)
        .json(paths)
        .withColumn("_part", _part_key())
        .withColumn("_position", F.monotonically_increasing_id())
    )
    parts = parts_frame(spark, valid, load_date).drop("_stream", "_valid")
    return raw.join(F.broadcast(parts), "_part")


def malformed_pages(
    spark: SparkSession, storage: Storage, refs: Sequence[PartRef], load_date, pii: str = "masked"
) -> DataFrame:
    """One quarantine row per page that was not valid JSON, with its text as received."""
    bad = [r for r in refs if not r.valid]
    parts = parts_frame(spark, bad, load_date)
    if bad:
        texts = (
            spark.read.text([storage.uri(r.part) for r in bad], wholetext=True)
            .select(_part_key().alias("_part"), redact_raw(F.col("value"), pii).alias("raw"))
            .dropDuplicates(["_part"])
        )
        parts = parts.join(texts, "_part", "left")
    else:
        parts = parts.withColumn("raw", F.lit(None).cast("string"))
    return parts.select(
        F.col("_stream").alias("stream"),
        F.col("_run_id").alias("run_id"),
        F.lit(MALFORMED_PAGE).alias("reason"),
        F.col("raw"),
        F.col("_part").alias("part"),
        F.col("_load_date").alias("load_date"),
    )


@dataclass
class SilverStream:
    """One stream's Silver rows; writing `silver` also observes the rejected records."""

    stream: str
    silver: DataFrame
    observation: Observation

    def rejected(self) -> tuple[int, list[str]]:
        """(rejected records, their part keys) — available once `silver` was written."""
        metrics = self.observation.get
        parts = [p for p in (metrics.get("parts") or "").split("\n") if p]
        return int(metrics.get("rejected") or 0), sorted(parts)


def prepare_stream(
    raw: DataFrame, stream: str, pii: str = "masked", pii_key: bytes | None = None
) -> SilverStream:
    """Validate, type and deduplicate one stream's records (latest extraction wins); IPs and
    e-mails protected per `pii` (`pii_key`: the key of the hashed mode, see `pii.check_key`).

    The quarantine is not part of this plan: it is rebuilt afterwards from the few pages that
    had rejected records (`rejected_records`), so the pages are parsed once, not twice.
    """
    tagged = tag(raw, stream)
    rejected = F.col(REASON).isNotNull()
    observation = Observation()
    observed = tagged.observe(
        observation,
        F.sum(F.when(rejected, 1).otherwise(0)).alias("rejected"),
        F.concat_ws("\n", F.collect_set(F.when(rejected, F.col("_part")))).alias("parts"),
    )
    silver = latest(valid_rows(observed, stream), SILVER_KEYS[stream], silver_order())
    if stream == "events":
        silver = silver.withColumn("ip_address", protect_ip_col(F.col("ip_address"), pii, pii_key))
        silver = silver.withColumn("email", protect_email_col(F.col("email"), pii, pii_key))
    return SilverStream(stream, silver, observation)


def rejected_records(
    spark: SparkSession,
    storage: Storage,
    stream: str,
    refs: Sequence[PartRef],
    parts: Sequence[str],
    load_date,
    pii: str = "masked",
) -> DataFrame | None:
    """Quarantine rows of the rejected records in `parts` (re-reads only those pages)."""
    wanted = set(parts)
    subset = [r for r in refs if r.part in wanted and r.stream == stream]
    if not subset:
        return None
    raw = read_bronze(spark, storage, stream, subset, load_date, by_file=True)
    return quarantine_rows(tag(raw, stream), stream, pii)
