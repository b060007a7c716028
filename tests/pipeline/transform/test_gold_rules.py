"""The Spark forms of the channel rules and of the traffic source agree with the Python ones."""

from __future__ import annotations

import pandas as pd
from pyspark.sql import functions as F

from pipeline.channels import DEFAULT_RULES, ChannelRules, traffic_source
from pipeline.transform.gold import channel_col, majority_sources
from pipeline.transform.validate import traffic_source as traffic_source_col

RULES = ChannelRules.from_dict(DEFAULT_RULES)

MEDIA = [
    ("gskhw4w4lm", "anything", "facebook"),
    ("v08dlrgr7v", None, "youtube"),
    ("m1", "My YouTube ad", None),
    ("m2", "fb retargeting", "youtube"),
    ("m3", "Feedback", "youtu.be"),
    ("m4", "Webinar", "l.facebook.com"),
    ("m5", "Webinar", "newsletter"),
    ("m6", None, None),
]
URLS = [
    "https://www.example.com/landing?utm_source=YouTube&utm_medium=paid",
    "https://example.com/?a=1&utm_source=fb#top",
    "https://www.Facebook.com/watch/?v=1",
    "https://user@m.youtube.com:443/x",
    "https://example.com/?utm_source=&x=1",
    "not a url",
    None,
]


def test_channel_col_matches_classify(spark):
    frame = pd.DataFrame(MEDIA, columns=["media_id", "title", "source"])
    df = spark.createDataFrame(frame, "media_id string, title string, source string")
    out = df.select(
        "media_id",
        channel_col(RULES, F.col("media_id"), F.col("title"), F.col("source")).alias("c"),
    ).collect()
    got = {r.media_id: r.c for r in out}
    expected = {m: RULES.classify(m, t, {s: 1} if s else {}) for m, t, s in MEDIA}
    assert got == expected


def test_traffic_source_col_matches_python(spark):
    df = spark.createDataFrame(pd.DataFrame({"u": URLS}), "u string")
    got = [r.s for r in df.select(traffic_source_col(F.col("u")).alias("s")).collect()]
    assert got == [traffic_source(u) for u in URLS]


def test_majority_source_per_media(spark):
    rows = [
        ("a", "youtube", 2),
        ("a", "facebook", 1),
        ("a", "facebook", 2),  # another day: facebook 3 beats youtube 2
        ("b", "zz", 1),
        ("b", "aa", 1),  # tie: alphabetical
    ]
    df = spark.createDataFrame(
        pd.DataFrame(rows, columns=["media_id", "traffic_source", "events"]),
        "media_id string, traffic_source string, events long",
    )
    got = {r.media_id: r.majority_source for r in majority_sources(df).collect()}
    assert got == {"a": "facebook", "b": "aa"}


def test_fact_media_daily_drops_by_date_rows_before_the_media_existed(spark):
    from datetime import date, datetime

    from pipeline.transform.gold import build_fact_media_daily

    daily = spark.createDataFrame(
        [("a", date(2026, 5, d), 0 if d < 3 else 4, 0 if d < 3 else 2, 0.0) for d in (1, 2, 3)]
        + [("b", date(2026, 5, 1), 1, 1, 0.1)],
        "media_id string, date date, load_count bigint, play_count bigint, hours_watched double",
    )
    events = spark.createDataFrame(
        [], "media_id string, date date, visitor_id string, percent_viewed double"
    )
    dim_media = spark.createDataFrame(
        [("a", "YouTube", datetime(2026, 5, 3, 23, 30))],  # "b" is unknown: its rows stay
        "media_id string, channel string, created_at timestamp",
    )
    facts = build_fact_media_daily(daily, events, dim_media).collect()
    assert sorted((r.media_id, r.date.day) for r in facts) == [("a", 3), ("b", 1)]
