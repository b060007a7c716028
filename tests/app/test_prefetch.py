"""The login form's list of frontend code to import (app.prefetch)."""

from __future__ import annotations

from app import prefetch


def test_every_name_is_one_script_of_the_installed_streamlit():
    folder = prefetch.static_js_folder()
    for name in prefetch.PAGE_CODE:
        assert len(list(folder.glob(f"{name}.*.js"))) == 1, name
    files = prefetch.page_code_files()
    assert [f.split(".")[0] for f in files] == list(prefetch.PAGE_CODE)
    assert all((folder / f).is_file() for f in files)
