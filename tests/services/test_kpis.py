"""KPI math (ARCHITECTURE §9) on the hand-made gold fixture, whose answers are worked out in
tests/services/gold_fixture.py."""

from __future__ import annotations

from datetime import date

import pytest

from services import kpis
from services.filters import CUSTOM, Period, anchor_date, optional_filter, preset_period
from services.kpis import fmt_count, fmt_delta, fmt_hours, fmt_rate, kpi_summary

approx = pytest.approx


def test_period_previous_is_the_same_number_of_days_just_before():
    period = Period(date(2026, 6, 8), date(2026, 6, 14))
    assert period.days == 7
    assert period.previous() == Period(date(2026, 6, 1), date(2026, 6, 7))
    assert Period(date(2026, 3, 1), date(2026, 3, 1)).previous() == Period(
        date(2026, 2, 28), date(2026, 2, 28)
    )
    with pytest.raises(ValueError):
        Period(date(2026, 6, 2), date(2026, 6, 1))


def test_presets_end_at_the_data_through_date():
    anchor = anchor_date(date(2026, 6, 14), today=date(2026, 7, 1))
    assert preset_period("Last 7 days", anchor) == Period(date(2026, 6, 8), date(2026, 6, 14))
    assert preset_period("Last 30 days", anchor).days == 30
    assert preset_period("Last 90 days", anchor).end == date(2026, 6, 14)
    assert anchor_date(None, today=date(2026, 7, 1)) == date(2026, 7, 1)
    custom = preset_period(CUSTOM, anchor, (date(2026, 6, 5), date(2026, 6, 1)))
    assert custom == Period(date(2026, 6, 1), date(2026, 6, 5))
    with pytest.raises(ValueError):
        preset_period("Last 8 days", anchor)
    assert optional_filter("All") is None and optional_filter("YouTube") == "YouTube"


def test_kpi_summary_known_answers(warehouse, period):
    summary = kpi_summary(warehouse, period)
    cur, prev = summary.current, summary.previous
    assert (cur.plays, cur.loads, cur.hours) == (100, 350, approx(8.0))
    # A ratio of sums — the mean of the daily rates (0.4, 0.2, 0.25) would be 0.283.
    assert cur.play_rate == approx(100 / 350)
    # COUNT DISTINCT over the period: v1, v2, v3 — the daily uniques would sum to 5.
    assert cur.unique_visitors == 3
    assert cur.engagement == approx(4.2 / 8)
    assert summary.previous_period == Period(date(2026, 6, 1), date(2026, 6, 7))
    assert (prev.plays, prev.loads, prev.hours, prev.unique_visitors) == (50, 200, 3.0, 1)
    assert prev.play_rate == approx(0.25) and prev.engagement == approx(0.45)


def test_deltas_are_percent_for_counts_and_points_for_rates(warehouse, period):
    d = kpi_summary(warehouse, period).deltas
    assert d.plays_pct == approx(100.0)
    assert d.loads_pct == approx(75.0)
    assert d.hours_pct == approx((8.0 - 3.0) / 3.0 * 100)
    assert d.unique_visitors_pct == approx(200.0)
    assert d.play_rate_pp == approx((100 / 350 - 0.25) * 100)
    assert d.engagement_pp == approx((0.525 - 0.45) * 100)


def test_filters_by_channel_and_media(warehouse, period):
    youtube = kpi_summary(warehouse, period, channel="YouTube").current
    assert (youtube.plays, youtube.loads, youtube.unique_visitors) == (50, 150, 2)
    assert youtube.engagement == approx(2.2 / 4)
    m2 = kpi_summary(warehouse, period, media_id="m2").current
    assert (m2.plays, m2.loads, m2.unique_visitors) == (50, 200, 2)
    assert m2.play_rate == approx(0.25)


def test_zero_loads_gives_no_play_rate(warehouse):
    day = Period(date(2026, 6, 10), date(2026, 6, 10))
    summary = kpi_summary(warehouse, day, media_id="m2")
    assert summary.current.loads == 0 and summary.current.play_rate is None
    assert summary.previous.plays == 0
    assert summary.deltas.plays_pct is None  # previous = 0
    assert summary.deltas.play_rate_pp is None
    cards = {card.label: card for card in summary.cards()}
    assert cards["Play rate"].value == "—"
    assert cards["Play rate"].delta is None


def test_empty_period_is_all_zeros(warehouse):
    summary = kpi_summary(warehouse, Period(date(2025, 1, 1), date(2025, 1, 31)))
    assert summary.current == kpis.Kpis()
    assert summary.deltas.plays_pct is None


def test_a_period_without_data_after_one_with_data(warehouse):
    # 06-15..06-19 has no rows; the previous five days (06-10..06-14) have the period's data.
    summary = kpi_summary(warehouse, Period(date(2026, 6, 15), date(2026, 6, 19)))
    assert summary.current == kpis.Kpis()
    assert (summary.previous.plays, summary.previous.loads) == (100, 350)
    assert summary.previous.unique_visitors == 3
    assert summary.deltas.plays_pct == approx(-100.0)
    assert summary.deltas.play_rate_pp is None and summary.deltas.engagement_pp is None
    cards = {card.label: card for card in summary.cards()}
    assert cards["Plays"].value == "0" and cards["Unique visitors"].value == "0"
    assert cards["Play rate"].value == cards["Engagement"].value == "—"


def test_channel_comparison_counts_visitors_within_each_channel(warehouse, period):
    result = kpis.channel_comparison(warehouse, period, ("Facebook", "YouTube", "Vimeo"))
    assert list(result) == ["Facebook", "YouTube", "Vimeo"]
    fb, yt, vimeo = (result[c].current for c in result)
    assert (fb.plays, fb.loads, fb.unique_visitors) == (50, 200, 2)
    assert (yt.plays, yt.loads, yt.unique_visitors) == (50, 150, 2)
    assert fb.engagement == approx(2.0 / 4) and yt.engagement == approx(2.2 / 4)
    assert vimeo == kpis.Kpis()
    assert result["YouTube"].previous.plays == 20
    assert result["YouTube"].deltas.plays_pct == approx(150.0)
    table = kpis.comparison_table(result)
    assert table["channel"].tolist() == ["Facebook", "YouTube", "Vimeo"]
    # Summed over channels the distinct visitors (4) exceed the overall distinct count (3).
    assert table["unique_visitors"].sum() == 4


def test_channel_comparison_defaults_to_channels_with_data(warehouse, period):
    assert sorted(kpis.channel_comparison(warehouse, period)) == ["Facebook", "YouTube"]


def test_math_helpers():
    assert kpis.ratio(1, 0) is None and kpis.ratio(0, 4) == 0.0
    assert kpis.pct_change(5, 0) is None and kpis.pct_change(15, 10) == approx(50.0)
    assert kpis.pp_change(0.3, 0.25) == approx(5.0) and kpis.pp_change(None, 0.2) is None


def test_formatting():
    assert fmt_count(1234567) == "1,234,567" and fmt_count(None) == "—"
    assert fmt_rate(0.45678) == "45.7%" and fmt_rate(None) == "—"
    assert fmt_hours(1234.56) == "1,234.6"
    assert fmt_delta(12.345) == "+12.3%" and fmt_delta(-3.0) == "-3.0%"
    assert fmt_delta(1.26, points=True) == "+1.3 pp"
    assert fmt_delta(None) is None
