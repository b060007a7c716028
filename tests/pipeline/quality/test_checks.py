"""Quality checks: each blocking check fails on a crafted bad table; warnings never block."""

from __future__ import annotations

import json
from datetime import date, datetime

import pandas as pd
import pytest

from pipeline.jobs import run_quality_checks
from pipeline.quality import (
    QualityCheckFailed,
    QualityReport,
    check_engagement_matches_daily,
    check_gold,
    check_quarantine,
    check_unknown_fields,
)
from pipeline.storage import LocalStorage
from pipeline.transform.schemas import GOLD_TABLES
from tests.pipeline.transform.scenario import L1

D = date(2026, 5, 1)
T = datetime(2026, 5, 1, 8)


def good_rows() -> dict[str, list[tuple]]:
    return {
        "dim_media": [("m1", "Title", "u", "YouTube", T, 100.0, "F")],
        "dim_visitor": [("v1", "1.2.3.0", "US", "WA", "Seattle", "Chrome", "mac", False, T, T)],
        "fact_media_engagement": [("m1", "v1", 2, 150.0, 0.75, 1.0, D)],
        "fact_media_daily": [("m1", "YouTube", 10, 2, 0.2, 0.04, 1, 0.75, D)],
        "media_metrics_summary": [("m1", "Title", 2, 10, 1, 0.2, 0.75, D)],
    }


def frames(spark, rows):
    return {
        name: spark.createDataFrame(
            pd.DataFrame(data, columns=GOLD_TABLES[name].columns), GOLD_TABLES[name].schema
        )
        for name, data in rows.items()
    }


def failed(results) -> set[tuple[str, str]]:
    return {(r.name, r.table) for r in results if r.status == "fail"}


BAD_ROWS = {
    "dim_media": [("m1", "Again", "u", "YouTube", T, 1.0, "F")],  # duplicate key
    "fact_media_engagement": [
        ("m1", None, 1, 1.0, 0.5, 0.5, D),  # null key
        ("m2", "v9", 1, 1.0, 0.5, 0.5, D),  # unknown media, unknown visitor
    ],
    "fact_media_daily": [("m1", "YouTube", 1, 3, 3.0, 0.0, 1, 0.5, date(2026, 5, 2))],
    "media_metrics_summary": [
        ("m1", "Title", 2, 10, 1, 0.2, -0.1, date(2026, 5, 2)),  # fraction below 0
        ("m3", "Title", 2, 10, 1, 0.2, 0.1, date(2026, 5, 2)),  # unknown media
    ],
}


def test_each_blocking_check_fails_on_its_bad_row(spark):
    rows = good_rows()
    for table, extra in BAD_ROWS.items():
        rows[table] = [*rows[table], *extra]
    results = check_gold(frames(spark, rows))
    assert failed(results) == {
        ("unique_key", "dim_media"),
        ("not_null_key", "fact_media_engagement"),
        ("references_dim_media", "fact_media_engagement"),
        ("references_dim_visitor", "fact_media_engagement"),
        ("plays_le_loads", "fact_media_daily"),
        ("fractions_0_1", "fact_media_daily"),
        ("fractions_0_1", "media_metrics_summary"),
        ("references_dim_media", "media_metrics_summary"),
    }
    for result in results:
        if result.status == "fail":
            assert result.level == "blocking" and result.failed == 1 and result.sample, result
    report = QualityReport("2026-05-01", results)
    assert not report.passed
    with pytest.raises(QualityCheckFailed, match="quality checks failed") as info:
        report.raise_for_failures()
    assert info.value.report is report


def test_one_bad_row_fails_only_its_check(spark):
    rows = good_rows()
    rows["dim_visitor"] = [*rows["dim_visitor"], rows["dim_visitor"][0]]
    results = check_gold(frames(spark, rows))
    assert failed(results) == {("unique_key", "dim_visitor")}


def test_warnings_do_not_block(spark):
    rows = good_rows()
    rows["fact_media_daily"] = [("m1", "YouTube", 10, 3, 0.3, 0.04, 1, 0.75, D)]  # 3 vs 2 plays
    results = check_gold(frames(spark, rows))
    warn = [r for r in results if r.status == "warn"]
    assert [(r.name, r.level, r.failed) for r in warn] == [
        ("engagement_plays_match_daily", "warning", 1)
    ]
    assert {r.status for r in results} == {"pass", "warn"}  # everything else passes
    assert QualityReport("x", results).passed
    tables = frames(spark, rows)
    tolerant = check_engagement_matches_daily(
        tables["fact_media_engagement"], tables["fact_media_daily"], tolerance=0.5
    )
    assert tolerant.status == "pass"


def test_quarantine_and_unknown_field_warnings(spark):
    quarantine = spark.createDataFrame(
        pd.DataFrame({"stream": ["events"] * 3, "reason": ["missing event_key"] * 3}),
        "stream string, reason string",
    )
    assert check_quarantine(quarantine, threshold=5).status == "pass"
    result = check_quarantine(quarantine, threshold=1)
    assert (result.status, result.failed) == ("warn", 3)
    assert "events: missing event_key" in result.details
    drift = check_unknown_fields({"events": ["new_field"], "medias": []})
    assert (drift.status, drift.failed, drift.level) == ("warn", 1, "warning")


def test_run_quality_checks_on_the_scenario_writes_the_report(spark, scenario):
    report = run_quality_checks(
        spark, str(scenario.root), L1, silver_db=scenario.silver_db, gold_db=scenario.gold_db
    )
    assert report.passed, report.summary()
    by_name = {r.name: r for r in report.checks}
    assert by_name["quarantine_below_threshold"].status == "warn"  # 10 quarantined
    assert "new_field" in by_name["unknown_bronze_fields"].details
    assert by_name["engagement_plays_match_daily"].status == "pass"
    assert report.scope["dates"] == ["2026-05-01", "2026-05-02"]

    storage = LocalStorage(scenario.root)
    latest = json.loads(storage.get("quality/latest.json"))
    assert latest["passed"] is True and latest["load_date"] == L1.isoformat()
    stored = list(storage.list(f"quality/load_date={L1.isoformat()}"))
    assert len(stored) >= 1 and json.loads(storage.get(stored[-1])) == latest
    assert {c["level"] for c in latest["checks"]} == {"blocking", "warning"}
