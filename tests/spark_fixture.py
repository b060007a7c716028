"""One SparkSession for the whole test run (import the `spark` fixture into a conftest).

    from tests.spark_fixture import spark  # noqa: F401

The metastore (Derby) and warehouse live in a temporary directory, never in the working
directory. Tests that write catalog tables use their own database names (`unique_db`), so
that they can share the session and its metastore.
"""

from __future__ import annotations

import uuid

import pytest

from pipeline.spark import get_spark


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    session = get_spark(str(tmp_path_factory.mktemp("spark")), app_name="wvi-tests")
    yield session
    session.stop()


def unique_db(prefix: str = "t") -> str:
    """A fresh lowercase database name."""
    return f"{prefix}_{uuid.uuid4().hex[:10]}"
