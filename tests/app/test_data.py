"""app.data outside a session: the warehouse load at server start and the end of the
server's watching (Home.py's hook)."""

from __future__ import annotations

import threading

import pytest

from app import data
from services.warehouse import DuckDBWarehouse


@pytest.fixture(autouse=True)
def server_ends(app_env):
    yield
    # While the test's settings still hold: the watching thread it started is stopped, not
    # left running into the interpreter's exit.
    data.stop_at_server_end()


def test_load_at_server_start_reports_a_loaded_warehouse(app_env):
    assert data.load_at_server_start(30).startswith("dashboard data loaded in ")
    loaded = data.warehouse()  # the sessions' warehouse
    assert loaded.wait_until_loaded(0) and loaded._watcher.is_alive()
    data.stop_at_server_end()
    assert not loaded._watcher.is_alive()


def test_a_load_that_takes_longer_is_left_going(app_env):
    release = threading.Event()
    original = DuckDBWarehouse._refresh

    def held(self):
        release.wait(60)
        original(self)

    app_env.setattr(DuckDBWarehouse, "_refresh", held)
    try:
        assert data.load_at_server_start(0.1) == (
            "dashboard data still loading after 0.1 s; serving meanwhile"
        )
    finally:
        release.set()
    assert data.warehouse().wait_until_loaded(30)


def test_a_load_that_fails_is_reported(app_env):
    def broken(self):
        raise OSError("disk\n gone")

    app_env.setattr(DuckDBWarehouse, "_refresh", broken)
    assert data.load_at_server_start(30) == "dashboard data not loaded: disk gone"


def test_athena_has_nothing_to_load(app_env):
    app_env.setenv("WVI_WAREHOUSE", "athena")
    app_env.setenv("WVI_ATHENA_OUTPUT", "s3://bucket/athena/")
    assert data.load_at_server_start(30) == "dashboard data: queried where it lives"


def test_a_configuration_error_is_reported_not_raised(app_env):
    app_env.setenv("WVI_WAREHOUSE", "bigquery")
    message = data.load_at_server_start(30)
    assert message.startswith("dashboard data not loaded: WVI_WAREHOUSE must be")
