"""What `python -m pipeline run` / `demo` leave for the dashboard after a run."""

from __future__ import annotations

import re

from pipeline import commands
from pipeline.settings import load_settings
from services import snapshot as snapshots
from services.warehouse import DERIVED_TABLES, SCHEMAS, DuckDBWarehouse
from tests.services import gold_fixture

TABLES = {f"{schema}.{table}" for schema, tables in SCHEMAS.items() for table in tables}


def test_a_run_leaves_a_snapshot_that_the_dashboard_starts_from(tmp_path, monkeypatch, capsys):
    gold_fixture.build(tmp_path)
    monkeypatch.delenv("WVI_WAREHOUSE", raising=False)
    settings = load_settings(data_root=str(tmp_path))
    commands._dashboard_snapshot(settings, quiet=False)
    assert re.fullmatch(r"dashboard snapshot: \d+\.\d s", capsys.readouterr().err.strip())
    started = DuckDBWarehouse(tmp_path, snapshot=True)
    assert started._snapshot_views == TABLES | set(DERIVED_TABLES)  # nothing loaded again
    started.close()
    commands._dashboard_snapshot(settings, quiet=False)  # nothing changed since
    assert capsys.readouterr().err.strip() == "dashboard snapshot: up to date"


def test_no_snapshot_where_the_dashboard_reads_athena(tmp_path, monkeypatch):
    gold_fixture.build(tmp_path)
    monkeypatch.setenv("WVI_WAREHOUSE", "athena")
    commands._dashboard_snapshot(load_settings(data_root=str(tmp_path)), quiet=True)
    assert not (tmp_path / snapshots.FOLDER).exists()


def test_a_snapshot_that_cannot_be_written_is_a_warning(tmp_path, monkeypatch, capsys):
    gold_fixture.build(tmp_path)
    monkeypatch.delenv("WVI_WAREHOUSE", raising=False)
    (tmp_path / snapshots.FOLDER).write_text("a file where the folder should be")
    commands._dashboard_snapshot(load_settings(data_root=str(tmp_path)), quiet=True)
    warning = capsys.readouterr().err.strip()
    assert warning.startswith("warning: no dashboard snapshot: ") and "\n" not in warning
