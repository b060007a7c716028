"""A small gold (and silver) layer on disk with hand-checked answers, laid out like Spark writes it.

Period under test: 2026-06-08 – 2026-06-14; previous period: 2026-06-01 – 2026-06-07.

Current period, fact_media_daily: m1 (YouTube) 06-10 100 loads / 40 plays / 2.0 h and 06-11
50 / 10 / 1.0; m2 (Facebook) 06-10 0 / 0 / 0.0 and 06-12 200 / 50 / 5.0. Totals: 100 plays,
350 loads, 8.0 h, play rate 100/350 (the mean of the daily rates would be different).
Previous: m1 06-03 100 / 20 / 1.0, m2 06-05 100 / 30 / 2.0 → 50 plays, 200 loads, 3.0 h.

fact_media_engagement, current: v1 watches m1 on 06-10 (2 plays, 0.5) and 06-11 (1, 1.0), v2
m1 06-10 (1, 0.2), v1 m2 06-12 (3, 0.4), v3 m2 06-12 (1, 0.8). Unique visitors 3 (the daily
uniques sum to 5); engagement 4.2 / 8 = 0.525. Previous: v4 m1 06-03 (2, 0.3) and m2 06-05
(2, 0.6) → 1 visitor, engagement 1.8 / 4 = 0.45.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

PERIOD_START = date(2026, 6, 8)
PERIOD_END = date(2026, 6, 14)
D = date.fromisoformat

DIM_MEDIA = pd.DataFrame(
    {
        "media_id": ["m1", "m2", "m3"],
        "title": ["Gap Method YouTube", "Gap Method Facebook", "Webinar"],
        "url": ["https://x/m1", "https://x/m2", "https://x/m3"],
        "channel": ["YouTube", "Facebook", "Other"],
        "created_at": [datetime(2026, 1, 1, 12), datetime(2026, 1, 2), datetime(2026, 2, 1)],
        "duration_seconds": [120.0, 90.5, 3600.0],
        "folder_name": ["Ads", "Ads", None],
    }
)
DIM_VISITOR = pd.DataFrame(
    {
        "visitor_id": ["v1", "v2", "v3", "v4"],
        "ip_address": ["1.2.3.0", "5.6.7.0", "9.9.9.0", None],
        "country": ["US", "DE", "US", None],
        "region": ["CA", "BE", "NY", None],
        "city": ["SF", "Berlin", "NYC", None],
        "browser": ["Chrome", "Safari", "Chrome", "Firefox"],
        "platform": ["Windows", "iOS", "Android", "Linux"],
        "is_mobile": [False, True, True, None],
        "first_seen_at": [datetime(2026, 6, 1)] * 4,
        "last_seen_at": [datetime(2026, 6, 12)] * 4,
    }
)
FACT_MEDIA_DAILY = pd.DataFrame(
    [
        # media, date, channel, loads, plays, hours, uniques, avg engagement
        ("m1", D("2026-06-10"), "YouTube", 100, 40, 2.0, 2, 0.4),
        ("m1", D("2026-06-11"), "YouTube", 50, 10, 1.0, 1, 1.0),
        ("m2", D("2026-06-10"), "Facebook", 0, 0, 0.0, 0, None),
        ("m2", D("2026-06-12"), "Facebook", 200, 50, 5.0, 2, 0.6),
        ("m1", D("2026-06-03"), "YouTube", 100, 20, 1.0, 1, 0.3),
        ("m2", D("2026-06-05"), "Facebook", 100, 30, 2.0, 1, 0.6),
        ("m1", D("2026-06-20"), "YouTube", 999, 999, 99.0, 9, 0.9),  # after the period
    ],
    columns=[
        "media_id",
        "date",
        "channel",
        "load_count",
        "play_count",
        "hours_watched",
        "unique_visitors",
        "avg_engagement",
    ],
)
_LOADS = FACT_MEDIA_DAILY["load_count"]
FACT_MEDIA_DAILY["play_rate"] = FACT_MEDIA_DAILY["play_count"] / _LOADS.where(_LOADS > 0)
FACT_MEDIA_ENGAGEMENT = pd.DataFrame(
    [
        ("m1", "v1", D("2026-06-10"), 2, 0.5),
        ("m1", "v1", D("2026-06-11"), 1, 1.0),
        ("m1", "v2", D("2026-06-10"), 1, 0.2),
        ("m2", "v1", D("2026-06-12"), 3, 0.4),
        ("m2", "v3", D("2026-06-12"), 1, 0.8),
        ("m1", "v4", D("2026-06-03"), 2, 0.3),
        ("m2", "v4", D("2026-06-05"), 2, 0.6),
        ("m1", "v9", D("2026-06-20"), 5, 0.9),  # after the period
    ],
    columns=["media_id", "visitor_id", "date", "play_count", "watched_percent"],
)
FACT_MEDIA_ENGAGEMENT["total_watch_time_seconds"] = FACT_MEDIA_ENGAGEMENT["watched_percent"] * 100
FACT_MEDIA_ENGAGEMENT["max_watched_percent"] = FACT_MEDIA_ENGAGEMENT["watched_percent"]
MEDIA_METRICS_SUMMARY = pd.DataFrame(
    [
        ("m1", "Gap Method YouTube", D("2026-06-13"), 100, 300, 40, 0.33, 0.5),
        ("m1", "Gap Method YouTube", D("2026-06-14"), 110, 320, 42, 0.34, 0.51),
        ("m2", "Gap Method Facebook", D("2026-06-14"), 80, 400, 30, 0.2, 0.45),
    ],
    columns=[
        "media_id",
        "media_name",
        "load_date",
        "total_plays",
        "total_loads",
        "total_visitors",
        "play_rate",
        "engagement",
    ],
)
SILVER_MEDIA_ENGAGEMENT = pd.DataFrame(
    {
        "media_id": ["m1", "m1"],
        "engagement": [0.4, 0.5],
        "engagement_data": [[5, 5], [10, 8, 5]],
        "rewatch_data": [[0, 0], [1, 1, 0]],
        "load_date": [D("2026-06-13"), D("2026-06-14")],
    }
)


def write_table(root: Path, layer: str, name: str, frame: pd.DataFrame, by: str | None) -> None:
    """Write like Spark: one folder per partition value, the partition column only in the name."""
    base = root / layer / name
    base.mkdir(parents=True, exist_ok=True)
    (base / "_SUCCESS").write_text("")
    if by is None:
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), base / "part-0.parquet")
        return
    for value, group in frame.groupby(by):
        folder = base / f"{by}={pd.Timestamp(value).date().isoformat()}"
        folder.mkdir()
        table = pa.Table.from_pandas(group.drop(columns=[by]), preserve_index=False)
        pq.write_table(table, folder / "part-00000-abc.c000.snappy.parquet")
    # A write in progress must not be read.
    staging = base / ".spark-staging-1" / f"{by}=2026-06-09"
    staging.mkdir(parents=True)
    junk = frame.head(1).drop(columns=[by])
    pq.write_table(pa.Table.from_pandas(junk, preserve_index=False), staging / "part-9.parquet")


def build(root: Path) -> Path:
    """Write the whole fixture under `root` and return it."""
    write_table(root, "gold", "dim_media", DIM_MEDIA, None)
    write_table(root, "gold", "dim_visitor", DIM_VISITOR, None)
    write_table(root, "gold", "fact_media_daily", FACT_MEDIA_DAILY, "date")
    write_table(root, "gold", "fact_media_engagement", FACT_MEDIA_ENGAGEMENT, "date")
    write_table(root, "gold", "media_metrics_summary", MEDIA_METRICS_SUMMARY, "load_date")
    write_table(root, "silver", "media_engagement", SILVER_MEDIA_ENGAGEMENT, "load_date")
    return root
