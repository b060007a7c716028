"""AppTest fixtures: a users file, a gold layer on disk, the app's environment."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from services import users
from tests.services import gold_fixture

ROOT = Path(__file__).resolve().parents[2]
HOME = ROOT / "Home.py"
COOKIE_KEY = "test-cookie-key-" + "0123456789abcdef" * 3  # 64 bytes: fine even for HS512
PASSWORDS = {"alice": "alice-password", "bob": "bob-password"}
TIMEOUT = 30  # seconds per script run; the first one imports pandas, duckdb, altair


@pytest.fixture(scope="session")
def users_path(tmp_path_factory) -> Path:
    """alice (admin) and bob (viewer), bcrypt-hashed like `users add` does."""
    path = tmp_path_factory.mktemp("users") / "users.yaml"
    users.add_user(path, "alice", "admin", "Alice Admin", PASSWORDS["alice"])
    users.add_user(path, "bob", "viewer", "Bob Viewer", PASSWORDS["bob"])
    return path


@pytest.fixture(scope="session")
def gold_root(tmp_path_factory) -> Path:
    """The services tests' hand-checked gold layer (data through 2026-06-20)."""
    return gold_fixture.build(tmp_path_factory.mktemp("gold"))


@pytest.fixture
def app_env(monkeypatch, users_path, gold_root):
    """The environment the app reads, pointed at the fixtures; caches start empty."""
    for name in ("WVI_DEMO", "WVI_WAREHOUSE", "WVI_ORCHESTRATOR", "WVI_ATHENA_WORKGROUP"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WVI_DATA_ROOT", str(gold_root))
    monkeypatch.setenv("WVI_USERS_FILE", str(users_path))
    monkeypatch.setenv("WVI_COOKIE_KEY", COOKIE_KEY)
    st.cache_data.clear()
    st.cache_resource.clear()
    return monkeypatch


def new_app(home: Path = HOME) -> AppTest:
    """The whole app, from its entry point."""
    return AppTest.from_file(str(home), default_timeout=TIMEOUT)


def signed_in(username: str, home: Path = HOME) -> AppTest:
    """The app after `username` signed in (session state as the authenticator leaves it)."""
    at = new_app(home)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = username
    return at.run()


def texts(elements) -> list[str]:
    """The `.value` of each element (markdown, info, error, ...)."""
    return [str(e.value) for e in elements]
