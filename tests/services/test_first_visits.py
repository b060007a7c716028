"""The first-visits family (distinct visitors summed from gold.first_visits, engagement sums
from gold.engagement_daily) returns exactly the rows of the COUNT(DISTINCT visitor_id) family,
for random engagement, periods and filters."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services import queries
from services.filters import Period
from services.warehouse import DERIVED_TABLES, FIRST_VISITS, DuckDBWarehouse
from tests.services.gold_fixture import DIM_MEDIA, write_table

DAY0 = date(2026, 6, 1)  # a Monday: weeks cut by the period and whole ones both occur
# m4 has no dim_media row (the blocking checks rule that out, but gold is readable before
# they run): in both families it has no channel. m3 and m5 share the channel 'Other'.
MEDIA = ["m1", "m2", "m3", "m4", "m5"]
DIM = pd.concat(
    [DIM_MEDIA, DIM_MEDIA.iloc[[2]].assign(media_id="m5", title="Talk")], ignore_index=True
)


class CountDistinct:
    """The same DuckDB tables without the derived ones, so queries take COUNT(DISTINCT)."""

    def __init__(self, inner: DuckDBWarehouse):
        self.inner = inner

    def query(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        return self.inner.query(sql, params)

    def refresh(self) -> None:
        self.inner.refresh()


engagement_rows = st.dictionaries(
    # A null visitor is no visitor (COUNT(DISTINCT) skips it), but its plays still count.
    st.tuples(st.sampled_from(MEDIA), st.sampled_from([*"abcdefg", None]), st.integers(0, 27)),
    st.tuples(st.integers(0, 5), st.one_of(st.none(), st.floats(0, 1))),
    max_size=60,
)
daily_rows = st.dictionaries(
    st.tuples(st.sampled_from(MEDIA), st.integers(0, 27)), st.integers(0, 40), max_size=20
)


# Visitors f and g have no dim_visitor row: their country, device... are 'Unknown'.
VISITORS = pd.DataFrame(
    {
        "visitor_id": list("abcde"),
        "country": ["US", "DE", "US", None, "FR"],
        "is_mobile": [True, False, None, True, False],
        "platform": ["ios", "windows", "linux", None, "mac"],
        "browser": ["Safari", "Chrome", "Chrome", "Firefox", None],
    }
)


def _write(root: Path, engagement: dict, daily: dict) -> None:
    write_table(root, "gold", "dim_media", DIM, None)
    write_table(root, "gold", "dim_visitor", VISITORS, None)
    e = pd.DataFrame(
        [(m, v, DAY0 + timedelta(days=k), n, w) for (m, v, k), (n, w) in engagement.items()],
        columns=["media_id", "visitor_id", "date", "play_count", "watched_percent"],
    )
    d = pd.DataFrame(
        [(m, DAY0 + timedelta(days=k), n, 2 * n, n / 10) for (m, k), n in daily.items()],
        columns=["media_id", "date", "play_count", "load_count", "hours_watched"],
    )
    e["visitor_id"] = e["visitor_id"].astype("string")  # a string column even when all null
    if len(e):
        write_table(root, "gold", "fact_media_engagement", e, "date")
    if len(d):
        write_table(root, "gold", "fact_media_daily", d, "date")


def _same(fast: pd.DataFrame, plain: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        fast.reset_index(drop=True), plain.reset_index(drop=True), check_exact=False, rtol=1e-12
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    engagement=engagement_rows,
    daily=daily_rows,
    start=st.integers(0, 27),
    days=st.integers(1, 20),
    channel=st.sampled_from([None, "YouTube", "Facebook", "Other"]),
    media_id=st.sampled_from([None, "m1", "m3", "m4"]),
)
def test_both_families_return_the_same_rows(engagement, daily, start, days, channel, media_id):
    period = Period.last_days(days, DAY0 + timedelta(days=start))
    with tempfile.TemporaryDirectory() as tmp:
        _write(Path(tmp), engagement, daily)
        fast = DuckDBWarehouse(tmp)
        plain = CountDistinct(fast)
        try:
            for call in (
                lambda w: queries.engagement_totals(w, period, channel, media_id),
                lambda w: queries.daily_trend(w, period, channel, media_id),
                lambda w: queries.weekly_trend(w, period, channel, media_id),
                lambda w: queries.media_breakdown(w, period, channel),
                lambda w: queries.channel_totals(w, period),
                *(
                    lambda w, by=by: queries.audience(w, period, by, media_id, channel)
                    for by in queries.SEGMENTS
                ),
            ):
                _same(call(fast), call(plain))
        finally:
            fast.close()


def test_the_families_are_chosen_by_the_warehouse(warehouse, period):
    assert warehouse.derived_tables == set(DERIVED_TABLES)
    assert not hasattr(CountDistinct(warehouse), "derived_tables")
    assert queries.level(None, None) == "visitor"
    assert queries.level("YouTube", None) == "channel"
    assert queries.level("YouTube", "m1") == "media"
    # The fixture's hand-checked answer (3 visitors; the daily uniques sum to 5), both ways.
    for w in (warehouse, CountDistinct(warehouse)):
        totals = queries.engagement_totals(w, period).set_index("period")
        assert totals.loc["current", "unique_visitors"] == 3


def test_the_derived_table_follows_a_rewritten_fact_table(tmp_path):
    _write(tmp_path, {("m1", "a", 0): (1, 0.5), ("m1", "b", 1): (1, 0.5)}, {})
    warehouse = DuckDBWarehouse(tmp_path, max_age_seconds=3600)
    period = Period(DAY0, DAY0 + timedelta(days=6))
    try:
        assert queries.engagement_totals(warehouse, period)["unique_visitors"].iloc[0] == 2
        # The pipeline rewrites the table: a third visitor, and one of the two gone.
        shutil.rmtree(tmp_path / "gold")
        _write(
            tmp_path,
            {("m1", "a", 0): (1, 0.5), ("m2", "c", 2): (1, 0.5), ("m2", "d", 2): (2, 1.0)},
            {},
        )
        warehouse.refresh()
        totals = queries.engagement_totals(warehouse, period).set_index("period")
        assert totals.loc["current", "unique_visitors"] == 3
        # Every visitor-day once at level 'visitor': a on day 0, c and d on day 2.
        rows = warehouse.query(
            f"SELECT date, since, visitors FROM {FIRST_VISITS} WHERE level = 'visitor' ORDER BY 1"
        )
        assert rows["visitors"].tolist() == [1, 2]
        assert rows["since"].isna().all()
    finally:
        warehouse.close()


@pytest.mark.parametrize("lvl", queries.LEVELS)
def test_a_visitor_counts_once_per_span_however_often_it_returns(tmp_path, lvl):
    # One visitor on every day, on the two media of channel Other: 1 in the period, 1 each day,
    # 1 each week — never the 2 per day or 14 per fortnight a sum would give.
    rows = {(m, "a", k): (1, 0.5) for m in ("m3", "m5") for k in range(14)}
    _write(tmp_path, rows, {})
    warehouse = DuckDBWarehouse(tmp_path)
    period = Period(DAY0 + timedelta(days=3), DAY0 + timedelta(days=12))
    channel, media_id = {"visitor": (None, None), "channel": ("Other", None)}.get(
        lvl, ("Other", "m5")
    )
    try:
        assert queries.level(channel, media_id) == lvl
        totals = queries.engagement_totals(warehouse, period, channel, media_id)
        assert totals.set_index("period")["unique_visitors"].to_dict() == {
            "current": 1,
            "previous": 1,
        }
        daily = queries.daily_trend(warehouse, period, channel, media_id)
        assert daily["unique_visitors"].tolist() == [1] * 10
        weekly = queries.weekly_trend(warehouse, period, channel, media_id)
        assert weekly["unique_visitors"].tolist() == [1, 1]
    finally:
        warehouse.close()


def test_a_derived_table_that_cannot_be_built_is_not_used(tmp_path, monkeypatch):
    _write(tmp_path, {("m1", "a", 0): (1, 0.5), ("m1", "a", 1): (1, 0.5)}, {})
    broken = dict(DERIVED_TABLES)
    sources, _ = broken[FIRST_VISITS]
    broken[FIRST_VISITS] = (sources, "SELECT * FROM no_such_table")
    monkeypatch.setattr("services.warehouse.DERIVED_TABLES", broken)
    warehouse = DuckDBWarehouse(tmp_path)
    try:
        assert FIRST_VISITS not in warehouse.derived_tables
        period = Period(DAY0, DAY0 + timedelta(days=6))
        # COUNT(DISTINCT) instead: still one visitor over two days.
        assert queries.engagement_totals(warehouse, period)["unique_visitors"].iloc[0] == 1
    finally:
        warehouse.close()
