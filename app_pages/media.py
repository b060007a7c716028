"""Media: one media's daily series, audience retention, top countries and devices."""

import streamlit as st

from app import auth, charts, data, ui

SOURCES = {
    "wistia": "Source: Wistia's own per-second audience curve (the latest snapshot, over the "
    "media's lifetime; the date range does not apply).",
    "watched_percent": "Source: derived from how far each play in the period got "
    "(watched_percent of fact_media_engagement, in 5 % steps) — Wistia's curve is not loaded.",
}

auth.require_user()
filters = ui.current_filters()
st.title("Media")
ui.require_data()
ui.freshness(filters)

media = data.media_list()
titles = ui.media_titles(media)
if not titles:
    ui.empty("No media in the catalog yet — run the pipeline.")
    st.stop()
media_id = ui.media_picker(titles, filters.media_id)

snapshot = data.latest_media_summary(media_id)
if not snapshot.empty:
    ui.lifetime_cards(snapshot.iloc[0])

st.subheader("Daily")
daily = data.media_daily(media_id, filters.period)
if not daily.empty:
    ui.chart(charts.lines(daily, "date", ["plays", "loads", "unique_visitors"], ""), "daily")
ui.table(daily, f"media_{media_id}_daily", filters=filters)

st.subheader("Audience retention")
curve, source = data.retention_curve(media_id, filters.period)
if source == "none":
    ui.empty("No retention data for this media yet.")
else:
    ui.chart(charts.retention(curve, ""), "retention")
    st.caption(SOURCES[source])

left, right = st.columns(2)
with left:
    st.subheader("Top countries")
    countries = data.top_countries(filters.period, media_id)
    if not countries.empty:
        ui.chart(charts.horizontal_bars(countries, "country", "plays", ""), "countries")
    ui.table(countries, f"media_{media_id}_countries", filters=filters)
with right:
    st.subheader("Devices")
    devices = data.devices(filters.period, media_id)
    if not devices.empty:
        ui.chart(charts.horizontal_bars(devices, "device", "plays", ""), "devices")
    ui.table(devices, f"media_{media_id}_devices", filters=filters)
