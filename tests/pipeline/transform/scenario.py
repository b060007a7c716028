"""The shared end-to-end scenario: two load dates through Silver and Gold, then a re-run.

Built once per test session (it is the expensive part) and read by the transform, quality
and Glue tests. Load L1 (2026-05-02) has two complete runs (the later one corrects a few
records), a killed run and a failed run (both must be ignored), a truncated page and bad
records. Load L2 (2026-05-03) touches D2 again and adds D3. Both go through the job steps
(`pipeline.jobs`). Finally L1 is run again through the Glue entry scripts, called as Glue
calls them (`main(argv)` with Glue's extra arguments): that must change nothing — the
scripts write what the steps write, and a re-run is idempotent and order-independent.

The hand-computed expectations are in the tests (test_pipeline.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from glue_jobs import bronze_to_silver as glue_bronze_to_silver
from glue_jobs import silver_to_gold as glue_silver_to_gold
from pipeline.catalog import describe_table, partitions, qualified
from pipeline.jobs import bronze_to_silver, silver_to_gold
from pipeline.transform.schemas import GOLD_TABLES, SILVER_TABLES
from tests.pipeline.transform.bronze_fixtures import (
    YT,
    BronzeBuilder,
    event,
    sample_load,
)

L1, L2 = date(2026, 5, 2), date(2026, 5, 3)
D1, D2, D3 = date(2026, 5, 1), date(2026, 5, 2), date(2026, 5, 3)
SRC = "ytsrc00001"  # not in /medias; its channel comes from its events' utm_source
BAD = "bad0000001"  # all of its by_date rows are invalid
RUN_A = "20260503T010000Z-aaaaaa"
RUN_B = "20260503T020000Z-bbbbbb"
RUN_KILLED = "20260503T030000Z-cccccc"
RUN_FAILED = "20260503T040000Z-dddddd"
RUN_L2 = "20260504T010000Z-eeeeee"
TRUNCATED = '[{"received_at": "2026-05-02T01:00:00Z", "event_key": "lost", "visitor_key'


def _stats(plays: int, loads: int = 100) -> dict:
    return {
        "load_count": loads,
        "play_count": plays,
        "play_rate": 0.4,
        "hours_watched": 1.5,
        "engagement": 0.61,
        "visitors": 80,
        "actions": [],
    }


def write_l1(root: Path) -> None:
    a = sample_load(root, run_id=RUN_A, load_date=L1, complete=False)
    a.page("events", None, media_id=YT, raw=TRUNCATED)
    a.page(
        "events",
        [
            event("e6", YT, "v4", "2026-05-02T12:00:00+02:00", 0.4, new_field={"x": 1}),
            event("e1", YT, "v1", "2026-05-01T08:00:00Z", 0.5),  # duplicate page entry
            event("", YT, "v9", "2026-05-02T01:00:00Z", 0.5),
            event("q2", YT, "v9", "2026-05-02T01:00:00Z", "abc"),
            event("q3", YT, "v9", "2026-05-02T01:00:00Z", 1.5),
            event("q4", YT, "v9", "yesterday", 0.5),
            event("q5", YT, None, "2026-05-02T01:00:00Z", 0.5),
            event("q6", YT, "v9", "2026-05-02T01:00:00Z", None),
        ],
        media_id=YT,
    )
    a.page(
        "events",
        [
            event("e7", SRC, "v5", "2026-05-01T10:00:00Z", 0.6, media_name="Product demo"),
            event("e8", SRC, "v5", "2026-05-01T11:00:00Z", 0.4, media_name="Product demo"),
            event(
                "e11",
                SRC,
                "v5",
                "2026-05-01T12:00:00Z",
                0.2,
                source="facebook",
                media_name="Product demo",
            ),
        ],
        media_id=SRC,
    )
    a.page(
        "media_by_date",
        [{"date": "2026-05-01", "load_count": 6, "play_count": 3, "hours_watched": 0.03}],
        media_id=SRC,
    )
    a.page(
        "media_by_date",
        [
            {"date": "2026-05-01", "load_count": 1, "play_count": 2, "hours_watched": 0.0},
            {"date": "2026-05-02", "load_count": -1, "play_count": 0, "hours_watched": 0.0},
            {"date": "2026-13-01", "load_count": 1, "play_count": 0, "hours_watched": 0.0},
        ],
        media_id=BAD,
    )
    a.complete()

    b = BronzeBuilder(root, L1, RUN_B, datetime(2026, 5, 3, 2, tzinfo=UTC))
    b.page("events", [event("e3", YT, "v1", "2026-05-02T10:00:00Z", 0.3)], media_id=YT)
    b.page(
        "media_by_date",
        [
            {"date": "2026-05-01", "load_count": 10, "play_count": 2, "hours_watched": 0.02},
            {"date": "2026-05-02", "load_count": 5, "play_count": 2, "hours_watched": 0.02},
        ],
        media_id=YT,
    )
    b.page("media_stats", _stats(41), media_id=YT)
    b.complete()

    killed = BronzeBuilder(root, L1, RUN_KILLED, datetime(2026, 5, 3, 3, tzinfo=UTC))
    killed.page(
        "events",
        [
            event("e1", YT, "v1", "2026-05-01T08:00:00Z", 0.99),
            event("k9", YT, "v1", "2026-05-01T08:00:00Z", 0.99),
        ],
        media_id=YT,
    )  # no manifest: the process died

    failed = BronzeBuilder(root, L1, RUN_FAILED, datetime(2026, 5, 3, 4, tzinfo=UTC))
    failed.page("events", [event("f9", YT, "v1", "2026-05-01T08:00:00Z", 0.99)], media_id=YT)
    failed.fail()


def write_l2(root: Path) -> None:
    c = BronzeBuilder(root, L2, RUN_L2, datetime(2026, 5, 4, 1, tzinfo=UTC))
    c.page("medias", [])
    c.page(
        "events",
        [
            event("e3", YT, "v1", "2026-05-02T10:00:00Z", 0.35),
            event("e12", YT, "v1", "2026-05-03T05:00:00Z", 0.8),
        ],
        media_id=YT,
    )
    c.page(
        "media_by_date",
        [
            {"date": "2026-05-02", "load_count": 5, "play_count": 2, "hours_watched": 0.02},
            {"date": "2026-05-03", "load_count": 7, "play_count": 1, "hours_watched": 0.01},
        ],
        media_id=YT,
    )
    c.page("media_stats", _stats(43, 110), media_id=YT)
    c.page(
        "media_engagement",
        {"engagement": 0.6, "engagement_data": [1], "rewatch_data": [0]},
        media_id=YT,
    )
    c.complete()


def rows(spark, db: str, table: str) -> list[dict[str, Any]]:
    """Every row of a table as dicts, sorted (for exact comparisons)."""
    df = spark.table(qualified(db, table))
    return sorted((r.asDict() for r in df.collect()), key=lambda r: repr(sorted(r.items())))


def snapshot(spark, db: str, tables) -> dict[str, list[dict[str, Any]]]:
    return {name: rows(spark, db, name) for name in tables}


def files(root: Path, prefix: str) -> dict[str, float]:
    """Data files under `root/prefix` with their modification times."""
    base = root / prefix
    return {
        str(p.relative_to(root)): p.stat().st_mtime
        for p in base.rglob("*.parquet")
        if not any(part.startswith((".", "_")) for part in p.relative_to(base).parts)
    }


@dataclass
class Scenario:
    root: Path
    silver_db: str
    gold_db: str
    results: dict[str, dict] = field(default_factory=dict)
    silver_l1: dict[str, list[dict]] = field(default_factory=dict)
    gold_l1: dict[str, list[dict]] = field(default_factory=dict)
    gold_l2: dict[str, list[dict]] = field(default_factory=dict)
    gold_rerun: dict[str, list[dict]] = field(default_factory=dict)
    silver_l2: dict[str, list[dict]] = field(default_factory=dict)
    silver_rerun: dict[str, list[dict]] = field(default_factory=dict)
    created_l1: dict[str, str] = field(default_factory=dict)
    created_rerun: dict[str, str] = field(default_factory=dict)
    d1_files_l1: dict[str, float] = field(default_factory=dict)
    d1_files_l2: dict[str, float] = field(default_factory=dict)
    gold_partitions_l2: dict[str, list[str]] = field(default_factory=dict)


_CACHE: dict[str, Scenario] = {}


def glue_argv(job: str, data_root: str, load_date: date, *extra: str) -> list[str]:
    """argv as Glue passes it to a job script (with arguments the script must ignore)."""
    return [
        f"{job}.py",
        "--JOB_ID",
        "j_0123",
        "--JOB_RUN_ID",
        "jr_0123",
        "--job-bookmark-option",
        "job-bookmark-disable",
        "--TempDir",
        "s3://unused/temporary",
        "--JOB_NAME",
        f"wvi-{job}",
        "--data_root",
        data_root,
        "--load_date",
        load_date.isoformat(),
        *extra,
    ]


def build(spark, root: Path) -> Scenario:
    tag = os.urandom(3).hex()
    sc = Scenario(root, f"silver_{tag}", f"gold_{tag}")
    data = str(root)

    def created() -> dict[str, str]:
        out = {t: describe_table(spark, sc.gold_db, t)["Created Time"] for t in GOLD_TABLES}
        for t in SILVER_TABLES:
            out[f"silver.{t}"] = describe_table(spark, sc.silver_db, t)["Created Time"]
        return out

    def d1_files() -> dict[str, float]:
        found = {}
        for table in ("fact_media_engagement", "fact_media_daily"):
            found.update(files(root, f"gold/{table}/date={D1.isoformat()}"))
        return found

    write_l1(root)
    sc.results["silver_l1"] = bronze_to_silver(spark, data, L1, silver_db=sc.silver_db)
    sc.results["gold_l1"] = silver_to_gold(
        spark, data, L1, silver_db=sc.silver_db, gold_db=sc.gold_db
    )
    sc.silver_l1 = snapshot(spark, sc.silver_db, SILVER_TABLES)
    sc.gold_l1 = snapshot(spark, sc.gold_db, GOLD_TABLES)
    sc.created_l1 = created()
    sc.d1_files_l1 = d1_files()

    write_l2(root)
    sc.results["silver_l2"] = bronze_to_silver(spark, data, L2, silver_db=sc.silver_db)
    sc.results["gold_l2"] = silver_to_gold(
        spark, data, L2, silver_db=sc.silver_db, gold_db=sc.gold_db
    )
    sc.gold_l2 = snapshot(spark, sc.gold_db, GOLD_TABLES)
    sc.silver_l2 = snapshot(spark, sc.silver_db, SILVER_TABLES)
    sc.d1_files_l2 = d1_files()
    sc.gold_partitions_l2 = {
        t: partitions(spark, sc.gold_db, t) for t in GOLD_TABLES if GOLD_TABLES[t].partition_by
    }

    sc.results["silver_rerun"] = glue_bronze_to_silver.main(
        glue_argv("bronze_to_silver", data, L1, "--silver_db", sc.silver_db)
    )
    sc.results["gold_rerun"] = glue_silver_to_gold.main(
        glue_argv("silver_to_gold", data, L1, "--silver_db", sc.silver_db, "--gold_db", sc.gold_db)
    )
    sc.gold_rerun = snapshot(spark, sc.gold_db, GOLD_TABLES)
    sc.silver_rerun = snapshot(spark, sc.silver_db, SILVER_TABLES)
    sc.created_rerun = created()
    return sc


@pytest.fixture(scope="session")
def scenario(spark, tmp_path_factory) -> Scenario:
    if "main" not in _CACHE:
        _CACHE["main"] = build(spark, tmp_path_factory.mktemp("scenario") / "data")
    return _CACHE["main"]
