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
