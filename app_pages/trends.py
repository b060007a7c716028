"""Trends: engagement and play rate over time, by day or by week."""

import streamlit as st

from app import auth, charts, data, ui

auth.require_user()
filters = ui.current_filters()
st.title("Trends")
ui.require_data()
ui.freshness(filters)

choice = st.segmented_control(
    "Granularity", ["Daily", "Weekly"], default="Daily", required=True, key="trend_grain"
)
grain = "weekly" if choice == "Weekly" else "daily"
x = "week" if grain == "weekly" else "date"
frame = data.trend(filters.period, grain, filters.channel, filters.media_id)
if frame.empty:
    ui.empty()
    st.stop()

left, right = st.columns(2)
with left:
    ui.chart(charts.lines(frame, x, ["engagement"], "Engagement", percent=True), "engagement")
with right:
    ui.chart(charts.lines(frame, x, ["play_rate"], "Play rate", percent=True), "play_rate")
st.caption(
    "Play rate = plays ÷ loads; engagement = the play-weighted mean share of the video watched. "
    "Weeks start on Monday; a partial week at either end covers only the days in the range."
)
ui.table(frame, f"{grain}_trend", filters=filters)
