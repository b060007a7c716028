"""Run the dashboard with `streamlit run` and drive it with Debian's Chromium through Playwright.

Used by the browser tests and by `bench/screenshots.py`. Playwright never downloads a browser
here: it launches `/usr/bin/chromium` (apt package `chromium`) with flags that keep it off
the network.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType

from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    # Stop Chromium calling Google (updates, sync, field trials) on a closed network.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 1000}
COOKIE_NAME = "wvi_auth"
# A chart Vega has drawn (its canvas, class "marks").
DRAWN_CHART = "[data-testid='stVegaLiteChart'] .marks"


def app_environment(data_root: Path, users_file: Path, cookie_key: str, **extra: str) -> dict:
    """This process's environment without its WVI_* / WISTIA_* settings, plus the app's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WVI_", "WISTIA_"))}
    env.update(
        WVI_DATA_ROOT=str(data_root),
        WVI_USERS_FILE=str(users_file),
        WVI_COOKIE_KEY=cookie_key,
        **extra,
    )
    return env


def free_port() -> int:
    """A TCP port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class StreamlitServer:
    """`streamlit run Home.py` on 127.0.0.1 in its own process group; a context manager."""

    def __init__(self, env: Mapping[str, str], log_path: Path, port: int | None = None) -> None:
        self.env = dict(env)  # the whole environment (see `app_environment`)
        self.log_path = log_path
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        """The server's command line: headless, local, no file watcher, no usage stats."""
        return [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "Home.py"),
            "--server.port",
            str(self.port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--server.fileWatcherType",
            "none",
            "--browser.gatherUsageStats",
            "false",
        ]

    def start(self, timeout: float = 60.0) -> StreamlitServer:
        """Start and wait until `/_stcore/health` answers `ok`."""
        # A file, not a pipe: nobody reads the output while the tests run.
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                self.command(),
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_healthy(timeout)
        return self

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited early:\n{self.log()}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(self.url("_stcore/health"), timeout=2) as reply,
            ):
                if reply.read().strip() == b"ok":
                    return
            time.sleep(0.2)
        raise RuntimeError(f"streamlit did not become healthy in {timeout:.0f} s:\n{self.log()}")

    def url(self, path: str = "") -> str:
        """The app's URL for `path` (a page's url path, or an endpoint)."""
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def log(self) -> str:
        """The server's output so far."""
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM to the server's process group, SIGKILL after 10 s."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def __enter__(self) -> StreamlitServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium under Playwright (raises if it is not installed)."""
    if not CHROMIUM.exists():
        raise FileNotFoundError(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser: Browser) -> tuple[BrowserContext, Page]:
    """A fresh context (no cookies) and a page in it."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    return context, context.new_page()


# ------------------------------------------------------------------------------ app state
def wait_idle(page: Page, timeout: float = 30_000, *, rendered: bool = False) -> None:
    """Wait until the app is connected and its script is not running (streamlit's own e2e
    sequence); with `rendered`, also until lazy elements (charts, tables) have drawn, which
    takes seconds in a GPU-less headless Chromium, so only where a test looks at them."""
    page.wait_for_timeout(250)
    app = page.locator("[data-testid='stApp']")
    app.and_(page.locator("[data-test-connection-state='CONNECTED']")).wait_for(
        state="attached", timeout=timeout
    )
    app.and_(page.locator("[data-test-script-state='notRunning']")).wait_for(
        state="attached", timeout=timeout
    )
    if rendered:
        expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=timeout)
    page.wait_for_timeout(150)


def open_url(page: Page, url: str) -> None:
    """Go to `url` and wait for the app to settle."""
    page.goto(url)
    wait_idle(page)


def login_form(page: Page):
    """The login form's username field (visible when the form is shown)."""
    return page.get_by_role("textbox", name="Username")


def fill_login(page: Page, username: str, password: str, attempts: int = 3) -> None:
    """Type into the login form and make sure it kept both values.

    The cookie manager's iframe reports the browser's cookies once it has loaded, which
    reruns the app; when that lands while the test types (it may come after `wait_idle` on a
    loaded machine), a value typed before it can be gone. Type again until both stay.
    """
    username_box = login_form(page)
    password_box = page.get_by_role("textbox", name="Password")
    for _ in range(attempts):
        username_box.fill(username)
        password_box.fill(password)
        wait_idle(page)
        if username_box.input_value() == username and password_box.input_value() == password:
            return
    raise AssertionError(f"the login form did not keep what was typed ({attempts} attempts)")


def sign_in(page: Page, base_url: str, username: str, password: str) -> None:
    """Sign in through the form and wait until the cookie is written and the app shown."""
    open_url(page, base_url)
    fill_login(page, username, password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("stSidebarNav")).to_be_visible()
    deadline = time.monotonic() + 15
    while not auth_cookie(page.context) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert auth_cookie(page.context), f"signing in as {username} wrote no login cookie"
    wait_idle(page)


def auth_cookie(context: BrowserContext) -> dict | None:
    """The login cookie, if the browser has one."""
    return next((c for c in context.cookies() if c["name"] == COOKIE_NAME), None)


def nav_labels(page: Page) -> list[str]:
    """The page names in the sidebar menu (without the icons' ligature text)."""
    texts = page.get_by_test_id("stSidebarNavLink").all_inner_texts()
    return [text.strip().splitlines()[-1].strip() for text in texts]


def go_to(page: Page, label: str) -> None:
    """Open a page from the sidebar menu."""
    page.get_by_test_id("stSidebarNavLink").filter(has_text=label).click()
    wait_idle(page)


def metrics(page: Page) -> list[tuple[str, str, str]]:
    """(label, value, delta) of every `st.metric` on the page; delta "" when there is none."""
    shown = []
    for metric in page.get_by_test_id("stMetric").all():
        delta = metric.get_by_test_id("stMetricDelta")
        shown.append(
            (
                metric.get_by_test_id("stMetricLabel").inner_text().strip(),
                metric.get_by_test_id("stMetricValue").inner_text().strip(),
                delta.inner_text().strip() if delta.count() else "",
            )
        )
    return shown


__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "COOKIE_NAME",
    "DRAWN_CHART",
    "StreamlitServer",
    "app_environment",
    "auth_cookie",
    "chromium",
    "fill_login",
    "free_port",
    "go_to",
    "login_form",
    "metrics",
    "nav_labels",
    "new_page",
    "open_url",
    "sign_in",
    "wait_idle",
]
