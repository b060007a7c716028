"""The pages' charts are pure functions of the frames the services return."""

from __future__ import annotations

import pandas as pd

from app import charts


def spec(chart) -> tuple[list[dict], dict]:
    """(the chart's data rows, its encoding) as Vega-Lite receives them."""
    compiled = chart.to_dict()
    datasets = compiled["datasets"]
    rows = datasets[compiled["data"]["name"]]
    return rows, compiled["encoding"]


def test_bars_turn_missing_counts_into_zero_and_keep_the_order():
    frame = pd.DataFrame(
        {
            "title": ["A", None],
            "plays": pd.array([3, pd.NA], dtype="Int64"),
            "unique_visitors": pd.array([2, 1], dtype="Int64"),
        }
    )
    rows, encoding = spec(charts.grouped_bars(frame, "title", ["plays", "unique_visitors"], "t"))
    assert [(r["category"], r["measure"], r["value"]) for r in rows] == [
        ("A", "Plays", 3.0),
        ("—", "Plays", 0.0),
        ("A", "Unique visitors", 2.0),
        ("—", "Unique visitors", 1.0),
    ]
    assert encoding["y"]["sort"] == ["A", "—"]  # the first (most plays) on top
    assert encoding["color"]["sort"] == ["Plays", "Unique visitors"]


def test_rate_lines_leave_gaps_where_a_rate_is_undefined():
    frame = pd.DataFrame(
        {"date": pd.to_datetime(["2026-06-01", "2026-06-02"]), "play_rate": [0.5, float("nan")]}
    )
    chart = charts.lines(frame, "date", ["play_rate"], "Play rate", percent=True)
    rows, encoding = spec(chart)
    assert [r["value"] for r in rows] == [0.5, None]
    assert [r["date"] for r in rows] == ["2026-06-01", "2026-06-02"]  # read as UTC days
    assert chart.to_dict()["mark"]["invalid"] == "break-paths-show-domains"
    assert encoding["y"]["axis"]["format"] == ".0%"
    assert encoding["x"]["timeUnit"] == "utcyearmonthdate"  # UTC days, whatever the browser
    assert chart.to_dict()["title"] == "Play rate"


def test_count_lines_draw_missing_counts_as_zero():
    frame = pd.DataFrame(
        {"date": pd.to_datetime(["2026-06-01", "2026-06-02"]), "plays": pd.array([4, pd.NA])}
    )
    rows, _ = spec(charts.lines(frame, "date", ["plays"], ""))
    assert [r["value"] for r in rows] == [4.0, 0.0]
    assert "title" not in charts.lines(frame, "date", ["plays"], "").to_dict()


def test_retention_is_a_filled_curve_over_the_video():
    frame = pd.DataFrame({"position": [0.0, 0.5, 1.0], "retention": [1.0, 0.6, 0.2]})
    chart = charts.retention(frame, "")
    rows, encoding = spec(chart)
    assert [(r["position"], r["retention"]) for r in rows] == [(0.0, 1.0), (0.5, 0.6), (1.0, 0.2)]
    assert chart.to_dict()["mark"]["type"] == "area"
    assert encoding["x"]["axis"]["format"] == ".0%"


def test_rankings_put_the_largest_on_top():
    frame = pd.DataFrame({"country": ["US", "DE"], "plays": [9, 4]})
    rows, encoding = spec(charts.horizontal_bars(frame, "country", "plays", ""))
    assert [(r["category"], r["value"]) for r in rows] == [("US", 9.0), ("DE", 4.0)]
    assert encoding["y"]["sort"] == ["US", "DE"]  # Vega-Lite draws the first on top
