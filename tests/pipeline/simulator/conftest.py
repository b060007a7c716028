"""Fixtures for the simulator tests: small accounts, real HTTP on a free port."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import requests

from pipeline.simulator import SimulatorConfig, SimulatorServer

TODAY = date(2026, 5, 20)
SMALL = {"seed": 7, "medias": 5, "days": 30, "today": TODAY, "daily_plays": 12.0}


def small_config(**overrides: Any) -> SimulatorConfig:
    """A fast configuration on a free port; keyword overrides win."""
    return SimulatorConfig(**({"port": 0} | SMALL | overrides))


def session_for(token: str = "demo-token") -> requests.Session:
    """A requests session that sends the bearer token."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    """A plain simulator shared by a test module (tests must not move its clock)."""
    with SimulatorServer(small_config()) as server:
        yield server


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    """An authenticated session."""
    with session_for() as session:
        yield session


def fetch_all_events(
    http: requests.Session, base_url: str, per_page: int = 100, **params: Any
) -> list[list[dict[str, Any]]]:
    """Every page of /stats/events until an empty one, as a list of pages."""
    pages = []
    page = 1
    while True:
        response = http.get(
            f"{base_url}/stats/events", params={"page": page, "per_page": per_page, **params}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        if not body:
            return pages
        pages.append(body)
        page += 1
