"""Wistia Video Insights — the dashboard's entry point: `streamlit run Home.py`.

Each session's run of this script draws the app (`app.router.main`: page config, login,
pages). `streamlit run` first reads this file, finds `app` — an `st.App`: the same script,
served with a start-up hook — and has uvicorn import the module and serve it: before the
server answers anyone, the warehouse loads the gold tables (`app.data.load_at_server_start`;
~0.1 s from its snapshot, ~2 s from the Parquet of a million events), so the first sign-in
after a start doesn't wait for them. Meanwhile the port accepts connections and answers once
the load is over, `START_WAIT_SECONDS` at most.

Only Streamlit is imported at module level: a custom component (the login's cookie manager)
is registered only when a session's run first imports it (tests/test_home.py checks that
the start-up imports none).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import streamlit as st
from streamlit.logger import get_logger

START_WAIT_SECONDS = 30.0  # longer than this, the server answers while the load goes on

log = get_logger("wvi.app")


@contextlib.asynccontextmanager
async def load_before_serving(_app: st.App) -> AsyncIterator[None]:
    """The server's start-up and end: load the dashboard's data and have the warehouse watch
    for new gold, then serve; stop watching. What goes wrong loading is logged, not raised:
    the server starts, and the sessions say what is wrong."""
    from app import data

    try:
        log.info(await asyncio.to_thread(data.load_at_server_start, START_WAIT_SECONDS))
    except Exception:
        log.exception("dashboard data not loaded at start")
    try:
        yield
    finally:
        await asyncio.to_thread(data.stop_at_server_end)


if __name__ == "__main__":  # a session's run of the script
    from app.router import main

    main(Path(__file__).resolve())
else:  # imported by uvicorn for `streamlit run` (or by another ASGI server): the app
    app = st.App(__file__, lifespan=load_before_serving)
