"""The SQL KPIs equal a plain pandas reading of ARCHITECTURE §9 on random gold tables."""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.filters import Period
from services.kpis import kpi_summary
from services.warehouse import DuckDBWarehouse
from tests.services.gold_fixture import DIM_MEDIA, write_table

DAY0 = date(2026, 6, 1)
MEDIA = ["m1", "m2", "m3"]
CHANNEL = dict(zip(DIM_MEDIA["media_id"], DIM_MEDIA["channel"], strict=True))

daily_rows = st.dictionaries(
    st.tuples(st.sampled_from(MEDIA), st.integers(0, 19)),
    st.tuples(st.integers(0, 50), st.integers(0, 50), st.floats(0, 10)),
    max_size=25,
)
engagement_rows = st.dictionaries(
    st.tuples(
        st.sampled_from(MEDIA), st.sampled_from(["a", "b", "c", "d", "e"]), st.integers(0, 19)
    ),
    st.tuples(st.integers(1, 6), st.floats(0, 1)),
    max_size=25,
)


def _frames(daily: dict, engagement: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    d = pd.DataFrame(
        [
            (m, DAY0 + timedelta(days=k), CHANNEL[m], max(loads, plays), plays, hours)
            for (m, k), (loads, plays, hours) in daily.items()
        ],
        columns=["media_id", "date", "channel", "load_count", "play_count", "hours_watched"],
    )
    e = pd.DataFrame(
        [(m, v, DAY0 + timedelta(days=k), pc, wp) for (m, v, k), (pc, wp) in engagement.items()],
        columns=["media_id", "visitor_id", "date", "play_count", "watched_percent"],
    )
    return d, e


def _expected(d: pd.DataFrame, e: pd.DataFrame, period: Period, channel, media_id) -> dict:
    d = d[(d["date"] >= period.start) & (d["date"] <= period.end)]
    e = e[(e["date"] >= period.start) & (e["date"] <= period.end)]
    if channel:
        d = d[d["channel"] == channel]
        e = e[e["media_id"].map(CHANNEL) == channel]
    if media_id:
        d, e = d[d["media_id"] == media_id], e[e["media_id"] == media_id]
    plays, loads, engaged = (
        int(d["play_count"].sum()),
        int(d["load_count"].sum()),
        e["play_count"].sum(),
    )
    return {
        "plays": plays,
        "loads": loads,
        "hours": float(d["hours_watched"].sum()),
        "play_rate": plays / loads if loads else None,
        "unique_visitors": e["visitor_id"].nunique(),
        "engagement": (e["watched_percent"] * e["play_count"]).sum() / engaged if engaged else None,
    }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    daily=daily_rows,
    engagement=engagement_rows,
    start=st.integers(0, 19),
    days=st.integers(1, 10),
    channel=st.sampled_from([None, "YouTube", "Facebook"]),
    media_id=st.sampled_from([None, "m1", "m2"]),
)
def test_kpis_match_the_formulas(daily, engagement, start, days, channel, media_id):
    d, e = _frames(daily, engagement)
    period = Period.last_days(days, DAY0 + timedelta(days=start + days - 1))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_table(root, "gold", "dim_media", DIM_MEDIA, None)
        if len(d):
            write_table(root, "gold", "fact_media_daily", d, "date")
        if len(e):
            write_table(root, "gold", "fact_media_engagement", e, "date")
        warehouse = DuckDBWarehouse(root)
        summary = kpi_summary(warehouse, period, channel=channel, media_id=media_id)
        warehouse.close()
    for got, which in ((summary.current, period), (summary.previous, period.previous())):
        want = _expected(d, e, which, channel, media_id)
        for name, value in want.items():
            actual = getattr(got, name)
            if value is None:
                assert actual is None, name
            else:
                assert actual == pytest.approx(value, rel=1e-9, abs=1e-9), name
