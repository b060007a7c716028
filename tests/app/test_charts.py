"""The pages' Plotly figures are pure functions of the frames the services return."""

from __future__ import annotations

import pandas as pd

from app import charts


def test_bars_turn_missing_counts_into_zero_and_keep_the_order():
    frame = pd.DataFrame(
        {
            "title": ["A", None],
            "plays": pd.array([3, pd.NA], dtype="Int64"),
            "unique_visitors": pd.array([2, 1], dtype="Int64"),
        }
    )
    fig = charts.grouped_bars(frame, "title", ["plays", "unique_visitors"], "t")
    assert [t.name for t in fig.data] == ["Plays", "Unique visitors"]
    assert list(fig.data[0].y) == ["A", "—"]
    assert list(fig.data[0].x) == [3.0, 0.0]
    assert fig.layout.yaxis.autorange == "reversed"  # the first (most plays) on top


def test_rate_lines_leave_gaps_where_a_rate_is_undefined():
    frame = pd.DataFrame(
        {"date": pd.to_datetime(["2026-06-01", "2026-06-02"]), "play_rate": [0.5, float("nan")]}
    )
    fig = charts.lines(frame, "date", ["play_rate"], "Play rate", percent=True)
    assert list(fig.data[0].y) == [0.5, None]
    assert fig.layout.yaxis.tickformat == ".0%"


def test_retention_is_a_filled_curve_over_the_video():
    frame = pd.DataFrame({"position": [0.0, 0.5, 1.0], "retention": [1.0, 0.6, 0.2]})
    fig = charts.retention(frame, "")
    assert list(fig.data[0].x) == [0.0, 0.5, 1.0]
    assert fig.data[0].fill == "tozeroy"


def test_rankings_put_the_largest_on_top():
    frame = pd.DataFrame({"country": ["US", "DE"], "plays": [9, 4]})
    fig = charts.horizontal_bars(frame, "country", "plays", "")
    assert list(fig.data[0].y) == ["DE", "US"]  # Plotly draws the last category on top
