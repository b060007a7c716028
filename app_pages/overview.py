"""Overview: the six KPI cards with deltas, freshness, plays vs visitors by media, daily trend."""

import streamlit as st

from app import auth, charts, data, ui

auth.require_user()
filters = ui.current_filters()
st.title("Overview")
ui.require_data()
ui.freshness(filters)

summary = data.kpi_summary(filters.period, filters.channel, filters.media_id)
ui.kpi_cards(summary.cards())
if summary.current.plays == 0 and summary.current.loads == 0:
    ui.empty()
    st.stop()

st.subheader("Plays vs unique visitors by media")
by_media = data.media_breakdown(filters.period, filters.channel)
if filters.media_id:
    by_media = by_media[by_media["media_id"] == filters.media_id]
if not by_media.empty:
    ui.chart(charts.grouped_bars(by_media, "title", ["plays", "unique_visitors"], ""), "media")
ui.table(by_media, "plays_by_media", filters=filters)

st.subheader("Daily trend")
daily = data.trend(filters.period, "daily", filters.channel, filters.media_id)
if not daily.empty:
    ui.chart(charts.lines(daily, "date", ["plays", "unique_visitors"], ""), "daily")
with st.expander("Daily numbers"):
    ui.table(daily, "daily_trend", filters=filters)
