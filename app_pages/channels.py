"""Channels: Facebook vs YouTube side by side (cards per channel), and every channel in a table."""

import streamlit as st

from app import auth, charts, data, ui
from services.kpis import comparison_table

HEADLINE = ("Facebook", "YouTube")

auth.require_user()
filters = ui.current_filters()
st.title("Channels")
ui.require_data()
ui.freshness(filters)
st.caption("Each channel over the whole account: the channel and media filters don't apply here.")

channels = tuple(dict.fromkeys([*HEADLINE, *data.channel_list()]))
comparison = data.channel_comparison(filters.period, channels)

for column, channel in zip(st.columns(len(HEADLINE)), HEADLINE, strict=True):
    with column, st.container(border=True):
        st.subheader(channel)
        summary = comparison[channel]
        ui.kpi_cards(summary.cards(), per_row=3)
        if summary.current.plays == 0 and summary.current.loads == 0:
            st.caption(f"No {channel} plays in this period.")

st.subheader("All channels")
table = comparison_table(comparison)
if table[["plays", "loads"]].sum().sum() == 0:
    ui.empty()
else:
    ui.chart(charts.grouped_bars(table, "channel", ["plays", "unique_visitors"], ""), "channels")
ui.table(table, "channels", filters=filters)
