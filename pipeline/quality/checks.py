"""Quality checks as functions of DataFrames → `CheckResult`.

Blocking: unique and not-null keys of every gold table, fact → dim references, plays ≤ loads,
fractions within 0–1. Warnings: per media-day agreement of the engagement fact with by_date
plays, quarantined records above a threshold, unknown Bronze fields (schema drift).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from pipeline.quality.report import CheckResult

SAMPLE = 5

# Keys and fractions of the gold tables (ARCHITECTURE §8).
GOLD_KEYS: dict[str, tuple[str, ...]] = {
    "dim_media": ("media_id",),
    "dim_visitor": ("visitor_id",),
    "fact_media_engagement": ("media_id", "visitor_id", "date"),
    "fact_media_daily": ("media_id", "date"),
    "media_metrics_summary": ("media_id", "load_date"),
}
GOLD_FRACTIONS: dict[str, tuple[str, ...]] = {
    "fact_media_engagement": ("watched_percent", "max_watched_percent"),
    "fact_media_daily": ("play_rate", "avg_engagement"),
    "media_metrics_summary": ("play_rate", "engagement"),
}
PLAYS_AND_LOADS: dict[str, tuple[str, str]] = {
    "fact_media_daily": ("play_count", "load_count"),
    "media_metrics_summary": ("total_plays", "total_loads"),
}


def _sample(df: DataFrame) -> list[dict[str, Any]]:
    return [row.asDict() for row in df.limit(SAMPLE).collect()]


def check_references(
    fact: DataFrame, dim: DataFrame, table: str, key: str, dim_table: str
) -> CheckResult:
    """Blocking: every non-null `key` of the fact exists in the dimension."""
    missing = (
        fact.select(key)
        .where(F.col(key).isNotNull())
        .distinct()
        .join(dim.select(key), key, "left_anti")
    )
    failed = missing.count()
    sample = _sample(missing) if failed else []
    return CheckResult.of(
        f"references_{dim_table}",
        table,
        "blocking",
        failed,
        f"{key} values missing from {dim_table}",
        sample,
    )


def check_engagement_matches_daily(
    fact_engagement: DataFrame, fact_daily: DataFrame, tolerance: float = 0.0
) -> CheckResult:
    """Warning: per media-day, Σ play_count of the engagement fact equals by_date plays.

    Real Wistia may differ a little (by_date counts plays the Stats API filters differently);
    the simulator agrees exactly. `tolerance` is a relative difference that is still fine.
    """
    sessions = fact_engagement.groupBy("media_id", "date").agg(
        F.sum("play_count").alias("event_plays")
    )
    daily = fact_daily.select("media_id", "date", F.col("play_count").alias("daily_plays"))
    both = daily.join(sessions, ["media_id", "date"], "full_outer").fillna(
        0, ["event_plays", "daily_plays"]
    )
    diff = F.abs(F.col("event_plays") - F.col("daily_plays"))
    allowed = F.greatest(F.col("event_plays"), F.col("daily_plays")) * F.lit(tolerance)
    bad = both.where(diff > allowed)
    failed = bad.count()
    sample = _sample(bad) if failed else []
    return CheckResult.of(
        "engagement_plays_match_daily",
        "fact_media_engagement",
        "warning",
        failed,
        "media-days where the events' play count differs from by_date play_count",
        sample,
    )


def check_quarantine(quarantine: DataFrame, threshold: int) -> CheckResult:
    """Warning: more than `threshold` records of the load were quarantined."""
    by_reason = {
        f"{row.stream}: {row.reason}": row["count"]
        for row in quarantine.groupBy("stream", "reason").count().collect()
    }
    total = sum(by_reason.values())
    return CheckResult.of(
        "quarantine_below_threshold",
        "quarantine",
        "warning",
        total if total > threshold else 0,
        f"{total} quarantined (threshold {threshold}): {by_reason or 'none'}",
    )


def check_unknown_fields(unknown: Mapping[str, Sequence[str]]) -> CheckResult:
    """Warning: Bronze records carry fields the pipeline does not know (they are ignored)."""
    names = {stream: sorted(fields) for stream, fields in unknown.items() if fields}
    count = sum(len(v) for v in names.values())
    return CheckResult.of(
        "unknown_bronze_fields",
        "bronze",
        "warning",
        count,
        f"unknown field names in a sample of the load's pages: {names or 'none'}",
    )


def table_checks(
    df: DataFrame,
    table: str,
    keys: Sequence[str],
    fractions: Sequence[str] = (),
    plays_loads: tuple[str, str] | None = None,
) -> list[CheckResult]:
    """not-null and unique keys, fractions and plays ≤ loads of one table in one pass."""
    null_key = _any(F.col(k).isNull() for k in keys)
    bad_fraction = _any(
        F.coalesce((F.col(c) < 0) | (F.col(c) > 1) | F.isnan(F.col(c)), F.lit(False))
        for c in fractions
    )
    metrics = [
        F.count(F.lit(1)).alias("rows"),
        F.sum(F.when(null_key, 1).otherwise(0)).alias("null_keys"),
        F.countDistinct(*[F.col(k) for k in keys]).alias("distinct_keys"),
        F.sum(F.when(bad_fraction, 1).otherwise(0)).alias("bad_fractions"),
    ]
    if plays_loads:
        plays, loads = plays_loads
        metrics.append(F.sum(F.when(F.col(plays) > F.col(loads), 1).otherwise(0)).alias("pl"))
    found = df.agg(*metrics).first().asDict()
    rows, nulls = found["rows"], found["null_keys"] or 0
    extra = rows - nulls - found["distinct_keys"]  # rows beyond one per (non-null) key
    results = [
        CheckResult.of(
            "not_null_key",
            table,
            "blocking",
            nulls,
            f"null in {', '.join(keys)}",
            _sample(df.where(null_key)) if nulls else [],
        ),
        CheckResult.of(
            "unique_key",
            table,
            "blocking",
            extra,
            f"rows beyond one per key {tuple(keys)}",
            _sample(df.groupBy(*keys).count().where(F.col("count") > 1)) if extra else [],
        ),
    ]
    if plays_loads:
        plays, loads = plays_loads
        failed = found["pl"] or 0
        results.append(
            CheckResult.of(
                "plays_le_loads",
                table,
                "blocking",
                failed,
                f"{plays} > {loads}",
                _sample(df.where(F.col(plays) > F.col(loads))) if failed else [],
            )
        )
    if fractions:
        failed = found["bad_fractions"] or 0
        results.append(
            CheckResult.of(
                "fractions_0_1",
                table,
                "blocking",
                failed,
                f"{', '.join(fractions)} outside 0-1",
                _sample(df.where(bad_fraction)) if failed else [],
            )
        )
    return results


def check_media_references(
    facts: Mapping[str, DataFrame], dim_media: DataFrame
) -> list[CheckResult]:
    """Blocking: every media_id of every fact is in dim_media (one pass for all facts)."""
    ids = None
    for table, df in facts.items():
        tagged = df.select(F.lit(table).alias("table"), "media_id").where(
            F.col("media_id").isNotNull()
        )
        ids = tagged if ids is None else ids.unionByName(tagged)
    if ids is None:
        return []
    missing = ids.distinct().join(dim_media.select("media_id"), "media_id", "left_anti")
    found: dict[str, list[str]] = {}
    for row in missing.collect():
        found.setdefault(row.table, []).append(row.media_id)
    return [
        CheckResult.of(
            "references_dim_media",
            table,
            "blocking",
            len(found.get(table, [])),
            "media_id values missing from dim_media",
            [{"media_id": m} for m in sorted(found.get(table, []))[:SAMPLE]],
        )
        for table in facts
    ]


def _any(conditions) -> Column:
    result: Column = F.lit(False)
    for condition in conditions:
        result = result | condition
    return result


def check_gold(
    tables: Mapping[str, DataFrame],
    *,
    engagement_tolerance: float = 0.0,
) -> list[CheckResult]:
    """Every blocking check (and the agreement warning) over the given gold tables.

    `tables` maps gold table names to the rows to check — whole dims, and the fact/summary
    partitions of the load. Missing tables are skipped. About one Spark job per table.
    """
    results: list[CheckResult] = []
    for table, keys in GOLD_KEYS.items():
        if table in tables:
            results.extend(
                table_checks(
                    tables[table],
                    table,
                    keys,
                    GOLD_FRACTIONS.get(table, ()),
                    PLAYS_AND_LOADS.get(table),
                )
            )
    if "dim_media" in tables:
        facts = {
            t: tables[t]
            for t in ("fact_media_engagement", "fact_media_daily", "media_metrics_summary")
            if t in tables
        }
        results.extend(check_media_references(facts, tables["dim_media"]))
    if "dim_visitor" in tables and "fact_media_engagement" in tables:
        results.append(
            check_references(
                tables["fact_media_engagement"],
                tables["dim_visitor"],
                "fact_media_engagement",
                "visitor_id",
                "dim_visitor",
            )
        )
    if "fact_media_engagement" in tables and "fact_media_daily" in tables:
        results.append(
            check_engagement_matches_daily(
                tables["fact_media_engagement"],
                tables["fact_media_daily"],
                engagement_tolerance,
            )
        )
    return results
