"""The dashboard's browser code, imported while the login form shows.

Streamlit's frontend loads the code of each kind of element (metric, Vega-Lite chart, data
grid, select box, …) the first time a page shows one. In a browser that has never opened the
dashboard, that is ~60 script files fetched, compiled and run after the click on "Sign in",
0.7–1 s of the Overview's first drawing on a 2-core machine (bench/app_bench.py). The login
form imports them instead, while the visitor types: a script in the page asks the browser for
the same modules Streamlit will ask for, so they are in its module map when the Overview
arrives. Nothing is drawn and no data is involved; only the frontend's own files are named.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import streamlit as st

# The frontend chunks the Overview and the sidebar filters need, by their names in
# Streamlit's build (static/js/<name>.<hash>.js): element code, and the Vega modules the
# chart code itself loads on first use. A name the installed Streamlit doesn't have is left
# out (tests/app/test_prefetch.py checks that each one is there for the pinned version).
PAGE_CODE = (
    "Metric",
    "ArrowVegaLiteChart",
    "embed",
    "vega-interpreter",
    "DataFrame",
    "DownloadButton",
    "Selectbox",
    "Button",
    "rehype-raw",
)
# Where the running frontend was loaded from: the chunks' URLs are resolved against its main
# module, so each import is the very module Streamlit imports later (same URL, same instance).
# Once every import (with the modules each imports in turn) is done, the page's root element
# says so: `data-wvi-page-code="imported"`.
_SCRIPT = """<script>
(() => {
  const main = document.querySelector('script[type="module"][src*="static/js/index."]');
  if (!main) return;
  const imports = %s.map(file => import(new URL(file, main.src).href).catch(() => {}));
  Promise.all(imports).then(() => {
    document.documentElement.dataset.wviPageCode = 'imported';
  });
})();
</script>"""
CONTAINER_KEY = "page-code"  # hidden by the router's style, like the cookie component's frames


def static_js_folder() -> Path:
    """The installed Streamlit's frontend scripts."""
    return Path(st.__file__).parent / "static" / "static" / "js"


@lru_cache(maxsize=1)
def page_code_files() -> tuple[str, ...]:
    """The file names of `PAGE_CODE` in the installed Streamlit (one file per name)."""
    folder = static_js_folder()
    files = []
    for name in PAGE_CODE:
        matches = sorted(folder.glob(f"{name}.*.js"))
        if len(matches) == 1:
            files.append(matches[0].name)
    return tuple(files)


def import_page_code() -> None:
    """Have the browser import the dashboard's element code (see the module's docstring)."""
    files = page_code_files()
    if files:
        with st.container(key=CONTAINER_KEY):
            st.html(_SCRIPT % json.dumps(files), unsafe_allow_javascript=True)


__all__ = ["CONTAINER_KEY", "PAGE_CODE", "import_page_code", "page_code_files"]
