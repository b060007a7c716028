"""Bronze → Silver → Gold end to end on the shared scenario (see scenario.py), hand-checked."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.pipeline.transform.bronze_fixtures import FB, WEB, YT
from tests.pipeline.transform.scenario import (
    BAD,
    D1,
    D2,
    D3,
    L1,
    L2,
    RUN_A,
    RUN_B,
    SRC,
)


def by_key(rows, *keys):
    return {tuple(r[k] for k in keys) if len(keys) > 1 else r[keys[0]]: r for r in rows}


def test_silver_reads_only_complete_runs(scenario):
    result = scenario.results["silver_l1"]
    assert result["runs"] == [RUN_A, RUN_B]  # the killed and the failed run are ignored
    keys = {r["event_key"] for r in scenario.silver_l1["events"]}
    assert keys == {"e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e11"}
    assert {r["run_id"] for r in scenario.silver_l1["events"]} == {RUN_A, RUN_B}


def test_silver_renames_casts_and_keeps_latest_extraction(scenario):
    events = by_key(scenario.silver_l1["events"], "event_key")
    e3 = events["e3"]
    assert e3["percent_viewed"] == 0.3 and e3["run_id"] == RUN_B  # the later run won
    e6 = events["e6"]  # "2026-05-02T12:00:00+02:00": an offset, converted to UTC
    assert e6["received_at"] == datetime(2026, 5, 2, 10, 0, 0)
    assert e6["date"] == D2
    assert e6["visitor_id"] == "v4" and e6["browser"] == "Chrome" and e6["is_mobile"] is False
    assert e6["traffic_source"] == "youtube"
    assert events["e4"]["date"] == D1  # 23:59:59Z stays on its UTC day
    assert all(r["load_date"] == L1 for r in scenario.silver_l1["events"])

    daily = by_key(scenario.silver_l1["media_daily"], "media_id", "date")
    assert daily[(YT, D2)]["load_count"] == 5 and daily[(YT, D2)]["run_id"] == RUN_B
    assert set(daily) == {(YT, D1), (YT, D2), (FB, D1), (FB, D2), (WEB, D2), (SRC, D1)}
    stats = by_key(scenario.silver_l1["media_stats"], "media_id")
    assert stats[YT]["play_count"] == 41 and set(stats) == {YT, FB, WEB}
    medias = by_key(scenario.silver_l1["medias"], "media_id")
    assert medias[FB]["duration_seconds"] == 200.0 and medias[FB]["folder_name"] == "Ads"
    assert medias[YT]["created_at"] == datetime(2025, 12, 1, 10, 0)
    engagement = by_key(scenario.silver_l1["media_engagement"], "media_id")
    assert engagement[YT]["engagement_data"] == [5, 4, 3]


def test_unknown_fields_do_not_reject_a_record(scenario):
    assert "e6" in {r["event_key"] for r in scenario.silver_l1["events"]}  # it has new_field


def test_every_bad_record_is_quarantined_with_its_reason(scenario):
    quarantine = scenario.silver_l1["quarantine"]
    reasons = sorted((r["stream"], r["reason"]) for r in quarantine)
    assert reasons == sorted(
        [
            ("events", "truncated or malformed page"),
            ("events", "missing event_key"),
            ("events", "percent_viewed not a number"),
            ("events", "percent_viewed outside 0-1"),
            ("events", "unparseable received_at"),
            ("events", "missing visitor_key"),
            ("events", "missing percent_viewed"),
            ("media_by_date", "plays > loads"),
            ("media_by_date", "negative counts"),
            ("media_by_date", "unparseable date"),
        ]
    )
    page = next(r for r in quarantine if r["reason"] == "truncated or malformed page")
    assert page["raw"].startswith('[{"received_at"') and page["part"].startswith("bronze/events/")
    q2 = next(r for r in quarantine if r["reason"] == "percent_viewed not a number")
    assert '"event_key":"q2"' in q2["raw"] and q2["run_id"] == RUN_A
    assert all(r["load_date"] == L1 for r in quarantine)
    assert scenario.results["silver_l1"]["rows"]["quarantine"] == 10
    assert BAD not in {r["media_id"] for r in scenario.gold_l1["fact_media_daily"]}


def test_ip_addresses_are_masked_by_default(scenario):
    ips = {r["ip_address"] for r in scenario.silver_l1["events"]}
    assert ips == {"203.0.113.0", "198.51.100.0", "2001:db8:85a3::"}
    visitors = by_key(scenario.gold_l1["dim_visitor"], "visitor_id")
    assert visitors["v2"]["ip_address"] == "2001:db8:85a3::"  # from v2's latest event (e5)


def test_fact_media_engagement_hand_computed(scenario):
    facts = by_key(scenario.gold_l1["fact_media_engagement"], "media_id", "visitor_id", "date")
    expected = {
        (YT, "v1", D1): (1, 50.0, 0.5, 0.5),
        (YT, "v2", D1): (1, 100.0, 1.0, 1.0),
        (YT, "v1", D2): (1, 30.0, 0.3, 0.3),
        (YT, "v4", D2): (1, 40.0, 0.4, 0.4),
        (FB, "v3", D1): (1, 40.0, 0.2, 0.2),
        (WEB, "v2", D2): (1, None, 0.1, 0.1),  # duration unknown: no watch time
        (SRC, "v5", D1): (3, None, 0.4, 0.6),
    }
    assert set(facts) == set(expected)
    for key, (plays, seconds, mean, top) in expected.items():
        row = facts[key]
        assert row["play_count"] == plays, key
        assert row["total_watch_time_seconds"] == pytest.approx(seconds), key
        assert row["watched_percent"] == pytest.approx(mean), key
        assert row["max_watched_percent"] == pytest.approx(top), key


def test_fact_media_daily_hand_computed(scenario):
    facts = by_key(scenario.gold_l1["fact_media_daily"], "media_id", "date")
    expected = {
        (YT, D1): ("YouTube", 10, 2, 0.2, 0.02, 2, 0.75),
        (YT, D2): ("YouTube", 5, 2, 0.4, 0.02, 2, 0.35),
        (FB, D1): ("Facebook", 5, 1, 0.2, 0.01, 1, 0.2),
        (FB, D2): ("Facebook", 0, 0, None, 0.0, 0, None),  # no loads: no play rate
        (WEB, D2): ("Other", 3, 1, 1 / 3, 0.01, 1, 0.1),
        (SRC, D1): ("YouTube", 6, 3, 0.5, 0.03, 1, 0.4),  # 3 plays, one visitor
    }
    assert set(facts) == set(expected)
    columns = (
        "channel",
        "load_count",
        "play_count",
        "play_rate",
        "hours_watched",
        "unique_visitors",
        "avg_engagement",
    )
    for key, values in expected.items():
        row = facts[key]
        for column, value in zip(columns, values, strict=True):
            assert row[column] == pytest.approx(value), (key, column)


def test_dims_and_summary_hand_computed(scenario):
    media = by_key(scenario.gold_l1["dim_media"], "media_id")
    assert set(media) == {YT, FB, WEB, SRC}
    assert media[YT]["channel"] == "YouTube" and media[FB]["channel"] == "Facebook"
    assert media[SRC]["channel"] == "YouTube"  # majority utm_source of its events
    assert media[WEB]["channel"] == "Other"  # "newsletter" maps to no channel
    assert media[SRC]["title"] == "Product demo"  # never listed: title from its events
    assert media[FB]["duration_seconds"] == 200.0 and media[FB]["folder_name"] == "Ads"
    assert media[YT]["url"] == f"https://acme.wistia.com/medias/{YT}"

    visitors = by_key(scenario.gold_l1["dim_visitor"], "visitor_id")
    assert set(visitors) == {"v1", "v2", "v3", "v4", "v5"}
    assert visitors["v1"]["first_seen_at"] == datetime(2026, 5, 1, 8, 0)
    assert visitors["v1"]["last_seen_at"] == datetime(2026, 5, 2, 10, 0)

    summary = by_key(scenario.gold_l1["media_metrics_summary"], "media_id")
    assert set(summary) == {YT, FB, WEB}
    yt = summary[YT]
    assert (yt["total_plays"], yt["total_loads"], yt["total_visitors"]) == (41, 100, 80)
    assert yt["media_name"].startswith("Chris Face VSL") and yt["load_date"] == L1


def test_next_load_recomputes_only_the_dates_it_touched(scenario):
    result = scenario.results["gold_l2"]
    assert result["dates"] == [D2.isoformat(), D3.isoformat()]
    assert result["silver_loads_read"] == [L1.isoformat(), L2.isoformat()]
    # D1 partitions were not rewritten: same files, same modification times.
    assert scenario.d1_files_l1 and scenario.d1_files_l2 == scenario.d1_files_l1
    before = [r for r in scenario.gold_l1["fact_media_daily"] if r["date"] == D1]
    after = [r for r in scenario.gold_l2["fact_media_daily"] if r["date"] == D1]
    assert after == before
    assert scenario.gold_partitions_l2["fact_media_daily"] == [
        f"date={d.isoformat()}" for d in (D1, D2, D3)
    ]
    assert scenario.gold_partitions_l2["media_metrics_summary"] == [
        f"load_date={d.isoformat()}" for d in (L1, L2)
    ]

    facts = by_key(scenario.gold_l2["fact_media_engagement"], "media_id", "visitor_id", "date")
    assert facts[(YT, "v1", D2)]["watched_percent"] == pytest.approx(0.35)  # L2 won
    assert facts[(YT, "v4", D2)]["play_count"] == 1  # only in L1: still there
    assert facts[(YT, "v1", D3)]["total_watch_time_seconds"] == pytest.approx(80.0)
    daily = by_key(scenario.gold_l2["fact_media_daily"], "media_id", "date")
    assert daily[(YT, D2)]["avg_engagement"] == pytest.approx(0.375)
    assert daily[(YT, D3)]["play_rate"] == pytest.approx(1 / 7)
    assert daily[(FB, D2)]["load_count"] == 0  # FB's D2 row came from L1's Silver
    visitors = by_key(scenario.gold_l2["dim_visitor"], "visitor_id")
    assert visitors["v1"]["last_seen_at"] == datetime(2026, 5, 3, 5, 0)


def test_rerunning_a_day_is_idempotent_and_keeps_the_catalog_tables(scenario):
    assert scenario.gold_rerun == scenario.gold_l2  # L1 again, after L2: nothing changes
    assert scenario.silver_rerun == scenario.silver_l2
    assert scenario.created_rerun == scenario.created_l1  # no table was re-created


def test_step_results_report_counts(scenario):
    silver = scenario.results["silver_l1"]
    assert silver["rows"] == {
        "medias": 2,
        "media_stats": 3,
        "media_daily": 6,
        "events": 9,
        "media_engagement": 3,
        "quarantine": 10,
    }
    assert silver["malformed_pages"] == 1 and silver["rejected_records"]["events"] == 6
    gold = scenario.results["gold_l1"]
    assert gold["rows"]["fact_media_engagement"] == 7 and gold["rows"]["dim_media"] == 4
    assert gold["seconds"] > 0 and "dim_visitor" in gold["timings"]


def test_a_dims_rewrite_cut_short_is_rebuilt_from_silver(spark, tmp_path):
    from pipeline.jobs import DIMS_MARKER, bronze_to_silver, silver_to_gold
    from pipeline.storage import LocalStorage
    from tests.pipeline.transform.scenario import L2, rows, write_l1, write_l2
    from tests.spark_fixture import unique_db

    root, dbs = str(tmp_path), {"silver_db": unique_db("s"), "gold_db": unique_db("g")}
    write_l1(tmp_path)
    write_l2(tmp_path)
    for load in (L1, L2):
        bronze_to_silver(spark, root, load, silver_db=dbs["silver_db"])
        silver_to_gold(spark, root, load, **dbs)
    clean = {t: rows(spark, dbs["gold_db"], t) for t in ("dim_visitor", "dim_media")}
    storage = LocalStorage(tmp_path)
    assert not storage.exists(DIMS_MARKER)

    # As a run killed while rewriting the dims leaves them: marker there, dim_visitor emptied.
    storage.put(DIMS_MARKER, b"{}")
    for part in (tmp_path / "gold" / "dim_visitor").glob("*.parquet"):
        part.unlink()
    spark.catalog.refreshTable(f"{dbs['gold_db']}.dim_visitor")
    assert rows(spark, dbs["gold_db"], "dim_visitor") == []

    silver_to_gold(spark, root, L2, **dbs)  # the next run
    assert {t: rows(spark, dbs["gold_db"], t) for t in clean} == clean
    assert not storage.exists(DIMS_MARKER)
