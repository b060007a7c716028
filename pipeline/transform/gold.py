"""Silver → Gold: the tables the dashboard reads (ARCHITECTURE §8), as pure DataFrame functions.

Incremental by date: a run for load date L recomputes only the dates its Silver partition
touched (`touched_dates`). An event of date d only appears in loads with load_date ≥ d, so the
inputs are the Silver partitions with load_date ≥ min(touched), filtered to the touched dates
and deduplicated with the latest load winning (`latest_events`, `latest_media_daily`). The
fact partitions of those dates are then replaced (dynamic partition overwrite); every other
date partition stays as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from pipeline.channels import ChannelRules
from pipeline.transform.common import gold_order, latest

FALLBACK_URL = "https://fast.wistia.net/embed/iframe/"


def _scaled_sum(col: Column, scale: int) -> Column:
    return F.sum(F.round(col * 10**scale).cast("bigint"))


def exact_sum(col: Column, scale: int = 6) -> Column:
    """Sum of `col` rounded to `scale` decimals, in integer arithmetic: the same result
    whatever the order of the rows (a sum of doubles depends on it, so a re-run could differ
    in the last bit), and as fast as a sum of doubles."""
    return _scaled_sum(col, scale) / 10**scale


def exact_avg(col: Column, scale: int = 9) -> Column:
    """Mean of a fraction (0–1) to 9 decimals, order-independent (see `exact_sum`)."""
    return _scaled_sum(col, scale) / (F.count(col) * 10**scale)


def touched_dates(events_of_load: DataFrame, media_daily_of_load: DataFrame) -> list[date]:
    """The UTC days that one load's Silver events and by_date rows cover, ascending."""
    days = events_of_load.select("date").union(media_daily_of_load.select("date")).distinct()
    return sorted(row.date for row in days.collect() if row.date is not None)


# The Silver event columns that Gold uses.
EVENT_COLUMNS = (
    "event_key",
    "media_id",
    "visitor_id",
    "received_at",
    "date",
    "percent_viewed",
    "traffic_source",
    "media_name",
    "media_url",
    "ip_address",
    "country",
    "region",
    "city",
    "browser",
    "platform",
    "is_mobile",
    "run_id",
    "extracted_at",
    "load_date",
)


def latest_events(
    silver_events: DataFrame, dates: Sequence[date], *, single_load: bool = False
) -> DataFrame:
    """Events of `dates`, one row per event_key: the one of the latest load.

    `single_load`: only one Silver load has partitions ≥ min(dates); its rows are unique
    already (Silver deduplicates within a load), so no second deduplication is needed.
    """
    if not dates:
        return silver_events.select(*EVENT_COLUMNS).where(F.lit(False))
    recent = silver_events.where(F.col("load_date") >= F.lit(min(dates)))
    rows = recent.where(F.col("date").isin(list(dates))).select(*EVENT_COLUMNS)
    return rows if single_load else latest(rows, ["event_key"], gold_order())


def latest_media_daily(silver_media_daily: DataFrame, dates: Sequence[date]) -> DataFrame:
    """by_date rows of `dates`, one per (media_id, date): the one of the latest load."""
    if not dates:
        return silver_media_daily.where(F.lit(False))
    recent = silver_media_daily.where(F.col("load_date") >= F.lit(min(dates)))
    rows = recent.where(F.col("date").isin(list(dates)))
    return latest(rows, ["media_id", "date"], gold_order())


def media_sources(events: DataFrame) -> DataFrame:
    """Grain: media × date × traffic source — number of (deduplicated) events.

    Kept as a small helper table so that the channel rule's "majority source of the media's
    events" never needs the whole event history.
    """
    return (
        events.where(F.col("traffic_source").isNotNull())
        .groupBy("media_id", "traffic_source", "date")
        .agg(F.count(F.lit(1)).alias("events"))
    )


def majority_sources(all_media_sources: DataFrame) -> DataFrame:
    """Grain: media — its most frequent traffic source (ties: alphabetical)."""
    totals = all_media_sources.groupBy("media_id", "traffic_source").agg(
        F.sum("events").alias("events")
    )
    order = Window.partitionBy("media_id").orderBy(
        F.col("events").desc(), F.col("traffic_source").asc()
    )
    return (
        totals.withColumn("_rank", F.row_number().over(order))
        .where("_rank = 1")
        .select("media_id", F.col("traffic_source").alias("majority_source"))
    )


def channel_col(rules: ChannelRules, media_id: Column, title: Column, source: Column) -> Column:
    """`ChannelRules.classify` as a Spark expression (same order, same regexes)."""
    expr = None

    def add(condition: Column, channel: str) -> None:
        nonlocal expr
        expr = F.when(condition, channel) if expr is None else expr.when(condition, channel)

    by_channel: dict[str, list[str]] = {}
    for media, channel in rules.media.items():
        by_channel.setdefault(channel, []).append(media)
    for channel, ids in by_channel.items():
        add(media_id.isin(ids), channel)
    for pattern in rules.title_patterns:
        add(title.rlike(f"(?i){pattern.pattern}"), pattern.channel)
    for pattern in rules.source_patterns:
        add(source.rlike(f"(?i){pattern.pattern}"), pattern.channel)
    return F.lit(rules.default) if expr is None else expr.otherwise(F.lit(rules.default))


def build_dim_media(
    silver_medias: DataFrame,
    majority: DataFrame,
    events: DataFrame,
    other_media_ids: DataFrame,
    existing: DataFrame | None,
    rules: ChannelRules,
) -> DataFrame:
    """Grain: one row per media ever seen (listed by /medias, or only in stats/events).

    Attributes come from the latest /medias record of the media (all Silver loads of the small
    `medias` table); a media never listed keeps what an earlier run knew, else the name and URL
    its events carry. `url` is the media's Wistia URL from its events, else the public embed
    URL. `channel` follows `channels.yml` (see `channel_col`).
    """
    medias = latest(silver_medias, ["media_id"], gold_order()).select(
        "media_id",
        F.lit(True).alias("_listed"),
        F.col("name").alias("_m_title"),
        F.col("created_at").alias("_m_created"),
        F.col("duration_seconds").alias("_m_duration"),
        F.col("folder_name").alias("_m_folder"),
    )
    # Name and URL of each media's latest event. Grouping by them first keeps the big
    # aggregation a hash aggregation (few distinct names per media).
    named = events.groupBy("media_id", "media_name", "media_url").agg(
        F.max("received_at").alias("_seen")
    )
    from_events = latest(named, ["media_id"], [F.col("_seen").desc(), F.col("media_name")])
    from_events = from_events.select(
        "media_id", F.col("media_name").alias("_e_title"), F.col("media_url").alias("_e_url")
    )
    ids = medias.select("media_id").union(from_events.select("media_id"))
    ids = ids.union(other_media_ids.select("media_id"))
    if existing is not None:
        ids = ids.union(existing.select("media_id"))
        old = existing.select(*[F.col(c).alias(f"_x_{c}") for c in existing.columns])
    ids = ids.where(F.col("media_id").isNotNull()).distinct()
    joined = ids.join(medias, "media_id", "left").join(from_events, "media_id", "left")
    joined = joined.join(majority, "media_id", "left")
    if existing is not None:
        joined = joined.join(old, joined.media_id == old._x_media_id, "left")
    else:
        for column in ("title", "url", "created_at", "duration_seconds", "folder_name"):
            joined = joined.withColumn(f"_x_{column}", F.lit(None))
    listed = F.col("_listed").isNotNull()

    def pick(from_medias: str, known: str) -> Column:
        return F.when(listed, F.col(from_medias)).otherwise(F.col(known))

    title = F.when(listed, F.col("_m_title")).otherwise(
        F.coalesce(F.col("_x_title"), F.col("_e_title"))
    )
    url = F.coalesce(
        F.col("_e_url"), F.col("_x_url"), F.concat(F.lit(FALLBACK_URL), F.col("media_id"))
    )
    return joined.select(
        "media_id",
        title.alias("title"),
        url.alias("url"),
        channel_col(rules, F.col("media_id"), title, F.col("majority_source")).alias("channel"),
        pick("_m_created", "_x_created_at").cast("timestamp").alias("created_at"),
        pick("_m_duration", "_x_duration_seconds").cast("double").alias("duration_seconds"),
        pick("_m_folder", "_x_folder_name").cast("string").alias("folder_name"),
    )


_VISITOR_ATTRS = ("ip_address", "country", "region", "city", "browser", "platform", "is_mobile")


def build_dim_visitor(events: DataFrame, existing: DataFrame | None) -> DataFrame:
    """Grain: one row per visitor ever seen.

    first_seen_at / last_seen_at are the earliest / latest event of the visitor over all runs
    (merged with what the table already holds); the other attributes come from the visitor's
    latest event. Merging is order-independent, so re-running an old day changes nothing.
    """
    latest_attrs = F.max(F.struct("received_at", "event_key", *_VISITOR_ATTRS)).alias("_a")
    new = (
        events.groupBy(F.col("visitor_id"))
        .agg(
            F.min("received_at").alias("first_seen_at"),
            F.max("received_at").alias("last_seen_at"),
            latest_attrs,
        )
        .select(
            "visitor_id",
            *[F.col(f"_a.{c}").alias(c) for c in _VISITOR_ATTRS],
            "first_seen_at",
            "last_seen_at",
        )
    )
    both = new if existing is None else existing.select(*new.columns).unionByName(new)
    merged = both.groupBy("visitor_id").agg(
        F.min("first_seen_at").alias("first_seen_at"),
        F.max("last_seen_at").alias("last_seen_at"),
        F.max(F.struct("last_seen_at", *_VISITOR_ATTRS)).alias("_a"),
    )
    return merged.select(
        "visitor_id",
        *[F.col(f"_a.{c}").alias(c) for c in _VISITOR_ATTRS],
        "first_seen_at",
        "last_seen_at",
    )


def build_fact_media_engagement(events: DataFrame, dim_media: DataFrame) -> DataFrame:
    """Grain: media × visitor × date (UTC day of `received_at`).

    play_count = events (viewing sessions); total_watch_time_seconds = Σ percent_viewed × the
    media's duration (null while the duration is unknown); watched_percent = mean and
    max_watched_percent = max of percent_viewed (fractions 0–1).
    """
    durations = F.broadcast(dim_media.select("media_id", "duration_seconds"))
    return (
        events.join(durations, "media_id", "left")
        .groupBy("media_id", "visitor_id", "date")
        .agg(
            F.count(F.lit(1)).alias("play_count"),
            exact_sum(F.col("percent_viewed") * F.col("duration_seconds")).alias(
                "total_watch_time_seconds"
            ),
            exact_avg(F.col("percent_viewed")).alias("watched_percent"),
            F.max("percent_viewed").alias("max_watched_percent"),
        )
    )


def build_fact_media_daily(
    media_daily: DataFrame, events: DataFrame, dim_media: DataFrame
) -> DataFrame:
    """Grain: media × date.

    load_count, play_count, hours_watched come from Wistia's by_date; play_rate =
    play_count ÷ load_count (null when there were no loads); unique_visitors = distinct
    visitors of that media-day's events (0 without events); avg_engagement = mean
    percent_viewed of those events (null without events); channel from dim_media. A media-day
    with events but no by_date row keeps null counts. by_date rows dated before the media was
    created are dropped: Wistia answers every day asked for, so without this the rows a table
    holds would depend on the windows the runs happened to request.
    """
    from_events = events.groupBy("media_id", "date").agg(
        F.countDistinct("visitor_id").alias("unique_visitors"),
        exact_avg(F.col("percent_viewed")).alias("avg_engagement"),
    )
    media = F.broadcast(
        dim_media.select("media_id", "channel", F.to_date("created_at").alias("_created"))
    )
    daily = (
        media_daily.join(media.select("media_id", "_created"), "media_id", "left")
        .where(F.col("_created").isNull() | (F.col("date") >= F.col("_created")))
        .select("media_id", "date", "load_count", "play_count", "hours_watched")
    )
    joined = daily.join(from_events, ["media_id", "date"], "full_outer")
    joined = joined.join(media.drop("_created"), "media_id", "left")
    return joined.select(
        "media_id",
        "channel",
        "load_count",
        "play_count",
        F.when(F.col("load_count") > 0, F.col("play_count") / F.col("load_count")).alias(
            "play_rate"
        ),
        "hours_watched",
        F.coalesce(F.col("unique_visitors"), F.lit(0)).cast("bigint").alias("unique_visitors"),
        "avg_engagement",
        "date",
    )


def build_media_metrics_summary(media_stats: DataFrame, dim_media: DataFrame) -> DataFrame:
    """Grain: media × load_date — Wistia's lifetime snapshot of the media as of that load."""
    names = F.broadcast(dim_media.select("media_id", F.col("title").alias("media_name")))
    return media_stats.join(names, "media_id", "left").select(
        "media_id",
        "media_name",
        F.col("play_count").alias("total_plays"),
        F.col("load_count").alias("total_loads"),
        F.col("visitors").alias("total_visitors"),
        "play_rate",
        "engagement",
        "load_date",
    )
