"""What `python -m pipeline run` / `demo` leave for the dashboard after a run."""

from __future__ import annotations

from pipeline import commands
from pipeline.settings import load_settings
from services import snapshot as snapshots
from services.warehouse import DERIVED_TABLES, SCHEMAS, DuckDBWarehouse
from tests.services import gold_fixture

TABLES = {f"{schema}.{table}" for schema, tables in SCHEMAS.items() for table in tables}


def test_a_run_leaves_a_snapshot_that_the_dashboard_starts_from(tmp_path, monkeypatch, capsys):
    gold_fixture.build(tmp_path)
    monkeypatch.delenv("WVI_WAREHOUSE", raising=False)
    commands._dashboard_snapshot(load_settings(data_root=str(tmp_path)), quiet=False)
    assert "dashboard snapshot:" in capsys.readouterr().err
    started = DuckDBWarehouse(tmp_path, snapshot=True)
    assert started._snapshot_views == TABLES | set(DERIVED_TABLES)  # nothing loaded again
    started.close()


def test_no_snapshot_where_the_dashboard_reads_athena(tmp_path, monkeypatch):
    gold_fixture.build(tmp_path)
    monkeypatch.setenv("WVI_WAREHOUSE", "athena")
    commands._dashboard_snapshot(load_settings(data_root=str(tmp_path)), quiet=True)
    assert not (tmp_path / snapshots.FOLDER).exists()


def test_a_snapshot_that_cannot_be_made_is_a_warning(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("WVI_WAREHOUSE", raising=False)

    def broken(*args, **kwargs):
        raise OSError("disk gone")

    monkeypatch.setattr(DuckDBWarehouse, "__init__", broken)
    commands._dashboard_snapshot(load_settings(data_root=str(tmp_path)), quiet=True)
    assert capsys.readouterr().err.strip() == "warning: no dashboard snapshot: disk gone"
