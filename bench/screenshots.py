"""Screenshots of every dashboard page for the docs, taken by hand (not part of the tests).

    python -m bench.screenshots [--data-root ./data] [--out docs/images]

Starts `streamlit run Home.py` on the data root (run `make demo` or the pipeline first for
real-looking data), signs in as a throw-away admin (a temporary users file and cookie key:
the real users file is not touched) and saves login.png, overview.png, channels.png,
trends.png, media.png and admin.png with Debian's Chromium.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from playwright.sync_api import Page

from services.users import add_user
from tests.browser import harness

PAGES = ("Overview", "Channels", "Trends", "Media", "Admin")
WIDTH, MAX_HEIGHT = 1400, 3200


def full_height(page: Page) -> None:
    """Grow the viewport to the page's content: Streamlit scrolls inside its main area, so a
    'full page' screenshot would only hold the window."""
    height = page.evaluate(
        "() => Math.max(...['stMain', 'stSidebar'].map(id => "
        "(document.querySelector(`[data-testid=${id}] > div`) || {scrollHeight: 0}).scrollHeight))"
    )
    page.set_viewport_size({"width": WIDTH, "height": min(max(int(height) + 40, 900), MAX_HEIGHT)})
    harness.wait_idle(page, rendered=True)
    page.wait_for_timeout(800)  # the charts re-lay out after the resize


def shoot(page: Page, path: Path) -> None:
    full_height(page)
    page.screenshot(path=str(path))
    page.set_viewport_size(harness.VIEWPORT)
    print(f"wrote {path}")


def take(data_root: Path, out: Path) -> None:
    """Start the app on `data_root` and save one screenshot per page into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        users_file, password = Path(tmp) / "users.yaml", secrets.token_urlsafe(12)
        add_user(users_file, "docs", "admin", "Docs Admin", password)
        env = harness.app_environment(data_root, users_file, secrets.token_urlsafe(48))
        server = harness.StreamlitServer(env, Path(tmp) / "server.log")
        with server, harness.chromium() as browser:
            context, page = harness.new_page(browser)
            harness.open_url(page, server.url())
            shoot(page, out / "login.png")
            harness.sign_in(page, server.url(), "docs", password)
            for label in PAGES:
                harness.go_to(page, label)
                shoot(page, out / f"{label.lower()}.png")
            context.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options and take the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=os.environ.get("WVI_DATA_ROOT", "./data"))
    parser.add_argument("--out", default="docs/images")
    args = parser.parse_args(argv)
    data_root = Path(args.data_root).resolve()
    if not (data_root / "gold").is_dir():
        print(f"no gold data under {data_root}: run `make demo` first", file=sys.stderr)
        return 1
    take(data_root, Path(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
