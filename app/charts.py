"""Plotly figures for the pages: pure functions, DataFrame in, figure out (no Streamlit)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

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
# Legend above the plot: below it, it collides with the axis labels.
_LAYOUT = {
    "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
    "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0.0},
}


def _numbers(frame: pd.DataFrame, column: str, *, fill: bool) -> list[float | None]:
    """A column as plain floats for Plotly (pandas NA → 0 for counts, a gap for rates)."""
    values = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    values = values.fillna(0.0) if fill else values
    return [None if pd.isna(v) else float(v) for v in values]


def grouped_bars(frame: pd.DataFrame, category: str, columns: list[str], title: str) -> go.Figure:
    """Horizontal bar groups, one per `category` value (long titles stay readable), one bar
    per column; the first row on top."""
    labels = [_short(v) for v in frame[category].fillna("—").astype(str)]
    fig = go.Figure(
        [
            go.Bar(
                name=LABELS.get(c, c), y=labels, x=_numbers(frame, c, fill=True), orientation="h"
            )
            for c in columns
        ]
    )
    fig.update_layout(title=title, barmode="group", height=120 + 42 * len(labels), **_LAYOUT)
    fig.update_yaxes(autorange="reversed", automargin=True)
    return fig


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def lines(
    frame: pd.DataFrame,
    x: str,
    columns: list[str],
    title: str,
    *,
    percent: bool = False,
) -> go.Figure:
    """A line per column over `x`; rates (`percent`) keep gaps where they are undefined."""
    fig = go.Figure(
        [
            go.Scatter(
                name=LABELS.get(c, c),
                x=frame[x].tolist(),
                y=_numbers(frame, c, fill=not percent),
                mode="lines+markers",
            )
            for c in columns
        ]
    )
    fig.update_layout(title=title, **_LAYOUT)
    if percent:
        fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    return fig


def retention(frame: pd.DataFrame, title: str) -> go.Figure:
    """The audience retention curve: share still watching over the share of the video."""
    fig = go.Figure(
        go.Scatter(
            name=LABELS["retention"],
            x=_numbers(frame, "position", fill=True),
            y=_numbers(frame, "retention", fill=True),
            mode="lines",
            fill="tozeroy",
        )
    )
    fig.update_layout(title=title, **_LAYOUT)
    fig.update_xaxes(tickformat=".0%", title="Position in the video")
    fig.update_yaxes(tickformat=".0%", rangemode="tozero", title="Still watching")
    return fig


def horizontal_bars(frame: pd.DataFrame, category: str, value: str, title: str) -> go.Figure:
    """Bars for a ranking (top countries, devices), largest on top."""
    ordered = frame.iloc[::-1]
    fig = go.Figure(
        go.Bar(
            x=_numbers(ordered, value, fill=True),
            y=ordered[category].astype(str).tolist(),
            orientation="h",
            name=LABELS.get(value, value),
        )
    )
    fig.update_layout(title=title, **_LAYOUT)
    return fig


__all__ = ["LABELS", "grouped_bars", "horizontal_bars", "lines", "retention"]
