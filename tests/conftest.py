"""Shared fixtures: a simulator over real HTTP and settings pointing at it."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import SecretStr

from pipeline.settings import Settings
from pipeline.simulator import SimulatorConfig, SimulatorServer

TODAY = date(2026, 6, 30)


def sim_config(**overrides) -> SimulatorConfig:
    """A small, fast account; tests override what they exercise."""
    base = dict(port=0, seed=11, medias=4, days=40, today=TODAY, daily_plays=12)
    base.update(overrides)
    return SimulatorConfig(**base)


def settings_for(server: SimulatorServer, data_root, **overrides) -> Settings:
    """Settings as the environment would give them, pointed at `server`."""
    values = dict(
        WISTIA_API_BASE_URL=server.base_url,
        WISTIA_API_TOKEN=SecretStr(server.config.token),
        WVI_DATA_ROOT=str(data_root),
        WVI_BACKOFF_BASE=0.01,
        WVI_BACKOFF_MAX=0.2,
        WVI_CONCURRENCY=4,
    )
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def simulator():
    with SimulatorServer(sim_config()) as server:
        yield server


@pytest.fixture(scope="module")
def moto_url():
    """A moto server (every AWS API) on loopback for the module; its URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


from tests.spark_fixture import spark  # noqa: E402, F401  (one Spark session per test run)
