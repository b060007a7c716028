"""Admin (admins only): start a pipeline run or a backfill window, follow runs, read history."""

import streamlit as st

from app import auth, data, runs

auth.require_user(auth.ADMIN)  # also guarded here: the router is not the only gate
st.title("Admin — pipeline runs")
try:
    control = data.pipeline_control()
except Exception as exc:  # e.g. an orchestrator that is not supported yet
    st.error(f"Pipeline runs can't be managed from here: {exc}")
    st.stop()
runs.start_form(control)
runs.history(control)
