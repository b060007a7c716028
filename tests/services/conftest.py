"""Fixtures for the services tests: a gold layer on disk and a DuckDB warehouse over it."""

from __future__ import annotations

import pytest

from services.filters import Period
from services.warehouse import DuckDBWarehouse
from tests.services import gold_fixture


@pytest.fixture(scope="session")
def gold_root(tmp_path_factory):
    return gold_fixture.build(tmp_path_factory.mktemp("wvi-data"))


@pytest.fixture(scope="session")
def warehouse(gold_root):
    wh = DuckDBWarehouse(gold_root)
    yield wh
    wh.close()


@pytest.fixture
def period() -> Period:
    return Period(gold_fixture.PERIOD_START, gold_fixture.PERIOD_END)
