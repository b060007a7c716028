"""The pages' charts: pure functions, DataFrame in, Altair (Vega-Lite) chart out (no Streamlit).

Vega-Lite rather than Plotly: in a fresh browser Streamlit's Plotly bundle takes over a second
to load before the first chart appears; the Vega one is several times lighter, and the
Overview is drawn that much sooner after signing in (bench/app_bench.py).

Each chart's data is a long frame (one row per point and measure) with the measure's label in
`measure`, so the legend reads "Plays", not "plays". Days are UTC days and are drawn as such,
whatever the browser's time zone.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

LABELS = {
    "plays": "Plays",
    "loads": "Loads",
    "unique_visitors": "Unique visitors",
    "visitors": "Visitors",
    "hours": "Hours watched",
    "play_rate": "Play rate",
    "engagement": "Engagement",
    "avg_engagement": "Engagement",
    "retention": "Still watching",
}
# The legend above the plot, where it never collides with the axis labels.
_LEGEND = alt.Legend(orient="top", title=None)
_BAR_HEIGHT = 14  # pixels per bar of a grouped bar chart
_GROUP_GAP = 8  # pixels between two groups


def _numbers(frame: pd.DataFrame, column: str, *, fill: bool) -> list[float | None]:
    """A column as plain floats (pandas NA → 0 for counts, a gap for rates)."""
    values = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    values = values.fillna(0.0) if fill else values
    return [None if pd.isna(v) else float(v) for v in values]


def _long(
    frame: pd.DataFrame, key: str, keys: list, columns: list[str], *, fill: bool
) -> pd.DataFrame:
    """One row per (key value, column): `key`, `measure` (the column's label), `value`."""
    return pd.DataFrame(
        {
            key: keys * len(columns),
            "measure": [LABELS.get(c, c) for c in columns for _ in keys],
            "value": [v for c in columns for v in _numbers(frame, c, fill=fill)],
        }
    )


def _titled(chart: alt.Chart, title: str) -> alt.Chart:
    return chart.properties(title=title) if title else chart


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def grouped_bars(frame: pd.DataFrame, category: str, columns: list[str], title: str) -> alt.Chart:
    """Horizontal bar groups, one per `category` value (long titles stay readable), one bar
    per column; the first row on top."""
    labels = [_short(v) for v in frame[category].fillna("—").astype(str)]
    data = _long(frame, "category", labels, columns, fill=True)
    measures = [LABELS.get(c, c) for c in columns]
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("category:N", sort=labels, title=None, axis=alt.Axis(labelLimit=280)),
            yOffset=alt.YOffset("measure:N", sort=measures),
            x=alt.X("value:Q", title=None),
            color=alt.Color("measure:N", sort=measures, legend=_LEGEND),
            tooltip=[
                alt.Tooltip("category:N", title=category.replace("_", " ").capitalize()),
                alt.Tooltip("measure:N", title="Measure"),
                alt.Tooltip("value:Q", title="Value", format=",.0f"),
            ],
        )
        # A row per category tall enough for its bars and its label (Vega drops labels
        # that would overlap).
        .properties(height=alt.Step(_BAR_HEIGHT * len(columns) + _GROUP_GAP, **{"for": "position"}))
    )
    return _titled(chart, title)


def lines(
    frame: pd.DataFrame,
    x: str,
    columns: list[str],
    title: str,
    *,
    percent: bool = False,
) -> alt.Chart:
    """A line per column over `x` (days or weeks); rates (`percent`) keep gaps where they are
    undefined."""
    days = pd.api.types.is_datetime64_any_dtype(frame[x])
    # Days as "YYYY-MM-DD": browsers read a date without a time as UTC (and a naive date-time
    # as local time, which east of UTC would draw every point on the day before).
    keys = frame[x].dt.strftime("%Y-%m-%d").tolist() if days else frame[x].tolist()
    data = _long(frame, x, keys, columns, fill=not percent)
    measures = [LABELS.get(c, c) for c in columns]
    if days:
        x_axis = alt.X(f"{x}:T", timeUnit="utcyearmonthdate", title=None)
        x_tip = alt.Tooltip(f"{x}:T", timeUnit="utcyearmonthdate", title=x.capitalize())
    else:
        x_axis = alt.X(f"{x}:O", title=None)
        x_tip = alt.Tooltip(f"{x}:O", title=x.capitalize())
    y_format = ".0%" if percent else ",.0f"
    chart = (
        alt.Chart(data)
        .mark_line(point=True, invalid="break-paths-show-domains")
        .encode(
            x=x_axis,
            y=alt.Y("value:Q", title=None, axis=alt.Axis(format=y_format)),
            color=alt.Color("measure:N", sort=measures, legend=_LEGEND),
            tooltip=[
                x_tip,
                alt.Tooltip("measure:N", title="Measure"),
                alt.Tooltip("value:Q", title="Value", format=".1%" if percent else ",.0f"),
            ],
        )
    )
    return _titled(chart, title)


def retention(frame: pd.DataFrame, title: str) -> alt.Chart:
    """The audience retention curve: share still watching over the share of the video."""
    data = pd.DataFrame(
        {
            "position": _numbers(frame, "position", fill=True),
            "retention": _numbers(frame, "retention", fill=True),
        }
    )
    chart = (
        alt.Chart(data)
        .mark_area(line=True, opacity=0.4)
        .encode(
            x=alt.X("position:Q", title="Position in the video", axis=alt.Axis(format=".0%")),
            y=alt.Y(
                "retention:Q",
                title=LABELS["retention"],
                axis=alt.Axis(format=".0%"),
                scale=alt.Scale(zero=True),
            ),
            tooltip=[
                alt.Tooltip("position:Q", title="Position", format=".0%"),
                alt.Tooltip("retention:Q", title=LABELS["retention"], format=".1%"),
            ],
        )
    )
    return _titled(chart, title)


def horizontal_bars(frame: pd.DataFrame, category: str, value: str, title: str) -> alt.Chart:
    """Bars for a ranking (top countries, devices) in the frame's order: largest on top."""
    labels = frame[category].astype(str).tolist()
    data = pd.DataFrame({"category": labels, "value": _numbers(frame, value, fill=True)})
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("category:N", sort=labels, title=None),
            x=alt.X("value:Q", title=LABELS.get(value, value)),
            tooltip=[
                alt.Tooltip("category:N", title=category.capitalize()),
                alt.Tooltip("value:Q", title=LABELS.get(value, value), format=",.0f"),
            ],
        )
    )
    return _titled(chart, title)


__all__ = ["LABELS", "grouped_bars", "horizontal_bars", "lines", "retention"]
