"""The job steps that both the Glue scripts and the local runner call: read → transform → write.

Each step takes a SparkSession, the data root and the load date, and returns what it did
(row counts, seconds) so that the caller can record it. Database names are parameters.

- `bronze_to_silver`: the complete runs of the load date → Silver partitions `load_date=L`.
- `silver_to_gold`: the dates that load touched → Gold (facts by date, summary by load date,
  dims merged and rewritten).
- `run_quality_checks`: checks Gold for the load, writes the report, returns it.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from pipeline.catalog import (
    TableSpec,
    ensure_database,
    ensure_table,
    partition_values,
    qualified,
    write_table,
)
from pipeline.channels import ChannelRules, load_rules
from pipeline.quality import (
    QualityReport,
    check_gold,
    check_quarantine,
    check_unknown_fields,
    unknown_fields,
)
from pipeline.state import commit_watermarks, pending_key
from pipeline.storage import Storage, open_storage
from pipeline.transform import gold
from pipeline.transform.bronze_index import complete_runs, part_refs
from pipeline.transform.pii import check_key, check_mode
from pipeline.transform.schemas import (
    DIM_MEDIA,
    DIM_VISITOR,
    FACT_MEDIA_DAILY,
    FACT_MEDIA_ENGAGEMENT,
    GOLD_TABLES,
    MEDIA_METRICS_SUMMARY,
    SILVER_FOR_STREAM,
    SILVER_MEDIA_SOURCES,
    SILVER_QUARANTINE,
    SILVER_TABLES,
    STREAMS,
)
from pipeline.transform.silver import (
    malformed_pages,
    prepare_stream,
    read_bronze,
    rejected_records,
)

SILVER_DB = "wistia_silver"
GOLD_DB = "wistia_gold"
QUALITY_LATEST = "quality/latest.json"
# Present while silver_to_gold rewrites the dims (see there).
DIMS_MARKER = "state/gold_dims_rewrite.json"


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _table_path(storage: Storage, layer: str, spec: TableSpec) -> str:
    return storage.uri(f"{layer}/{spec.name}")


def _write(
    spark: SparkSession, storage: Storage, layer: str, db: str, spec: TableSpec, df: DataFrame
) -> int:
    # The step ensured its tables once at the start (`_ensure`).
    return write_table(spark, df, db, spec, _table_path(storage, layer, spec), ensure=False)


def _ensure(spark: SparkSession, storage: Storage, layer: str, db: str, specs) -> None:
    ensure_database(spark, db, storage.uri(layer))
    for spec in specs:
        ensure_table(spark, db, spec, _table_path(storage, layer, spec))


def prepare_catalog(
    spark: SparkSession,
    data_root: str,
    silver_db: str = SILVER_DB,
    gold_db: str | None = GOLD_DB,
) -> None:
    """Create the Silver (and, unless `gold_db` is None, Gold) databases and tables that do not
    exist yet, and check those that do. Each step does it first unless told `catalog_ready`
    (the local runner does it once, while ingest runs)."""
    storage = open_storage(data_root)
    _ensure(spark, storage, "silver", silver_db, [*SILVER_TABLES.values(), SILVER_MEDIA_SOURCES])
    if gold_db is not None:
        _ensure(spark, storage, "gold", gold_db, GOLD_TABLES.values())


# ---------------------------------------------------------------- Bronze → Silver
def bronze_to_silver(
    spark: SparkSession,
    data_root: str,
    load_date: date | str,
    *,
    silver_db: str = SILVER_DB,
    pii: str = "masked",
    pii_key: str | bytes | None = None,
    catalog_ready: bool = False,
) -> dict[str, Any]:
    """Build the Silver partitions `load_date=L` from every complete Bronze run of L, with IPs
    and e-mails protected per `pii` (`pii_key`: required for `hashed`, see `pii.check_key`).
    `catalog_ready`: `prepare_catalog` already ran for these databases.

    Returns `{"load_date", "runs", "parts", "malformed_pages", "rejected_records":
    {stream: n}, "rows": {table: rows written}, "timings": {table: s}, "seconds"}`; `rows`
    has every Silver table including `quarantine`. Idempotent: a re-run replaces the same
    partitions (dynamic overwrite) with the same rows. The pages are parsed once: the rows
    rejected while writing Silver are counted on the fly (a Spark observation), and only the
    pages that had any are read again to build their quarantine rows.
    """
    started = time.perf_counter()
    load_date, pii = _as_date(load_date), check_mode(pii)
    key = check_key(pii, pii_key)
    storage = open_storage(data_root)
    if not catalog_ready:
        prepare_catalog(spark, data_root, silver_db, None)
    manifests = complete_runs(storage, load_date)
    refs = part_refs(manifests)
    quarantines: list[DataFrame] = [malformed_pages(spark, storage, refs, load_date, pii)]
    rows: dict[str, int] = {}
    rejected: dict[str, int] = {}
    timings: dict[str, float] = {}
    for stream in STREAMS:
        step = time.perf_counter()
        raw = read_bronze(spark, storage, stream, refs, load_date)
        prepared = prepare_stream(raw, stream, pii, key)
        spec = SILVER_FOR_STREAM[stream]
        rows[spec.name] = _write(spark, storage, "silver", silver_db, spec, prepared.silver)
        rejected[stream], parts = prepared.rejected()
        bad = rejected_records(spark, storage, stream, refs, parts, load_date, pii)
        if bad is not None:
            quarantines.append(bad)
        timings[spec.name] = round(time.perf_counter() - step, 2)
    rows[SILVER_QUARANTINE.name] = 0
    if any(not r.valid for r in refs) or any(rejected.values()):
        quarantine = quarantines[0]
        for more in quarantines[1:]:
            quarantine = quarantine.unionByName(more)
        rows[SILVER_QUARANTINE.name] = _write(
            spark, storage, "silver", silver_db, SILVER_QUARANTINE, quarantine
        )
    return {
        "load_date": load_date.isoformat(),
        "runs": [m["run_id"] for m in manifests],
        "parts": sum(r.valid for r in refs),
        "malformed_pages": sum(not r.valid for r in refs),
        "rejected_records": rejected,
        "rows": rows,
        "timings": timings,
        "seconds": round(time.perf_counter() - started, 2),
    }


# ---------------------------------------------------------------- Silver → Gold
def silver_to_gold(
    spark: SparkSession,
    data_root: str,
    load_date: date | str,
    *,
    silver_db: str = SILVER_DB,
    gold_db: str = GOLD_DB,
    rules: ChannelRules | None = None,
    catalog_ready: bool = False,
) -> dict[str, Any]:
    """Recompute Gold for the dates that the Silver load `load_date=L` touched
    (`catalog_ready`: as for `bronze_to_silver`).

    Reads only Silver partitions with load_date ≥ min(touched dates) (latest load wins), the
    small `medias` and `media_sources` tables, and the current dims. Replaces the fact
    partitions of the touched dates and the summary partition of L, and rewrites the dims.
    Returns `{"load_date", "dates", "rows": {table: count}, "seconds"}` (fact counts are
    those of the touched dates).
    """
    clock = _Clock()
    load_date = _as_date(load_date)
    rules = rules or load_rules()
    storage = open_storage(data_root)
    if not catalog_ready:
        prepare_catalog(spark, data_root, silver_db, gold_db)

    def silver(name: str) -> DataFrame:
        return spark.table(qualified(silver_db, name))

    def write(spec: TableSpec, df: DataFrame, layer: str = "gold") -> int:
        count = _write(spark, storage, layer, silver_db if layer == "silver" else gold_db, spec, df)
        clock.lap(spec.name)
        return count

    this_load = F.col("load_date") == F.lit(load_date)
    dates = gold.touched_dates(
        silver("events").where(this_load), silver("media_daily").where(this_load)
    )
    # The loads that can hold events of the touched dates: load_date ≥ min(dates).
    first = str(dates[0]) if dates else "9999-12-31"
    loads = [d for d in partition_values(spark, silver_db, "events") if d >= first]
    single_load = len(loads) <= 1
    events = gold.latest_events(silver("events"), dates, single_load=single_load)
    if not single_load:  # the deduplicated events feed five tables: compute them once
        events = events.persist(StorageLevel.MEMORY_AND_DISK)
    daily = gold.latest_media_daily(silver("media_daily"), dates)
    stats = silver("media_stats").where(this_load)
    clock.lap("plan")

    rows: dict[str, int] = {}
    if dates:
        write(SILVER_MEDIA_SOURCES, gold.media_sources(events), "silver")
    majority = gold.majority_sources(silver(SILVER_MEDIA_SOURCES.name))
    other_ids = daily.select("media_id").union(stats.select("media_id"))
    existing_media = spark.table(qualified(gold_db, DIM_MEDIA.name))
    existing_visitors = spark.table(qualified(gold_db, DIM_VISITOR.name))
    # The dims are rewritten whole (they have no partitions) from their previous rows plus
    # this load's events. A rewrite killed half-way would leave them partial, and the next
    # merge would build on that: a marker spans the rewrite, and a run that finds it rebuilds
    # the dims from all of Silver instead of merging.
    dim_events = events
    if storage.exists(DIMS_MARKER):
        dim_events = gold.latest_events(silver("events"), _all_dates(silver("events")))
        existing_media = existing_media.where(F.lit(False))
        existing_visitors = existing_visitors.where(F.lit(False))
    storage.put(DIMS_MARKER, json.dumps({"load_date": load_date.isoformat()}).encode())
    dim_media = gold.build_dim_media(
        silver("medias"), majority, dim_events, other_ids, existing_media, rules
    ).localCheckpoint(eager=True)  # it replaces the table it was read from
    dim_visitor = gold.build_dim_visitor(dim_events, existing_visitors).localCheckpoint(eager=True)
    rows[DIM_MEDIA.name] = write(DIM_MEDIA, dim_media)
    rows[DIM_VISITOR.name] = write(DIM_VISITOR, dim_visitor)
    storage.delete(DIMS_MARKER)

    rows[FACT_MEDIA_ENGAGEMENT.name] = rows[FACT_MEDIA_DAILY.name] = 0
    if dates:
        engagement = gold.build_fact_media_engagement(events, dim_media)
        rows[FACT_MEDIA_ENGAGEMENT.name] = write(FACT_MEDIA_ENGAGEMENT, engagement)
        fact_daily = gold.build_fact_media_daily(daily, events, dim_media)
        rows[FACT_MEDIA_DAILY.name] = write(FACT_MEDIA_DAILY, fact_daily)
    summary = gold.build_media_metrics_summary(stats, dim_media)
    rows[MEDIA_METRICS_SUMMARY.name] = write(MEDIA_METRICS_SUMMARY, summary)
    if not single_load:
        events.unpersist()
    return {
        "load_date": load_date.isoformat(),
        "dates": [d.isoformat() for d in dates],
        "silver_loads_read": loads,
        "rows": rows,
        "timings": clock.laps,
        "seconds": clock.total(),
    }


def _all_dates(events: DataFrame) -> list[date]:
    """Every event day in Silver (for a rebuild of the dims)."""
    return sorted(r.date for r in events.select("date").distinct().collect() if r.date)


class _Clock:
    """Seconds per phase of a step."""

    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self.last, 2)
        self.last = now

    def total(self) -> float:
        return round(time.perf_counter() - self.started, 2)


# ---------------------------------------------------------------- quality
def run_quality_checks(
    spark: SparkSession,
    data_root: str,
    load_date: date | str,
    *,
    gold_db: str = GOLD_DB,
    silver_db: str = SILVER_DB,
    max_quarantined: int = 0,
    engagement_tolerance: float = 0.0,
    write: bool = True,
    catalog_ready: bool = False,
) -> QualityReport:
    """Check Gold for one load; write the report; return it (it never raises on a failure).

    Scope: the dims whole, the fact partitions of the dates the load touched, the summary
    partition of the load; plus the load's quarantine and a sample of its Bronze pages for
    unknown fields. `report.passed` is False when a blocking check failed — callers fail the
    run then (`report.raise_for_failures()` raises `QualityCheckFailed`). The report goes to
    `quality/load_date=L/<timestamp>.json` and `quality/latest.json`.
    """
    load_date = _as_date(load_date)
    storage = open_storage(data_root)
    report = QualityReport(load_date.isoformat())
    if not catalog_ready:  # as for `bronze_to_silver`
        prepare_catalog(spark, data_root, silver_db, gold_db)

    this_load = F.col("load_date") == F.lit(load_date)
    silver_events = spark.table(qualified(silver_db, "events")).where(this_load)
    silver_daily = spark.table(qualified(silver_db, "media_daily")).where(this_load)
    dates = gold.touched_dates(silver_events, silver_daily)
    in_dates = F.col("date").isin(dates) if dates else F.lit(False)

    def table(name: str) -> DataFrame:
        return spark.table(qualified(gold_db, name))

    tables = {
        DIM_MEDIA.name: table(DIM_MEDIA.name),
        DIM_VISITOR.name: table(DIM_VISITOR.name),
        FACT_MEDIA_ENGAGEMENT.name: table(FACT_MEDIA_ENGAGEMENT.name).where(in_dates),
        FACT_MEDIA_DAILY.name: table(FACT_MEDIA_DAILY.name).where(in_dates),
        MEDIA_METRICS_SUMMARY.name: table(MEDIA_METRICS_SUMMARY.name).where(this_load),
    }
    report.checks.extend(check_gold(tables, engagement_tolerance=engagement_tolerance))
    quarantine = spark.table(qualified(silver_db, SILVER_QUARANTINE.name)).where(this_load)
    report.checks.append(check_quarantine(quarantine, max_quarantined))
    refs = part_refs(complete_runs(storage, load_date))
    report.checks.append(check_unknown_fields(unknown_fields(storage, refs)))
    report.scope = {
        "gold_db": gold_db,
        "dates": [d.isoformat() for d in dates],
        "runs": sorted({r.run_id for r in refs}),
    }
    report.finish()
    if write:
        write_report(storage, report)
    return report


def write_report(storage: Storage, report: QualityReport) -> str:
    """Store the report under `quality/load_date=L/<timestamp>.json` and as `latest.json`."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    key = f"quality/load_date={report.load_date}/{stamp}.json"
    body = report.to_json()
    storage.put(key, body)
    storage.put(QUALITY_LATEST, body)
    return key


# ---------------------------------------------------------------- watermarks (Glue)
def commit_pending_watermarks(storage: Storage, load_date: date | str) -> list[str]:
    """Commit the pending watermark proposals of the complete runs of `load_date`.

    The Glue workflow calls this after the checks passed (the local runner commits its own
    run). Returns the run ids committed.
    """
    load_date = _as_date(load_date)
    committed = []
    for manifest in complete_runs(storage, load_date):
        if storage.exists(pending_key(manifest["run_id"])):
            commit_watermarks(storage, manifest["run_id"])
            committed.append(manifest["run_id"])
    return committed


__all__ = [
    "GOLD_DB",
    "SILVER_DB",
    "bronze_to_silver",
    "commit_pending_watermarks",
    "run_quality_checks",
    "silver_to_gold",
    "write_report",
]
