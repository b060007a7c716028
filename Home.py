"""Wistia Video Insights — the dashboard's entry point: `streamlit run Home.py`.

Each session's run of this script draws the app (`app.router.main`: page config, login,
pages). `streamlit run` itself imports it as a module first, finds `app` — an `st.App`, the
same script served with a start-up hook — and serves that: before the server takes its first
visitor, the warehouse loads the gold tables (`app.data.load_at_server_start`), so the first
sign-in after a start doesn't wait for them (~2 s for a million engagement rows).

Only Streamlit is imported at module level: a custom component (the login's cookie manager)
must first be imported by a session, once the server's runtime exists, to be served.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import streamlit as st
from streamlit.logger import get_logger

START_WAIT_SECONDS = 60.0  # longer than this, the server takes visitors while loading

log = get_logger("wvi.app")


@contextlib.asynccontextmanager
async def load_before_serving(_app: st.App) -> AsyncIterator[None]:
    """The server's start-up: load the dashboard's data, then serve."""
    from app import data

    log.info(await asyncio.to_thread(data.load_at_server_start, START_WAIT_SECONDS))
    yield


if __name__ == "__main__":  # a session's run of the script
    from app.router import main

    main(Path(__file__).resolve())
else:  # imported by `streamlit run` (or an ASGI server): the app it serves
    app = st.App(__file__, lifespan=load_before_serving)
