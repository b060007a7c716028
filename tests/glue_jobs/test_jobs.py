"""Each Glue script, called as Glue calls it, writes what the job step writes.

The shared scenario (tests/pipeline/transform/scenario.py) processes loads L1 and L2 with
the `pipeline.jobs` steps, then re-runs L1 through `glue_jobs.bronze_to_silver.main` and
`glue_jobs.silver_to_gold.main` with Glue-style argv. The scripts run in this process, so
they share the test session's Spark (`get_spark` returns the running session).
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from glue_jobs import ingest, quality_checks
from pipeline.ingest import IngestResult
from pipeline.quality import CheckResult, QualityCheckFailed, QualityReport
from pipeline.state import WATERMARKS, Watermarks, save_pending
from pipeline.storage import LocalStorage
from tests.pipeline.transform.scenario import L1, RUN_A, RUN_B, glue_argv


def test_glue_scripts_write_the_same_tables_as_the_job_steps(scenario):
    # Re-running L1 through the scripts, after L1 and L2 went through the steps, leaves
    # every table exactly as the steps left it.
    assert scenario.silver_rerun == scenario.silver_l2
    assert scenario.gold_rerun == scenario.gold_l2
    results = scenario.results
    assert results["silver_rerun"]["rows"] == results["silver_l1"]["rows"]
    assert results["gold_rerun"]["rows"] == results["gold_l1"]["rows"]
    assert results["gold_rerun"]["dates"] == results["gold_l1"]["dates"]
    assert scenario.created_rerun == scenario.created_l1  # no table re-created


def test_quality_job_passes_and_commits_the_watermarks(spark, scenario, capsys):
    storage = LocalStorage(scenario.root)
    save_pending(storage, RUN_A, Watermarks({"events": {"m": "2026-05-02"}}))
    save_pending(storage, RUN_B, Watermarks({"events": {"m": "2026-05-01", "n": "2026-05-02"}}))
    dbs = ("--silver_db", scenario.silver_db, "--gold_db", scenario.gold_db)
    report = quality_checks.main(glue_argv("quality_checks", str(scenario.root), L1, *dbs))
    assert report.passed
    streams = json.loads(storage.get(WATERMARKS))["streams"]
    assert streams == {"events": {"m": "2026-05-02", "n": "2026-05-02"}}
    assert not list(storage.list("state/pending"))
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [entry["step"] for entry in logged] == ["quality_checks", "commit_watermarks"]
    assert logged[1]["result"]["runs"] == [RUN_A, RUN_B]


def test_quality_job_fails_on_a_blocking_failure_and_commits_nothing(monkeypatch, tmp_path):
    report = QualityReport("2026-05-02", [CheckResult.of("unique_key", "dim_media", "blocking", 2)])
    monkeypatch.setattr("pipeline.jobs.run_quality_checks", lambda *a, **k: report)
    monkeypatch.setattr("pipeline.spark.get_spark", lambda *a, **k: None)
    committed = []
    monkeypatch.setattr(
        "pipeline.jobs.commit_pending_watermarks", lambda *a: committed.append(a) or []
    )
    with pytest.raises(QualityCheckFailed, match="unique_key on dim_media"):
        quality_checks.main(glue_argv("quality_checks", str(tmp_path), L1))
    assert committed == []


class FakeSecrets:
    def __init__(self, value: str, secret_id: str = "wvi/wistia-token"):
        self.value, self.secret_id = value, secret_id

    def get_secret_value(self, SecretId):  # boto3's argument name
        assert SecretId == self.secret_id
        if not self.value:  # what Secrets Manager says of a secret that has no value yet
            raise LookupError("ResourceNotFoundException: no value for staging label AWSCURRENT")
        return {"SecretString": self.value}


def test_ingest_job_reads_the_token_from_secrets_manager(monkeypatch, tmp_path, capsys):
    seen = {}

    def fake_ingest(settings, storage, options):
        seen.update(settings=settings, storage=storage, options=options)
        return IngestResult("run-1", options.as_of, "complete", "m.json", {}, {"total": {}})

    monkeypatch.setattr("pipeline.ingest.ingest", fake_ingest)
    secret = FakeSecrets(json.dumps({"WISTIA_API_TOKEN": "tok-123"}))
    argv = glue_argv(
        "ingest",
        str(tmp_path),
        date(2026, 5, 2),
        "--wistia_secret_id",
        "wvi/wistia-token",
        "--media_ids",
        "gskhw4w4lm,v08dlrgr7v",
    )
    summary = ingest.main(argv, secrets_client=secret)
    settings = seen["settings"]
    assert settings.wistia_api_token.get_secret_value() == "tok-123"
    assert settings.data_root == str(tmp_path)
    assert settings.media_ids == ("gskhw4w4lm", "v08dlrgr7v")
    assert seen["options"].as_of == date(2026, 5, 2)
    assert seen["storage"].root == str(tmp_path.resolve())
    assert summary["run_id"] == "run-1"
    assert "tok-123" not in capsys.readouterr().out
    assert ingest.read_token("wvi/wistia-token", FakeSecrets("plain-token")) == "plain-token"
    with pytest.raises(ValueError, match="WISTIA_API_TOKEN"):
        ingest.read_token("wvi/wistia-token", FakeSecrets('{"other": "x"}'))


class FakeWorkflow:
    """The workflow-run-properties calls of a Glue client, for a run started with a window."""

    def __init__(self, properties):
        self.properties, self.put, self.reads = properties, [], 0

    def get_workflow_run_properties(self, Name, RunId):
        self.reads += 1
        return {"RunProperties": dict(self.properties)}

    def put_workflow_run_properties(self, Name, RunId, RunProperties):
        self.put.append(RunProperties)


def test_ingest_job_takes_a_backfill_window_from_the_workflow_run(monkeypatch, tmp_path):
    seen = {}

    def fake_ingest(settings, storage, options):
        seen["options"] = options
        return IngestResult("run-1", options.as_of, "complete", "m.json", {}, {"total": {}})

    monkeypatch.setattr("pipeline.ingest.ingest", fake_ingest)
    glue = FakeWorkflow(
        {"load_date": "2026-05-02", "start_date": "2026-04-01", "end_date": "2026-04-30"}
    )
    argv = [
        "ingest.py",
        "--JOB_NAME", "wvi-ingest",
        "--data_root", str(tmp_path),
        "--load_date", "auto",
        "--WORKFLOW_NAME", "wf",
        "--WORKFLOW_RUN_ID", "wr-1",
    ]  # fmt: skip
    ingest.main(argv, glue_client=glue)
    options = seen["options"]
    assert options.as_of == date(2026, 5, 2)
    assert (options.start_date, options.end_date) == (date(2026, 4, 1), date(2026, 4, 30))
    assert options.backfill_days is None
    assert glue.reads == 1  # the day and the window come from one read
    assert glue.put == [{"load_date": "2026-05-02"}]

    glue.properties = {"load_date": "2026-05-02", "backfill_days": "90"}
    ingest.main(argv, glue_client=glue)
    assert seen["options"].backfill_days == 90 and seen["options"].start_date is None


# ---------------------------------------------------------------- bronze_to_silver: PII key
def test_bronze_to_silver_job_hashes_ips_with_the_key_from_secrets_manager(spark, tmp_path):
    from glue_jobs import bronze_to_silver
    from pipeline.transform.pii import protect_ip
    from tests.pipeline.transform.scenario import rows, write_l1
    from tests.spark_fixture import unique_db

    write_l1(tmp_path)
    db, key = unique_db("s"), "k" * 40
    secrets = FakeSecrets(json.dumps({"WVI_PII_KEY": key}), "wvi/pii-key")
    extra = ("--silver_db", db, "--pii", "hashed", "--pii_key_secret_id", "wvi/pii-key")
    bronze_to_silver.main(
        glue_argv("bronze_to_silver", str(tmp_path), L1, *extra), secrets_client=secrets
    )
    raw = ["203.0.113.7", "198.51.100.23", "2001:db8:85a3::8a2e:370:7334"]  # as in bronze
    hashed = {r["ip_address"] for r in rows(spark, db, "events")}
    assert hashed == {protect_ip(ip, "hashed", key.encode()) for ip in raw}


@pytest.mark.parametrize(
    ("extra", "secret", "message"),
    [
        ((), None, "WVI_PII=hashed needs a secret key in WVI_PII_KEY"),
        (("--pii_key_secret_id", "wvi/pii-key"), "", "no usable key in the secret wvi/pii-key"),
        (("--pii_key_secret_id", "wvi/pii-key"), "short-key", "wvi/pii-key .*at least 32 bytes"),
    ],
)
def test_bronze_to_silver_job_without_a_usable_key_fails_first(
    monkeypatch, tmp_path, extra, secret, message
):
    from glue_jobs import bronze_to_silver

    monkeypatch.delenv("WVI_PII_KEY", raising=False)
    started = []
    monkeypatch.setattr("pipeline.spark.get_spark", lambda *a, **k: started.append(1))
    argv = glue_argv("bronze_to_silver", str(tmp_path), L1, "--pii", "hashed", *extra)
    secrets = FakeSecrets(secret or "", "wvi/pii-key")
    with pytest.raises(ValueError, match=message) as failed:
        bronze_to_silver.main(argv, secrets_client=secrets)
    assert started == []  # before Spark
    if secret:
        assert secret not in str(failed.value)  # the message names the secret, not its value
