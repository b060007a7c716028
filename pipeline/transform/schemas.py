"""Schemas: how Bronze is read, and the Silver and Gold tables (ARCHITECTURE §§7–8).

Bronze is read with every top-level field as a *string* (an event's user agent as a struct of
strings): Spark's JSON reader then renders any JSON value (number, object, array) as its text,
so one odd value can never spoil the rest of a page, and validation
(`pipeline.transform.validate`) decides what is a number or a date. Fields not listed here are
ignored by the reader (Wistia adds fields additively); `pipeline.quality.drift` reports them.
"""

from __future__ import annotations

from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DataType,
    DateType,
    DoubleType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from pipeline.catalog import TableSpec

CORRUPT = "_corrupt_record"

# Top-level fields each stream's records may carry (documented in notes/wistia-api.md §§4–5).
BRONZE_FIELDS: dict[str, tuple[str, ...]] = {
    "medias": (
        "id",
        "hashed_id",
        "name",
        "type",
        "status",
        "archived",
        "created",
        "updated",
        "duration",
        "description",
        "folder",
        "project",
        "thumbnail",
        "progress",
        "section",
        "subfolder",
        "assets",
        "tags",
        "embedCode",
        "cursor",
        "protected",
    ),
    "media_stats": (
        "load_count",
        "play_count",
        "play_rate",
        "hours_watched",
        "engagement",
        "visitors",
        "actions",
    ),
    "media_by_date": ("date", "load_count", "play_count", "hours_watched"),
    "events": (
        "received_at",
        "event_key",
        "visitor_key",
        "embed_url",
        "percent_viewed",
        "ip",
        "org",
        "country",
        "region",
        "city",
        "lat",
        "lon",
        "email",
        "media_id",
        "media_name",
        "media_url",
        "user_agent_details",
        "conversion_type",
        "conversion_data",
        "thumbnail",
        "iframe_heatmap_url",
        "attributes",
    ),
    "media_engagement": ("engagement", "engagement_data", "rewatch_data"),
}

STREAMS = tuple(BRONZE_FIELDS)


# An event's user agent is read as a struct (of strings: `mobile` is validated later); the
# spec makes it an object, and a struct is much cheaper than parsing its text per event.
USER_AGENT = StructType(
    [
        StructField("browser", StringType()),
        StructField("browser_version", StringType()),
        StructField("platform", StringType()),
        StructField("mobile", StringType()),
    ]
)
# Known fields that Silver does not use, so the reader skips them (cheaper to parse).
UNREAD_FIELDS: dict[str, frozenset[str]] = {
    "medias": frozenset({"progress", "section", "subfolder", "assets", "tags", "embedCode"}),
    "events": frozenset({"thumbnail", "iframe_heatmap_url", "attributes"}),
}


def bronze_schema(stream: str) -> StructType:
    """Read schema for one stream: the fields Silver uses as strings (an event's user agent
    as a struct of strings), plus the corrupt-record column."""
    skip = UNREAD_FIELDS.get(stream, frozenset())
    fields = [
        StructField(name, USER_AGENT if name == "user_agent_details" else StringType())
        for name in BRONZE_FIELDS[stream]
        if name not in skip
    ]
    return StructType([*fields, StructField(CORRUPT, StringType())])


# Other nested objects are parsed from their JSON text with `from_json` (non-object → null).
FOLDER = StructType(
    [
        StructField("id", StringType()),
        StructField("name", StringType()),
        StructField("hashedId", StringType()),
        StructField("hashed_id", StringType()),
    ]
)
THUMBNAIL = StructType([StructField("url", StringType())])
INT_ARRAY = ArrayType(LongType())


def _schema(*columns: tuple[str, DataType]) -> StructType:
    return StructType([StructField(name, kind) for name, kind in columns])


_S, _L, _D, _B = StringType(), LongType(), DoubleType(), BooleanType()
_TS, _DATE = TimestampType(), DateType()
_LINEAGE = (("run_id", _S), ("extracted_at", _TS))

# ---------------------------------------------------------------- Silver (wistia_silver)
SILVER_MEDIAS = TableSpec(
    "medias",
    _schema(
        ("media_id", _S),
        ("numeric_id", _L),
        ("name", _S),
        ("type", _S),
        ("status", _S),
        ("archived", _B),
        ("created_at", _TS),
        ("updated_at", _TS),
        ("duration_seconds", _D),
        ("description", _S),
        ("folder_id", _L),
        ("folder_name", _S),
        ("folder_hashed_id", _S),
        ("thumbnail_url", _S),
        *_LINEAGE,
        ("load_date", _DATE),
    ),
    ("load_date",),
)
SILVER_MEDIA_STATS = TableSpec(
    "media_stats",
    _schema(
        ("media_id", _S),
        ("load_count", _L),
        ("play_count", _L),
        ("play_rate", _D),
        ("hours_watched", _D),
        ("engagement", _D),
        ("visitors", _L),
        ("actions", _S),
        *_LINEAGE,
        ("load_date", _DATE),
    ),
    ("load_date",),
)
SILVER_MEDIA_DAILY = TableSpec(
    "media_daily",
    _schema(
        ("media_id", _S),
        ("date", _DATE),
        ("load_count", _L),
        ("play_count", _L),
        ("hours_watched", _D),
        *_LINEAGE,
        ("load_date", _DATE),
    ),
    ("load_date",),
)
SILVER_EVENTS = TableSpec(
    "events",
    _schema(
        ("event_key", _S),
        ("media_id", _S),
        ("visitor_id", _S),
        ("received_at", _TS),
        ("date", _DATE),
        ("percent_viewed", _D),
        ("embed_url", _S),
        ("traffic_source", _S),
        ("ip_address", _S),
        ("org", _S),
        ("country", _S),
        ("region", _S),
        ("city", _S),
        ("lat", _D),
        ("lon", _D),
        ("email", _S),
        ("media_name", _S),
        ("media_url", _S),
        ("browser", _S),
        ("browser_version", _S),
        ("platform", _S),
        ("is_mobile", _B),
        ("conversion_type", _S),
        ("conversion_data", _S),
        *_LINEAGE,
        ("load_date", _DATE),
    ),
    ("load_date",),
)
SILVER_MEDIA_ENGAGEMENT = TableSpec(
    "media_engagement",
    _schema(
        ("media_id", _S),
        ("engagement", _D),
        ("engagement_data", INT_ARRAY),
        ("rewatch_data", INT_ARRAY),
        *_LINEAGE,
        ("load_date", _DATE),
    ),
    ("load_date",),
)
SILVER_QUARANTINE = TableSpec(
    "quarantine",
    _schema(
        ("stream", _S),
        ("run_id", _S),
        ("reason", _S),
        ("raw", _S),
        ("part", _S),
        ("load_date", _DATE),
    ),
    ("load_date",),
)
# Helper for the channel rule (events per media × day × traffic source, deduplicated);
# written by the gold step so that the majority source never needs the whole event history.
SILVER_MEDIA_SOURCES = TableSpec(
    "media_sources",
    _schema(("media_id", _S), ("traffic_source", _S), ("events", _L), ("date", _DATE)),
    ("date",),
)

SILVER_TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        SILVER_MEDIAS,
        SILVER_MEDIA_STATS,
        SILVER_MEDIA_DAILY,
        SILVER_EVENTS,
        SILVER_MEDIA_ENGAGEMENT,
        SILVER_QUARANTINE,
    )
}
# Bronze stream → Silver table.
SILVER_FOR_STREAM = {
    "medias": SILVER_MEDIAS,
    "media_stats": SILVER_MEDIA_STATS,
    "media_by_date": SILVER_MEDIA_DAILY,
    "events": SILVER_EVENTS,
    "media_engagement": SILVER_MEDIA_ENGAGEMENT,
}

# ---------------------------------------------------------------- Gold (wistia_gold)
DIM_MEDIA = TableSpec(
    "dim_media",
    _schema(
        ("media_id", _S),
        ("title", _S),
        ("url", _S),
        ("channel", _S),
        ("created_at", _TS),
        ("duration_seconds", _D),
        ("folder_name", _S),
    ),
)
DIM_VISITOR = TableSpec(
    "dim_visitor",
    _schema(
        ("visitor_id", _S),
        ("ip_address", _S),
        ("country", _S),
        ("region", _S),
        ("city", _S),
        ("browser", _S),
        ("platform", _S),
        ("is_mobile", _B),
        ("first_seen_at", _TS),
        ("last_seen_at", _TS),
    ),
)
FACT_MEDIA_ENGAGEMENT = TableSpec(
    "fact_media_engagement",
    _schema(
        ("media_id", _S),
        ("visitor_id", _S),
        ("play_count", _L),
        ("total_watch_time_seconds", _D),
        ("watched_percent", _D),
        ("max_watched_percent", _D),
        ("date", _DATE),
    ),
    ("date",),
)
FACT_MEDIA_DAILY = TableSpec(
    "fact_media_daily",
    _schema(
        ("media_id", _S),
        ("channel", _S),
        ("load_count", _L),
        ("play_count", _L),
        ("play_rate", _D),
        ("hours_watched", _D),
        ("unique_visitors", _L),
        ("avg_engagement", _D),
        ("date", _DATE),
    ),
    ("date",),
)
MEDIA_METRICS_SUMMARY = TableSpec(
    "media_metrics_summary",
    _schema(
        ("media_id", _S),
        ("media_name", _S),
        ("total_plays", _L),
        ("total_loads", _L),
        ("total_visitors", _L),
        ("play_rate", _D),
        ("engagement", _D),
        ("load_date", _DATE),
    ),
    ("load_date",),
)

GOLD_TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        DIM_MEDIA,
        DIM_VISITOR,
        FACT_MEDIA_ENGAGEMENT,
        FACT_MEDIA_DAILY,
        MEDIA_METRICS_SUMMARY,
    )
}
