"""Shared page pieces: the sidebar filters, KPI cards, tables with CSV download, messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from app import data
from services.filters import (
    ALL,
    CUSTOM,
    DEFAULT_PRESET,
    PRESETS,
    Period,
    anchor_date,
    optional_filter,
    preset_period,
)
from services.kpis import KpiCard, fmt_count, fmt_rate

FILTERS_KEY = "wvi_filters"
NO_DATA = (
    "No data yet — run the pipeline (Admin page or `python -m pipeline run`) "
    "and the dashboard fills in."
)
EMPTY_PERIOD = "No plays in this period — try a longer range or run the pipeline."


@dataclass(frozen=True)
class Filters:
    """The sidebar's choices, shared by every page of the session."""

    preset: str
    period: Period
    channel: str | None
    media_id: str | None
    data_through: date | None

    @property
    def previous(self) -> Period:
        """The comparison period: as many days just before."""
        return self.period.previous()


# ------------------------------------------------------------------------------ filters
def sidebar_filters(status: data.DataStatus) -> Filters:
    """Render the filters (in the current container: the router puts them in the sidebar) and
    remember them for the pages."""
    anchor = anchor_date(status.last)
    media = data.media_list() if status.has_data else pd.DataFrame()
    channels = data.channel_list() if status.has_data else []
    st.subheader("Filters")
    preset = st.selectbox(
        "Date range",
        [*PRESETS, CUSTOM],
        index=[*PRESETS, CUSTOM].index(DEFAULT_PRESET),
        key="flt_preset",
        persist_state="session",
    )
    period = _period(preset, anchor)
    channel = _choice("Channel", [ALL, *channels], "flt_channel")
    media_id = _choice(
        "Media", [ALL, *_media_ids(media, channel)], "flt_media", format_func=_media_label(media)
    )
    filters = Filters(preset, period, channel, media_id, status.last)
    st.session_state[FILTERS_KEY] = filters
    return filters


def _period(preset: str, anchor: date) -> Period:
    if preset != CUSTOM:
        return preset_period(preset, anchor)
    default = (anchor - timedelta(days=29), anchor)
    picked = st.date_input("From – to", value=default, key="flt_custom", persist_state="session")
    days = [d for d in (picked if isinstance(picked, list | tuple) else [picked]) if d]
    if not days:
        days = list(default)
    if len(days) == 1:  # the range picker's second click has not happened yet
        st.caption("Pick the end date too.")
        days = [days[0], days[0]]
    return preset_period(CUSTOM, anchor, (days[0], days[1]))


def _choice(label: str, options: list[str], key: str, **kwargs: Any) -> str | None:
    """A select box whose remembered value is dropped when it is no longer an option."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = ALL
    value = st.selectbox(label, options, key=key, persist_state="session", **kwargs)
    return optional_filter(value)


def _media_ids(media: pd.DataFrame, channel: str | None) -> list[str]:
    if media.empty:
        return []
    rows = media if channel is None else media[media["channel"] == channel]
    return rows["media_id"].astype(str).tolist()


def _media_label(media: pd.DataFrame) -> Any:
    titles = media_titles(media)
    return lambda media_id: "All" if media_id == ALL else titles.get(media_id, media_id)


def media_titles(media: pd.DataFrame) -> dict[str, str]:
    """media_id → title (the id where the title is missing)."""
    if media.empty:
        return {}
    return {
        str(row.media_id): str(row.title) if pd.notna(row.title) and row.title else row.media_id
        for row in media.itertuples()
    }


def media_picker(titles: dict[str, str], preferred: str | None) -> str:
    """Pick one media (by title); follows the sidebar's media filter when that changes."""
    options, key = list(titles), "media_pick"
    if preferred and st.session_state.get("media_pick_follows") != preferred:
        st.session_state[key] = preferred
    st.session_state["media_pick_follows"] = preferred
    if st.session_state.get(key) not in options:
        st.session_state[key] = options[0]
    return st.selectbox("Media", options, key=key, format_func=titles.get)


def current_filters() -> Filters:
    """The filters the router rendered in this rerun."""
    filters = st.session_state.get(FILTERS_KEY)
    if not isinstance(filters, Filters):
        st.warning("Open the dashboard from its home page.")
        st.stop()
    return filters


# ------------------------------------------------------------------------------ messages
def require_data(status: data.DataStatus | None = None) -> data.DataStatus:
    """Stop the page with a friendly message when there is no gold data (or it can't be read)."""
    status = status or data.status()
    if status.error:
        st.error(f"The warehouse could not be read: {status.error}")
        st.stop()
    if not status.has_data:
        st.info(NO_DATA)
        st.stop()
    return status


def freshness(filters: Filters) -> None:
    """The "data through" line and the periods being compared."""
    through = filters.data_through.isoformat() if filters.data_through else "—"
    st.caption(
        f"Data through **{through}** (UTC) · showing {filters.period} "
        f"vs the previous {filters.period.days} days ({filters.previous})"
    )


def empty(message: str = EMPTY_PERIOD) -> None:
    """Explain an empty result in words."""
    st.info(message)


# ------------------------------------------------------------------------------ elements
def kpi_cards(cards: list[KpiCard], per_row: int = 6) -> None:
    """One `st.metric` per card, `per_row` to a row."""
    for start in range(0, len(cards), per_row):
        row = cards[start : start + per_row]
        for column, card in zip(st.columns(per_row), row, strict=False):
            column.metric(card.label, card.value, card.delta, help=card.help or None, border=True)


def lifetime_cards(snapshot: pd.Series) -> None:
    """A media's lifetime numbers from its latest Wistia stats snapshot."""
    day = pd.Timestamp(snapshot["load_date"]).date() if pd.notna(snapshot["load_date"]) else None
    st.caption(f"Lifetime, from Wistia's media stats of {day or '—'}")
    kpi_cards(
        [
            KpiCard("Lifetime plays", fmt_count(_value(snapshot["total_plays"])), None, ""),
            KpiCard("Lifetime loads", fmt_count(_value(snapshot["total_loads"])), None, ""),
            KpiCard("Lifetime visitors", fmt_count(_value(snapshot["total_visitors"])), None, ""),
            KpiCard("Lifetime play rate", fmt_rate(_value(snapshot["play_rate"])), None, ""),
            KpiCard("Lifetime engagement", fmt_rate(_value(snapshot["engagement"])), None, ""),
        ],
        per_row=5,
    )


def _value(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def chart(figure: alt.Chart, key: str) -> None:
    """A chart across the page."""
    st.altair_chart(figure, key=key, width="stretch")


def table(
    frame: pd.DataFrame,
    name: str,
    *,
    filters: Filters | None = None,
    column_config: dict[str, Any] | None = None,
    empty_message: str = EMPTY_PERIOD,
    static: bool = False,
    file_stem: str | None = None,
) -> None:
    """A table with a CSV download button, or a message when it has no rows.

    `static` draws a plain HTML table (short tables that change while watched, like a run's
    steps) instead of the interactive grid.
    """
    if frame.empty:
        empty(empty_message)
        return
    if static:
        with st.container(key=f"t_{name}"):
            st.table(frame, hide_index=True)
    else:
        config = column_config or COLUMNS
        st.dataframe(frame, hide_index=True, column_config=config, key=f"t_{name}")
    suffix = f"_{filters.period.start}_{filters.period.end}" if filters else ""
    st.download_button(
        "Download CSV",
        frame.to_csv(index=False).encode("utf-8"),
        file_name=f"{file_stem or name}{suffix}.csv",
        mime="text/csv",
        key=f"csv_{name}",
        on_click="ignore",  # no rerun: the page stays as it is
        icon=":material/download:",
    )


def _percent(label: str) -> Any:
    return st.column_config.NumberColumn(label, format="percent")


def _number(label: str, fmt: str = "localized") -> Any:
    return st.column_config.NumberColumn(label, format=fmt)


# Display names and formats for the columns the services return.
COLUMNS: dict[str, Any] = {
    "media_id": st.column_config.TextColumn("Media id"),
    "title": st.column_config.TextColumn("Title"),
    "channel": st.column_config.TextColumn("Channel"),
    "date": st.column_config.DateColumn("Date"),
    "week": st.column_config.DateColumn("Week of"),
    "plays": _number("Plays"),
    "loads": _number("Loads"),
    "hours": _number("Hours watched", "%.1f"),
    "play_rate": _percent("Play rate"),
    "unique_visitors": _number("Unique visitors"),
    "visitors": _number("Visitors"),
    "engagement": _percent("Engagement"),
    "avg_engagement": _percent("Engagement"),
    "country": st.column_config.TextColumn("Country"),
    "device": st.column_config.TextColumn("Device"),
}


__all__ = [
    "COLUMNS",
    "EMPTY_PERIOD",
    "FILTERS_KEY",
    "NO_DATA",
    "Filters",
    "chart",
    "current_filters",
    "empty",
    "freshness",
    "kpi_cards",
    "lifetime_cards",
    "media_picker",
    "media_titles",
    "require_data",
    "sidebar_filters",
    "table",
]
