"""The dashboard in Chromium against a real `streamlit run` on the gold fixture (one server)."""

from __future__ import annotations

import base64
import json
import time
from datetime import date

import jwt
import pytest
from playwright.sync_api import expect

from app import prefetch
from services import kpis
from services.filters import Period
from services.warehouse import DuckDBWarehouse
from tests.browser import harness
from tests.browser.conftest import PASSWORDS, app_env

VIEWER_PAGES = ["Overview", "Channels", "Trends", "Media"]
TITLES = {page: page for page in VIEWER_PAGES} | {"Admin": "Admin — pipeline runs"}
CHARTS = {"Overview": 2, "Channels": 1, "Trends": 2, "Media": 4}
DATA_THROUGH = date(2026, 6, 20)  # the gold fixture's last day


@pytest.fixture(scope="module")
def server(gold_root, users_path, tmp_path_factory):
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    with harness.StreamlitServer(app_env(gold_root, users_path), log) as running:
        yield running


@pytest.fixture(scope="module")
def cookies(browser, server) -> dict[str, dict]:
    """Each user's login cookie, from one real sign-in through the form per user."""
    found = {}
    for username in ("alice", "bob"):
        context, page = harness.new_page(browser)
        harness.sign_in(page, server.url(), username, PASSWORDS[username])
        found[username] = harness.auth_cookie(context)
        context.close()
    return found


def sign_in(page, server, cookies, username: str, path: str = "") -> None:
    """Open `path` as `username`, signed in by their cookie (a new session)."""
    page.context.add_cookies([cookies[username]])
    harness.open_url(page, server.url(path))
    expect(page.get_by_test_id("stSidebarNav")).to_be_visible()


def heading(page) -> str:
    return page.get_by_test_id("stMain").get_by_test_id("stHeading").first.inner_text().strip()


def no_exception(page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)


def expect_login_form_only(page) -> None:
    expect(harness.login_form(page)).to_be_visible()
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
    expect(page.get_by_test_id("stMetric")).to_have_count(0)
    expect(page.get_by_test_id("stHeading")).to_have_text(["Sign in to Wistia Video Insights"])


# ------------------------------------------------------------------------------ access
@pytest.mark.parametrize("path", ["", "media", "admin"])
def test_a_visitor_who_is_not_signed_in_sees_only_the_login_form(page, server, path):
    harness.open_url(page, server.url(path))
    expect_login_form_only(page)
    no_exception(page)


def test_the_login_form_has_the_overview_s_code_loaded_before_the_sign_in(page, server):
    harness.open_url(page, server.url())
    expect_login_form_only(page)
    files = list(prefetch.page_code_files())
    assert len(files) == len(prefetch.PAGE_CODE)
    # As while a person types: the imports are over, the modules they import included.
    page.wait_for_function("document.documentElement.dataset.wviPageCode === 'imported'")
    page.wait_for_function(
        """files => files.every(f => performance.getEntriesByType('resource')
            .some(e => e.name.endsWith('/static/js/' + f)))""",
        arg=files,
    )
    harness.fill_login(page, "bob", PASSWORDS["bob"])
    page.evaluate("performance.clearResourceTimings()")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("stSidebarNav")).to_be_visible()
    harness.wait_idle(page, rendered=True)
    expect(page.get_by_test_id("stVegaLiteChart")).to_have_count(CHARTS["Overview"])
    page.wait_for_function(  # every chart drawn by Vega
        """() => [...document.querySelectorAll("[data-testid='stVegaLiteChart']")]
            .every(chart => chart.querySelector('.marks'))"""
    )
    fetched = page.evaluate(
        "performance.getEntriesByType('resource').map(e => e.name)"
        ".filter(name => /[/]static[/]js[/][^/]+[.]js$/.test(name))"
    )
    assert fetched == []  # every script the Overview runs was imported while the form showed


def test_a_viewer_sees_every_page_but_admin(page, server, cookies):
    sign_in(page, server, cookies, "bob")
    assert harness.nav_labels(page) == VIEWER_PAGES
    for label in VIEWER_PAGES:
        harness.go_to(page, label)
        assert heading(page) == TITLES[label]
        expect(page.get_by_test_id("stVegaLiteChart")).to_have_count(CHARTS[label])
        expect(page.locator(harness.DRAWN_CHART).first).to_be_visible()  # Vega drew
        assert page.get_by_role("button", name="Download CSV").count() >= 1, label
        no_exception(page)


def test_a_viewer_cannot_open_admin_by_url(page, server, cookies):
    sign_in(page, server, cookies, "bob", "admin")
    expect(page.get_by_text("Page not found")).to_be_visible()
    expect(page.get_by_text("Admin — pipeline runs")).to_have_count(0)
    expect(page.get_by_text("Start run")).to_have_count(0)
    assert heading(page) == "Overview"  # Streamlit ran the main page instead


def test_an_admin_sees_and_opens_the_admin_page(page, server, cookies):
    sign_in(page, server, cookies, "alice")
    assert harness.nav_labels(page) == [*VIEWER_PAGES, "Admin"]
    for label in [*VIEWER_PAGES, "Admin"]:
        harness.go_to(page, label)
        assert heading(page) == TITLES[label]
        no_exception(page)
    expect(page.get_by_role("button", name="Start run")).to_be_visible()


def test_signing_in_through_the_form_keeps_a_deep_link(page, server):
    harness.sign_in(page, server.url("channels"), "alice", PASSWORDS["alice"])
    assert heading(page) == "Channels"
    assert page.url.rstrip("/").endswith("/channels")
    no_exception(page)


def test_a_wrong_password_is_refused(page, server):
    harness.open_url(page, server.url())
    harness.fill_login(page, "bob", "wrong-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Username or password is incorrect.")).to_be_visible()
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)


# ------------------------------------------------------------------------------ cookie
def test_signing_in_through_the_form_writes_a_strict_cookie(cookies):
    for username in ("alice", "bob"):
        cookie = cookies[username]
        assert cookie["sameSite"] == "Strict" and cookie["path"] == "/"
        assert cookie["expires"] > time.time() + 6 * 86400  # COOKIE_EXPIRY_DAYS = 7


class HeldComponents:
    """Holds the files of components' iframes (the cookie manager's) from now until `release`:
    the cookie is written or deleted by such an iframe a moment after the rerun that asked for
    it, and holding them makes that moment as long as a test needs."""

    def __init__(self, page) -> None:
        self.held, self.released = [], False
        page.route("**/component/**", self._hold)  # routing also bypasses the HTTP cache

    def _hold(self, route) -> None:
        if self.released:
            route.continue_()
        else:
            self.held.append(route)

    def release(self) -> None:
        assert self.held, "no component's iframe asked for anything"
        self.released = True
        for route in self.held:
            route.continue_()


def wait_for_cookie(page, present: bool, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while (harness.auth_cookie(page.context) is not None) != present:
        if time.monotonic() > deadline:
            break
        page.wait_for_timeout(100)


def test_a_click_right_after_signing_in_does_not_lose_the_cookie(page, server):
    harness.open_url(page, server.url())
    harness.fill_login(page, "bob", PASSWORDS["bob"])
    components = HeldComponents(page)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("stSidebarNav")).to_be_visible()
    harness.go_to(page, "Channels")  # a rerun before the cookie writer has run
    assert heading(page) == "Channels"
    assert harness.auth_cookie(page.context) is None
    components.release()
    wait_for_cookie(page, present=True)
    assert harness.auth_cookie(page.context), "the click dropped the cookie writer"
    harness.wait_idle(page)
    assert heading(page) == "Channels"
    no_exception(page)
    # A refresh (a new session) is signed in by that cookie.
    harness.open_url(page, server.url("channels"))
    expect(page.get_by_test_id("stSidebarNav")).to_be_visible()
    assert heading(page) == "Channels"


def test_a_click_right_after_logging_out_does_not_keep_the_cookie(page, server, cookies):
    sign_in(page, server, cookies, "bob")
    components = HeldComponents(page)
    page.get_by_role("button", name="Log out").click()
    harness.wait_idle(page)
    expect(harness.login_form(page)).to_be_visible()
    page.get_by_role("button", name="Sign in").click()  # a rerun before the deleter has run
    harness.wait_idle(page)
    assert harness.auth_cookie(page.context) is not None
    components.release()
    wait_for_cookie(page, present=False)
    assert harness.auth_cookie(page.context) is None, "the click dropped the cookie deleter"
    page.reload()  # a refresh is not signed in again
    harness.wait_idle(page)
    expect_login_form_only(page)


def test_the_cookie_signs_a_new_session_in_and_deep_links_hold(page, server, cookies):
    sign_in(page, server, cookies, "alice", "channels")
    assert heading(page) == "Channels"
    assert page.url.endswith("/channels")
    harness.open_url(page, server.url("admin"))
    assert heading(page) == "Admin — pipeline runs"


def forgeries(genuine: str, key: str) -> dict[str, str]:
    """Cookies a visitor could make from bob's genuine one, all claiming to be alice."""
    header, payload, signature = genuine.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))

    def b64(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    as_alice = {**claims, "username": "alice"}
    return {
        "payload swapped, signature kept": ".".join([header, b64(as_alice), signature]),
        "signed with another key": jwt.encode(as_alice, "x" * 64, algorithm="HS256"),
        "alg none": b64({"alg": "none", "typ": "JWT"}) + "." + b64(as_alice) + ".",
        "right key, HS512": jwt.encode(as_alice, key, algorithm="HS512"),
        "expired": jwt.encode({**claims, "exp_date": time.time() - 60}, key, algorithm="HS256"),
        "one character changed": genuine[:-2] + ("A" if genuine[-2] != "A" else "B") + genuine[-1],
    }


def test_a_tampered_cookie_is_refused(page, server, cookies):
    from tests.app.conftest import COOKIE_KEY

    genuine = cookies["bob"]
    for name, value in forgeries(genuine["value"], COOKIE_KEY).items():
        page.context.clear_cookies()
        page.context.add_cookies([{**genuine, "value": value}])
        harness.open_url(page, server.url())
        expect(harness.login_form(page), name).to_be_visible()
        expect(page.get_by_test_id("stSidebarNav"), name).to_have_count(0)
        no_exception(page)
    # The genuine cookie still works: the refusals above are about the forgeries.
    page.context.clear_cookies()
    sign_in(page, server, cookies, "bob")


def test_log_out_deletes_the_cookie(page, server, cookies):
    sign_in(page, server, cookies, "bob")
    page.get_by_role("button", name="Log out").click()
    harness.wait_idle(page)
    expect(harness.login_form(page)).to_be_visible()
    deadline = time.monotonic() + 10
    while harness.auth_cookie(page.context) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert harness.auth_cookie(page.context) is None
    page.reload()
    harness.wait_idle(page)
    expect_login_form_only(page)


# ------------------------------------------------------------------------------ numbers
def test_overview_kpis_equal_the_services_values(page, server, cookies, gold_root):
    warehouse = DuckDBWarehouse(gold_root)
    try:
        summary = kpis.kpi_summary(warehouse, Period.last_days(30, DATA_THROUGH))
    finally:
        warehouse.close()
    sign_in(page, server, cookies, "bob")
    assert heading(page) == "Overview"
    expected = [(c.label, c.value, c.delta or "") for c in summary.cards()]
    expect(page.get_by_test_id("stMetric")).to_have_count(len(expected))
    assert harness.metrics(page) == expected
    expect(page.get_by_text("Data through 2026-06-20")).to_be_visible()
