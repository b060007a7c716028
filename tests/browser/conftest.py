"""Browser fixtures: Chromium (skipped when missing, failed under CI=true), pages, servers."""

from __future__ import annotations

import os

import pytest

from tests.app.conftest import COOKIE_KEY, PASSWORDS, gold_root, users_path  # noqa: F401
from tests.browser import harness


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium. Missing: skipped locally, but a failure in CI (CI=true)."""
    if not harness.CHROMIUM.exists():
        reason = f"{harness.CHROMIUM} is not installed (apt-get install chromium)"
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(f"{reason}; CI=true, so a missing browser is a defect", pytrace=False)
        pytest.skip(reason)
    with harness.chromium() as launched:
        yield launched


@pytest.fixture
def page(browser):
    """A page in a fresh browser context (no cookies)."""
    context, fresh = harness.new_page(browser)
    yield fresh
    context.close()


def app_env(data_root, users_file, **extra: str) -> dict[str, str]:
    """The server's environment for the test fixtures' data root and users."""
    return harness.app_environment(data_root, users_file, COOKIE_KEY, **extra)


__all__ = ["PASSWORDS", "app_env"]
