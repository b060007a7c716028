"""Compare gold (read straight from its Parquet files with DuckDB) with the simulator's truth."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from pipeline.simulator import SyntheticAccount
from services.filters import Period
from services.kpis import kpi_summary
from services.warehouse import DuckDBWarehouse

TOL = 1e-9


def gold_table(root: Path, table: str) -> pd.DataFrame:
    """A gold table from its files (hive partition folders), independent of any catalog."""
    pattern = str(root / "gold" / table / "**" / "*.parquet")
    with duckdb.connect() as con:
        return con.execute(
            "SELECT * FROM read_parquet(?, hive_partitioning = true, union_by_name = true)",
            [pattern],
        ).df()


def assert_daily_matches_truth(root: Path, truth: dict) -> int:
    """Every media-day of fact_media_daily equals the truth; returns the rows checked."""
    daily = gold_table(root, "fact_media_daily")
    daily["date"] = pd.to_datetime(daily["date"]).dt.date.astype(str)
    gold = {(r.media_id, r.date): r for r in daily.itertuples()}
    expected = {(t["media_id"], t["date"]): t for t in truth["media_daily"]}
    for key, t in expected.items():
        assert key in gold, f"missing in gold: {key}"
        g = gold[key]
        assert (g.load_count, g.play_count) == (t["load_count"], t["play_count"]), key
        assert abs(g.hours_watched - t["hours_watched"]) <= TOL, key
        assert g.unique_visitors == t["unique_visitors"], key
        if t["count_percent_viewed"]:
            mean = t["sum_percent_viewed"] / t["count_percent_viewed"]
            assert abs(g.avg_engagement - mean) <= TOL, key
        else:
            assert g.avg_engagement is None or math.isnan(g.avg_engagement), key
    for key, g in gold.items():  # rows the truth lacks (before a media existed) are empty
        if key not in expected:
            assert g.play_count == 0 and g.load_count == 0, key
    return len(expected)


def assert_kpis_match_truth(
    root: Path, truth: dict, account: SyntheticAccount, start: date, end: date
) -> None:
    """The §9 KPIs over [start, end], computed by the dashboard's own code, equal the truth."""
    rows = [t for t in truth["media_daily"] if start.isoformat() <= t["date"] <= end.isoformat()]
    plays = sum(t["play_count"] for t in rows)
    loads = sum(t["load_count"] for t in rows)
    hours = sum(t["hours_watched"] for t in rows)
    engagement = sum(t["sum_percent_viewed"] for t in rows) / sum(
        t["count_percent_viewed"] for t in rows
    )
    kpis = kpi_summary(DuckDBWarehouse(str(root)), Period(start, end)).current
    assert kpis.plays == plays
    assert kpis.loads == loads
    assert abs(kpis.hours - hours) <= TOL
    assert abs(kpis.play_rate - plays / loads) <= TOL
    assert kpis.unique_visitors == account.unique_visitors(None, start, end)
    assert abs(kpis.engagement - engagement) <= TOL
