"""Validation, renaming and casting of Bronze records: pure DataFrame → (valid, quarantine).

Input: records as read by `pipeline.transform.silver.read_bronze` — the Bronze fields as
strings (see `schemas.bronze_schema`) plus the lineage columns `_run_id`, `_part`, `_part_no`,
`_position`, `_load_date`, `_extracted_at` and `_media_id` (the media of the request, from the
manifest). Output: the valid records with Silver column names and types (lineage kept for
deduplication), and one quarantine row per rejected record with the *first* failing reason.

Reasons are checked in the order of each stream's `REASONS` tuple. Unknown extra fields never
reject a record: the reader does not even see them. A value is a number when it is a JSON
number — or a string holding one (Spark's reader cannot tell "0.5" from 0.5).

`validate(df, stream)` = `split(tag(df, stream), stream)`; Silver uses the two halves so that
it can observe the rejected rows while writing the valid ones (one pass over the pages).
"""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from pipeline.transform.pii import check_mode
from pipeline.transform.schemas import CORRUPT, FOLDER, INT_ARRAY, THUMBNAIL, bronze_schema

DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"

REASON = "_reason"
MALFORMED_PAGE = "truncated or malformed page"
MALFORMED_RECORD = "malformed record"

REASONS: dict[str, tuple[str, ...]] = {
    "events": (
        MALFORMED_RECORD,
        "missing event_key",
        "missing media_id",
        "missing visitor_key",
        "unparseable received_at",
        "missing percent_viewed",
        "percent_viewed not a number",
        "percent_viewed outside 0-1",
    ),
    "media_by_date": (
        MALFORMED_RECORD,
        "missing media_id",
        "unparseable date",
        "missing or non-numeric counts",
        "negative counts",
        "plays > loads",
    ),
    "medias": (MALFORMED_RECORD, "missing hashed_id"),
    "media_stats": (
        MALFORMED_RECORD,
        "missing media_id",
        "negative counts",
        "play_rate or engagement outside 0-1",
    ),
    "media_engagement": (MALFORMED_RECORD, "missing media_id", "engagement outside 0-1"),
}
EVENT_REASONS = REASONS["events"]
MEDIA_DAILY_REASONS = REASONS["media_by_date"]


# ---------------------------------------------------------------- column helpers
def blank(col: Column) -> Column:
    """Null, empty, or only spaces."""
    return col.isNull() | (F.trim(col) == "")


def _is_digit(char: Column) -> Column:
    return (char >= "0") & (char <= "9")


def number(col: Column) -> Column:
    """The field as a double if it is a JSON number, else null (so "abc", true, [1] → null).

    Spark renders a JSON number into a string field as its digits (0.5, 12, -3, 1.0E20); a
    string field is taken as is. So: starts with '-' or a digit, ends with a digit, and parses
    (cheaper than a regular expression on every record).
    """
    first, last = F.substring(col, 1, 1), F.substring(col, -1, 1)
    looks_numeric = ((first == "-") | _is_digit(first)) & _is_digit(last)
    return F.when(looks_numeric, col.cast("double"))


def timestamp(col: Column) -> Column:
    """An ISO-8601 date-time `YYYY-MM-DD[T ]hh:mm:ss[...]` (offset or Z, else UTC) as a UTC
    timestamp, else null (a bare date or "2026" is not a date-time)."""
    shaped = (
        (F.length(col) >= 19)
        & (F.substring(col, 5, 1) == "-")
        & (F.substring(col, 8, 1) == "-")
        & F.substring(col, 11, 1).isin("T", " ")
        & (F.substring(col, 14, 1) == ":")
        & (F.substring(col, 17, 1) == ":")
    )
    return F.when(shaped, col.cast("timestamp"))


def iso_date(col: Column) -> Column:
    return F.when(col.rlike(DATE_RE), col.cast("date"))


def first_reason(*checks: tuple[Column, str]) -> Column:
    """The reason of the first check that fails (condition true), else null."""
    expr = F.when(checks[0][0], F.lit(checks[0][1]))
    for failed, reason in checks[1:]:
        expr = expr.when(failed, F.lit(reason))
    return expr.otherwise(F.lit(None).cast("string"))


def outside_fraction(value: Column) -> Column:
    return F.coalesce((value < 0) | (value > 1) | F.isnan(value), F.lit(False))


UTM_SOURCE_RE = r"[?&]utm_source=([^&#]*)"
HOST_RE = r"^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^/?#:]*)"


def traffic_source(embed_url: Column) -> Column:
    """`utm_source` of the embedding page's URL, else its host without `www.`; lowercase.

    Same rule as `pipeline.channels.traffic_source` (no percent-decoding in either).
    """
    utm = F.lower(F.trim(F.regexp_extract(embed_url, UTM_SOURCE_RE, 1)))
    host = F.regexp_replace(F.lower(F.regexp_extract(embed_url, HOST_RE, 1)), r"^www\.", "")
    has_utm = F.instr(embed_url, "utm_source=") > 0
    return F.coalesce(F.when(has_utm & (utm != ""), utm), F.when(host != "", host))


def _media_id(field: str | None = None) -> Column:
    """The record's media id (if it carries one), else the manifest's."""
    manifest = F.when(~blank(F.col("_media_id")), F.col("_media_id"))
    if field is None:
        return manifest
    return F.coalesce(F.when(~blank(F.col(field)), F.col(field)), manifest)


def _malformed() -> Column:
    return F.col(CORRUPT).isNotNull()


def _lineage() -> list[Column]:
    return [
        F.col("_run_id").alias("run_id"),
        F.col("_extracted_at").alias("extracted_at"),
        F.col("_load_date").alias("load_date"),
        F.col("_part_no"),
        F.col("_position"),
    ]


# ---------------------------------------------------------------- reasons per stream
def _events_parsed() -> dict[str, Column]:
    """Parsed once, used by the reason and by the Silver columns."""
    return {
        "_pct": number(F.col("percent_viewed")),
        "_received": timestamp(F.col("received_at")),
        "_media": _media_id("media_id"),
    }


def _events_reason() -> Column:
    pct = F.col("_pct")
    return first_reason(
        (_malformed(), MALFORMED_RECORD),
        (blank(F.col("event_key")), "missing event_key"),
        (F.col("_media").isNull(), "missing media_id"),
        (blank(F.col("visitor_key")), "missing visitor_key"),
        (F.col("_received").isNull(), "unparseable received_at"),
        (F.col("percent_viewed").isNull(), "missing percent_viewed"),
        (pct.isNull() | F.isnan(pct), "percent_viewed not a number"),
        ((pct < 0) | (pct > 1), "percent_viewed outside 0-1"),
    )


def _media_daily_reason() -> Column:
    loads, plays, hours = (number(F.col(c)) for c in ("load_count", "play_count", "hours_watched"))
    return first_reason(
        (_malformed(), MALFORMED_RECORD),
        (_media_id().isNull(), "missing media_id"),
        (iso_date(F.col("date")).isNull(), "unparseable date"),
        (loads.isNull() | plays.isNull(), "missing or non-numeric counts"),
        ((loads < 0) | (plays < 0) | F.coalesce(hours < 0, F.lit(False)), "negative counts"),
        (plays > loads, "plays > loads"),
    )


def _medias_reason() -> Column:
    return first_reason(
        (_malformed(), MALFORMED_RECORD),
        (blank(F.col("hashed_id")), "missing hashed_id"),
    )


def _media_stats_reason() -> Column:
    negative = F.lit(False)
    for column in ("load_count", "play_count", "visitors", "hours_watched"):
        negative = negative | F.coalesce(number(F.col(column)) < 0, F.lit(False))
    rate, engagement = number(F.col("play_rate")), number(F.col("engagement"))
    return first_reason(
        (_malformed(), MALFORMED_RECORD),
        (_media_id().isNull(), "missing media_id"),
        (negative, "negative counts"),
        (outside_fraction(rate) | outside_fraction(engagement), REASONS["media_stats"][3]),
    )


def _media_engagement_reason() -> Column:
    return first_reason(
        (_malformed(), MALFORMED_RECORD),
        (_media_id().isNull(), "missing media_id"),
        (outside_fraction(number(F.col("engagement"))), "engagement outside 0-1"),
    )


# ---------------------------------------------------------------- Silver columns per stream
def _events_typed(df: DataFrame) -> DataFrame:
    ua = F.col("user_agent_details")
    return df.select(
        F.col("event_key"),
        F.col("_media").alias("media_id"),
        F.col("visitor_key").alias("visitor_id"),
        F.col("_received").alias("received_at"),
        F.to_date(F.col("_received")).alias("date"),
        F.col("_pct").alias("percent_viewed"),
        F.col("embed_url"),
        traffic_source(F.col("embed_url")).alias("traffic_source"),
        F.col("ip").alias("ip_address"),
        F.col("org"),
        F.col("country"),
        F.col("region"),
        F.col("city"),
        number(F.col("lat")).alias("lat"),
        number(F.col("lon")).alias("lon"),
        F.col("email"),
        F.col("media_name"),
        F.col("media_url"),
        ua["browser"].alias("browser"),
        ua["browser_version"].alias("browser_version"),
        ua["platform"].alias("platform"),
        F.lower(ua["mobile"]).cast("boolean").alias("is_mobile"),
        F.col("conversion_type"),
        F.col("conversion_data"),
        *_lineage(),
    )


def _media_daily_typed(df: DataFrame) -> DataFrame:
    return df.select(
        _media_id().alias("media_id"),
        iso_date(F.col("date")).alias("date"),
        number(F.col("load_count")).cast("bigint").alias("load_count"),
        number(F.col("play_count")).cast("bigint").alias("play_count"),
        number(F.col("hours_watched")).alias("hours_watched"),
        *_lineage(),
    )


def _medias_typed(df: DataFrame) -> DataFrame:
    folder = F.from_json(F.coalesce(F.col("folder"), F.col("project")), FOLDER)  # v1: project
    return df.select(
        F.col("hashed_id").alias("media_id"),
        number(F.col("id")).cast("bigint").alias("numeric_id"),
        F.col("name"),
        F.col("type"),
        F.col("status"),
        F.lower(F.col("archived")).cast("boolean").alias("archived"),
        timestamp(F.col("created")).alias("created_at"),
        timestamp(F.col("updated")).alias("updated_at"),
        number(F.col("duration")).alias("duration_seconds"),
        F.col("description"),
        number(folder["id"]).cast("bigint").alias("folder_id"),
        folder["name"].alias("folder_name"),
        F.coalesce(folder["hashed_id"], folder["hashedId"]).alias("folder_hashed_id"),
        F.from_json(F.col("thumbnail"), THUMBNAIL)["url"].alias("thumbnail_url"),
        *_lineage(),
    )


def _media_stats_typed(df: DataFrame) -> DataFrame:
    return df.select(
        _media_id().alias("media_id"),
        number(F.col("load_count")).cast("bigint").alias("load_count"),
        number(F.col("play_count")).cast("bigint").alias("play_count"),
        number(F.col("play_rate")).alias("play_rate"),
        number(F.col("hours_watched")).alias("hours_watched"),
        number(F.col("engagement")).alias("engagement"),
        number(F.col("visitors")).cast("bigint").alias("visitors"),
        F.col("actions"),
        *_lineage(),
    )


def _media_engagement_typed(df: DataFrame) -> DataFrame:
    return df.select(
        _media_id().alias("media_id"),
        number(F.col("engagement")).alias("engagement"),
        F.from_json(F.col("engagement_data"), INT_ARRAY).alias("engagement_data"),
        F.from_json(F.col("rewatch_data"), INT_ARRAY).alias("rewatch_data"),
        *_lineage(),
    )


_REASON_OF: dict[str, Callable[[], Column]] = {
    "events": _events_reason,
    "media_by_date": _media_daily_reason,
    "medias": _medias_reason,
    "media_stats": _media_stats_reason,
    "media_engagement": _media_engagement_reason,
}
_TYPED_OF: dict[str, Callable[[DataFrame], DataFrame]] = {
    "events": _events_typed,
    "media_by_date": _media_daily_typed,
    "medias": _medias_typed,
    "media_stats": _media_stats_typed,
    "media_engagement": _media_engagement_typed,
}


# ---------------------------------------------------------------- public
_PARSED_OF: dict[str, Callable[[], dict[str, Column]]] = {"events": _events_parsed}


def tag(df: DataFrame, stream: str) -> DataFrame:
    """`df` plus `_reason`: the first failing reason of each record, null when valid (and,
    for events, the parsed `_pct`, `_received`, `_media` that the Silver columns reuse)."""
    parsed = _PARSED_OF.get(stream)
    if parsed is not None:
        df = df.withColumns(parsed())
    return df.withColumn(REASON, _REASON_OF[stream]())


# A JSON member "ip" or "email" with its string value, in a record or in a page's raw text.
_PERSONAL_MEMBER = r'("(?:ip|email)"\s*:\s*)"[^"]*"'


def redact_raw(text: Column, pii: str = "masked") -> Column:
    """`text` with the values of its "ip" and "email" members replaced by "[redacted]",
    unless `pii` is raw: quarantined records are kept for people to read, and must not be
    the one place where addresses survive unmasked."""
    if check_mode(pii) == "raw":
        return text
    return F.regexp_replace(text, _PERSONAL_MEMBER, '$1"[redacted]"')


def raw_json(stream: str, pii: str = "masked") -> Column:
    """The record as JSON: the page text for a malformed one, else the fields as read;
    personal fields redacted per `pii`."""
    fields = [F.col(f.name) for f in bronze_schema(stream).fields if f.name != CORRUPT]
    return redact_raw(F.coalesce(F.col(CORRUPT), F.to_json(F.struct(*fields))), pii)


def quarantine_rows(tagged: DataFrame, stream: str, pii: str = "masked") -> DataFrame:
    """The rejected records of a tagged DataFrame as quarantine rows."""
    return tagged.where(F.col(REASON).isNotNull()).select(
        F.lit(stream).alias("stream"),
        F.col("_run_id").alias("run_id"),
        F.col(REASON).alias("reason"),
        raw_json(stream, pii).alias("raw"),
        F.col("_part").alias("part"),
        F.col("_load_date").alias("load_date"),
    )


def valid_rows(tagged: DataFrame, stream: str) -> DataFrame:
    """The accepted records of a tagged DataFrame, with Silver names and types."""
    return _TYPED_OF[stream](tagged.where(F.col(REASON).isNull()))


def split(tagged: DataFrame, stream: str) -> tuple[DataFrame, DataFrame]:
    return valid_rows(tagged, stream), quarantine_rows(tagged, stream)


def validate(df: DataFrame, stream: str) -> tuple[DataFrame, DataFrame]:
    """(valid records in Silver columns, quarantine rows) of one stream's raw records."""
    return split(tag(df, stream), stream)


def validate_events(df: DataFrame) -> tuple[DataFrame, DataFrame]:
    return validate(df, "events")


def validate_media_daily(df: DataFrame) -> tuple[DataFrame, DataFrame]:
    return validate(df, "media_by_date")


def validate_medias(df: DataFrame) -> tuple[DataFrame, DataFrame]:
    return validate(df, "medias")


def validate_media_stats(df: DataFrame) -> tuple[DataFrame, DataFrame]:
    return validate(df, "media_stats")


def validate_media_engagement(df: DataFrame) -> tuple[DataFrame, DataFrame]:
    return validate(df, "media_engagement")
