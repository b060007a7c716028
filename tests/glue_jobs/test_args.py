"""The Glue argument contract, with and without awsglue (notes/aws-glue-athena.md §1.3)."""

from __future__ import annotations

import subprocess
import sys
import types
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from glue_jobs._args import (
    REQUIRED,
    GlueArgumentError,
    resolve_args,
    resolve_load_date,
    store_load_date,
)

REPO = Path(__file__).resolve().parents[2]
GLUE_ARGV = [
    "script.py",
    "--JOB_ID",
    "j_1",
    "--JOB_RUN_ID",
    "jr_1",
    "--job-bookmark-option",
    "job-bookmark-disable",
    "--TempDir",
    "s3://tmp/x",
    "--enable-glue-datacatalog",
    "",
    "--WORKFLOW_NAME",
    "wvi-daily",
    "--WORKFLOW_RUN_ID",
    "wr_1",
    "--JOB_NAME",
    "wvi-bronze-to-silver",
    "--data_root",
    "s3://bucket/prefix",
    "--load_date",
    "2026-05-02",
]


def test_declared_options_are_returned_and_unknown_ones_ignored():
    args = resolve_args(GLUE_ARGV, optional=("silver_db",))
    assert args == {
        "JOB_NAME": "wvi-bronze-to-silver",
        "data_root": "s3://bucket/prefix",
        "load_date": "2026-05-02",
    }


def test_optional_options_only_when_present():
    args = resolve_args([*GLUE_ARGV, "--silver_db", "s1"], optional=("silver_db", "gold_db"))
    assert args["silver_db"] == "s1" and "gold_db" not in args
    assert resolve_args(GLUE_ARGV, optional=("WORKFLOW_RUN_ID",))["WORKFLOW_RUN_ID"] == "wr_1"


@pytest.mark.parametrize("missing", REQUIRED)
def test_every_declared_option_is_required(missing):
    i = GLUE_ARGV.index(f"--{missing}")
    argv = GLUE_ARGV[:i] + GLUE_ARGV[i + 2 :]
    with pytest.raises(GlueArgumentError, match=missing):
        resolve_args(argv)


def test_no_abbreviations():
    argv = ["s.py", "--JOB_NAME", "j", "--data", "/x", "--load_date", "2026-05-02"]
    with pytest.raises(GlueArgumentError, match="data_root"):
        resolve_args(argv)


def test_uses_get_resolved_options_when_awsglue_is_there(monkeypatch):
    calls = []

    def fake(argv, options):
        calls.append(list(options))
        return {**{o: f"v-{o}" for o in options}, "job_bookmark_option": "job-bookmark-disable"}

    utils = types.ModuleType("awsglue.utils")
    utils.getResolvedOptions = fake
    monkeypatch.setitem(sys.modules, "awsglue", types.ModuleType("awsglue"))
    monkeypatch.setitem(sys.modules, "awsglue.utils", utils)
    args = resolve_args([*GLUE_ARGV, "--pii", "raw"], optional=("pii", "gold_db"))
    assert calls == [["JOB_NAME", "data_root", "load_date", "pii"]]
    assert args == {o: f"v-{o}" for o in calls[0]}


def test_a_script_run_as_glue_would_fails_fast_on_a_missing_argument():
    script = REPO / "glue_jobs" / "bronze_to_silver.py"
    done = subprocess.run(
        [sys.executable, str(script), "--JOB_NAME", "x", "--data_root", "/tmp/none"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "load_date" in done.stderr and "GlueArgumentError" in done.stderr


class FakeGlue:
    def __init__(self, properties=None):
        self.properties = properties or {}
        self.put = []

    def get_workflow_run_properties(self, Name, RunId):
        return {"RunProperties": self.properties}

    def put_workflow_run_properties(self, Name, RunId, RunProperties):
        self.put.append((Name, RunId, RunProperties))


def test_load_date_auto():
    in_workflow = {"WORKFLOW_NAME": "wf", "WORKFLOW_RUN_ID": "r1"}
    assert resolve_load_date("2026-05-02", {}) == date(2026, 5, 2)
    chosen = FakeGlue({"load_date": "2026-04-30"})
    assert resolve_load_date("auto", in_workflow, chosen) == date(2026, 4, 30)
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    assert resolve_load_date("auto", in_workflow, FakeGlue()) == yesterday
    assert resolve_load_date("auto", {}) == yesterday
    glue = FakeGlue()
    store_load_date(in_workflow, date(2026, 5, 2), glue)
    assert glue.put == [("wf", "r1", {"load_date": "2026-05-02"})]
    store_load_date({}, date(2026, 5, 2), glue)  # not in a workflow: nothing to record
    assert len(glue.put) == 1
