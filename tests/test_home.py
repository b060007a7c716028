"""Home.py as `streamlit run` serves it: the start-up hook loads the data before the first
visitor. (Sessions' runs of the script — login, pages — are tested in tests/app and
tests/browser.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from services import users
from tests.app.conftest import COOKIE_KEY, ROOT
from tests.browser import harness
from tests.services import gold_fixture


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    return gold_fixture.build(tmp_path_factory.mktemp("gold"))


@pytest.fixture(scope="module")
def users_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("users") / "users.yaml"
    users.add_user(path, "bob", "viewer", "Bob Viewer", "bob-password")
    return path


def started_server(tmp_path: Path, env: dict) -> str:
    """Start `streamlit run Home.py`, wait until it answers, stop it: its log."""
    with harness.StreamlitServer(env, tmp_path / "server.log") as server:
        return server.log()


def test_the_server_has_loaded_the_data_when_it_first_answers(tmp_path, data_root, users_file):
    env = harness.app_environment(data_root, users_file, COOKIE_KEY)
    log = started_server(tmp_path, env)
    assert "dashboard data loaded in" in log, log


def test_a_warehouse_that_cannot_be_made_does_not_stop_the_start(tmp_path, data_root, users_file):
    env = harness.app_environment(data_root, users_file, COOKIE_KEY, WVI_WAREHOUSE="bigquery")
    log = started_server(tmp_path, env)  # it answers: the sessions say what is wrong
    assert "dashboard data not loaded: WVI_WAREHOUSE must be duckdb or athena" in log, log


def test_the_start_up_imports_no_custom_component():
    """A custom component imported outside a session's run is never registered, and the
    browser gets 404 for its files: importing Home.py and what its start-up imports must not
    bring in the login's cookie manager."""
    code = (
        "import sys, Home, app.data; "
        "print([m for m in sys.modules if m.split('.')[0] in "
        "('extra_streamlit_components', 'streamlit_authenticator')])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
