"""The app as deployed on AWS, against a moto server: Athena for the numbers, Glue for runs.

The app is configured only through its environment (WVI_WAREHOUSE=athena, WVI_ORCHESTRATOR=
glue, AWS_ENDPOINT_URL → moto), so `make_warehouse` / `make_pipeline_control`, pyathena and
boto3 all run as they would on AWS.

moto answers each Athena query with the next canned result, whatever its SQL. A Streamlit
page issues several queries, in an order the pages decide, so the canned results here are
routed by statement: a wrapper around moto's `AthenaBackend.start_query_execution` (the
backend method behind StartQueryExecution, in this process because ThreadedMotoServer is)
recognizes which `services.queries` statement arrived — its text is the statement's Athena
text exactly, `?` markers and all, since values travel as ExecutionParameters — and queues its
result just before moto pops it, through moto's own `query_results_queue` / `QueryResults`.
"""

from __future__ import annotations

import urllib.request
from datetime import date

import boto3
import pytest
import sqlglot
from botocore.exceptions import ClientError, NoCredentialsError
from moto.athena.models import AthenaBackend, QueryResults

from app import data
from services import queries
from services.glue_control import GluePipelineControl
from services.warehouse import athena_sql
from tests.app.conftest import signed_in, texts
from tests.services.test_athena_warehouse import COLUMN_TYPES, column_info
from tests.services.test_glue_control import FakeGlue, graph, job_run, workflow_run

REGION, BUCKET, WORKFLOW = "us-east-1", "athena-results", "wvi-pipeline"
DATABASES = (("gold", "wistia_gold"), ("silver", "wistia_silver"))
# The rows each statement answers with (as Athena's result text).
RESULTS: dict[str, list[list[str | None]]] = {
    "data_range": [["2026-05-01", "2026-06-20"]],
    "media_list": [
        ["m1", "Gap Method YouTube", "YouTube", "https://x/m1", "120.0", "2026-01-01", None],
        ["m2", "Gap Method Facebook", "Facebook", "https://x/m2", "90.5", "2026-01-02", "Ads"],
    ],
    "channel_list": [["Facebook"], ["YouTube"]],
    "kpi_daily_totals": [["current", "100", "350", "8.0"], ["previous", "50", "200", "3.0"]],
    "kpi_engagement_totals": [["current", "3", "4.2", "8"], ["previous", "1", "1.8", "4"]],
    "media_breakdown": [
        ["m1", "Gap Method YouTube", "YouTube", "60", "200", "5.0", "0.3", "2", "0.6"],
        ["m2", "Gap Method Facebook", "Facebook", "40", "150", "3.0", "0.2667", "1", "0.4"],
    ],
    "daily_trend": [
        ["2026-06-19", "40", "150", "3.0", "0.2667", "1", "0.4"],
        ["2026-06-20", "60", "200", "5.0", "0.3", "2", "0.6"],
    ],
}


def statement_texts() -> dict[str, str]:
    """Each statement's Athena text (what arrives at StartQueryExecution) → its name."""
    return {athena_sql(s.sql, DATABASES): name for name, s in queries.STATEMENTS.items()}


TEXTS = statement_texts()
EVIL_CHANNEL = "YouTube' OR '1'='1"


def canned(name: str) -> QueryResults:
    """The statement's result: header row, then its rows (none for statements not listed)."""
    names = sqlglot.parse_one(queries.STATEMENTS[name].sql, read="athena").named_selects
    header = {"Data": [{"VarCharValue": n} for n in names]}
    rows = [
        {"Data": [{} if v is None else {"VarCharValue": v} for v in row]}
        for row in RESULTS.get(name, [])
    ]
    return QueryResults([header, *rows], [column_info(n, COLUMN_TYPES[n]) for n in names])


@pytest.fixture
def aws_app_env(app_env, moto_url):
    """The app's environment for AWS, every client pointed at a fresh moto."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_ATHENA"):
        app_env.delenv(name, raising=False)
    settings = {
        "WVI_WAREHOUSE": "athena",
        "WVI_ATHENA_WORKGROUP": "primary",
        "WVI_ATHENA_OUTPUT": f"s3://{BUCKET}/wvi/",
        "WVI_AWS_REGION": REGION,
        "WVI_ORCHESTRATOR": "glue",
        "WVI_GLUE_WORKFLOW": WORKFLOW,
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }
    for name, value in settings.items():
        app_env.setenv(name, value)
    _reset(moto_url)
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
    return app_env


def _reset(moto_url: str) -> None:
    request = urllib.request.Request(moto_url + "/moto-api/reset", data=b"{}", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


@pytest.fixture
def athena_log(aws_app_env, monkeypatch) -> list[str]:
    """Route canned results by statement; the names (or unknown SQL) in the order asked."""
    original = AthenaBackend.start_query_execution
    seen: list[str] = []

    def start_query_execution(self, query, *args, **kwargs):
        name = TEXTS.get(query)
        seen.append(name or f"UNKNOWN: {query}")
        if name is not None:
            self.query_results_queue.append(canned(name))
        return original(self, query, *args, **kwargs)

    monkeypatch.setattr(AthenaBackend, "start_query_execution", start_query_execution)
    return seen


# ------------------------------------------------------------------------------ Athena
def test_overview_renders_the_kpis_athena_returned(athena_log):
    at = signed_in("bob")
    assert not at.exception, at.exception
    assert not at.error, texts(at.error)
    assert texts(at.title) == ["Overview"]
    assert [(m.label, m.value, m.delta) for m in at.metric] == [
        ("Plays", "100", "+100.0%"),
        ("Loads", "350", "+75.0%"),
        ("Play rate", "28.6%", "+3.6 pp"),
        ("Hours watched", "8.0", "+166.7%"),
        ("Unique visitors", "3", "+200.0%"),
        ("Engagement", "52.5%", "+7.5 pp"),
    ]
    assert "Data through **2026-06-20**" in " ".join(texts(at.caption))
    assert at.selectbox(key="flt_channel").options == ["All", "Facebook", "YouTube"]
    by_media = at.dataframe[0].value
    assert by_media["media_id"].tolist() == ["m1", "m2"]
    assert by_media["plays"].tolist() == [60, 40]
    assert not [s for s in athena_log if s.startswith("UNKNOWN")]
    assert {"data_range", "kpi_daily_totals", "kpi_engagement_totals"} <= set(athena_log)


def sent_queries() -> list[dict]:
    """Every query execution moto recorded, as get_query_execution returns it."""
    client = boto3.client("athena", region_name=REGION)
    return [
        client.get_query_execution(QueryExecutionId=i)["QueryExecution"]
        for i in client.list_query_executions()["QueryExecutionIds"]
    ]


def test_overview_sends_the_period_as_execution_parameters(athena_log):
    signed_in("bob")
    sent = sent_queries()
    daily = next(q for q in sent if TEXTS.get(q["Query"]) == "kpi_daily_totals")
    # The text keeps its markers; last 30 days through 2026-06-20, and the 30 before.
    assert daily["Query"].count("?") == len(daily["ExecutionParameters"]) == 12
    assert daily["ExecutionParameters"] == [
        *("'2026-05-22'", "'2026-06-20'", "NULL", "NULL", "NULL", "NULL"),
        *("'2026-04-22'", "'2026-05-21'", "NULL", "NULL", "NULL", "NULL"),
    ]
    assert "2026" not in daily["Query"]
    assert {q["WorkGroup"] for q in sent} == {"primary"}
    assert {q["QueryExecutionContext"]["Database"] for q in sent} == {"wistia_gold"}


def test_a_hostile_channel_name_is_one_literal_parameter(athena_log, monkeypatch):
    # A channel name comes from the data; chosen in the sidebar it must stay a value.
    monkeypatch.setitem(RESULTS, "channel_list", [["Facebook"], [EVIL_CHANNEL]])
    at = signed_in("bob")
    at.selectbox(key="flt_channel").set_value(EVIL_CHANNEL).run()
    assert not at.exception, at.exception
    assert not [s for s in athena_log if s.startswith("UNKNOWN")]
    filtered = [
        q
        for q in sent_queries()
        if "'YouTube'' OR ''1''=''1'" in (q.get("ExecutionParameters") or [])
    ]
    assert {TEXTS[q["Query"]] for q in filtered} >= {"kpi_daily_totals", "kpi_engagement_totals"}
    for query in filtered:
        assert EVIL_CHANNEL not in query["Query"] and "YouTube" not in query["Query"]
        assert query["ExecutionParameters"].count("'YouTube'' OR ''1''=''1'") == 4


# ------------------------------------------------------------------------------ Glue
def test_admin_starts_a_glue_run_in_moto_and_refuses_a_second(athena_log):
    glue = boto3.client("glue", region_name=REGION)
    glue.create_workflow(Name=WORKFLOW, MaxConcurrentRuns=1)
    at = signed_in("alice")
    at.switch_page("app_pages/admin.py").run()
    at.date_input(key="admin_as_of").set_value(date(2026, 6, 20)).run()
    at.button(key="admin_start").click().run()
    assert not at.exception and not at.error, texts(at.error)
    [run] = glue.get_workflow_runs(Name=WORKFLOW)["Runs"]
    assert f"Run `{run['WorkflowRunId']}` queued." in texts(at.success)
    assert run["WorkflowRunProperties"] == {"load_date": "2026-06-20"}
    assert at.dataframe[0].value["status"].tolist() == ["running"]  # moto never moves on
    at.button(key="admin_start").click().run()
    assert any("A run is already in progress" in w for w in texts(at.warning))
    assert len(glue.get_workflow_runs(Name=WORKFLOW)["Runs"]) == 1


def test_admin_shows_a_failed_glue_run_with_its_steps(aws_app_env, monkeypatch):
    failed = job_run("FAILED", error="AnalysisException: no such table")
    run = workflow_run(
        "wr_1",
        "COMPLETED",
        Graph=graph(ingest=[job_run("SUCCEEDED")], bronze_to_silver=[failed]),
        properties={"load_date": "2026-06-20"},
    )
    control = GluePipelineControl(WORKFLOW, client=FakeGlue(run))
    monkeypatch.setattr(data, "pipeline_control", lambda: control)
    at = signed_in("alice")
    at.switch_page("app_pages/admin.py").run()
    assert not at.exception
    assert at.dataframe[0].value["status"].tolist() == ["failed"]
    assert any("wvi-bronze-to-silver (FAILED: AnalysisException" in e for e in texts(at.error))
    steps = at.table[0].value
    assert steps["Status"].tolist() == ["succeeded", "failed", "skipped", "skipped"]
    assert "/aws-glue/jobs/error" in at.code[0].value


# ------------------------------------------------------------------------------ Glue unreadable
HISTORY_ERROR = "The run history can't be read: "


def admin_page():
    at = signed_in("alice")
    return at.switch_page("app_pages/admin.py").run()


def test_admin_reports_a_missing_glue_workflow_instead_of_crashing(athena_log):
    # moto has no such workflow (the stack is not deployed yet): GetWorkflowRuns fails.
    at = admin_page()
    assert not at.exception, at.exception
    assert texts(at.error) == [HISTORY_ERROR + "Glue workflow 'wvi-pipeline' not found (list runs)"]
    assert at.button(key="admin_start")  # starting a run is still offered
    assert not at.dataframe


class ThrottledGlue(FakeGlue):
    """Glue that answers the first `answers` GetWorkflowRuns calls, then throttles."""

    def __init__(self, *runs, answers: int) -> None:
        super().__init__(*runs)
        self.answers = answers

    def get_workflow_runs(self, **request):
        if self.answers <= 0:
            error = {"Code": "ThrottlingException", "Message": "Rate exceeded"}
            raise ClientError({"Error": error}, "GetWorkflowRuns")
        self.answers -= 1
        return super().get_workflow_runs(**request)


def test_admin_reports_throttling_while_the_history_refreshes(aws_app_env, monkeypatch):
    # The first read (is a run active?) works; the fragment's own read is throttled.
    running = workflow_run("wr_1", "RUNNING", Graph=graph(ingest=[job_run("RUNNING")]))
    control = GluePipelineControl(WORKFLOW, client=ThrottledGlue(running, answers=1))
    monkeypatch.setattr(data, "pipeline_control", lambda: control)
    at = admin_page()
    assert not at.exception, at.exception
    [error] = texts(at.error)
    assert error.startswith(HISTORY_ERROR + "could not list runs on Glue workflow wvi-pipeline")
    assert "ThrottlingException" in error


class NoCredentialsControl:
    """A control whose AWS calls fail before the request: botocore's own error, unwrapped."""

    def list_runs(self, n: int = 20):
        raise NoCredentialsError()

    def start_run(self, window=None):
        raise NoCredentialsError()


def test_admin_reports_missing_credentials(aws_app_env, monkeypatch):
    monkeypatch.setattr(data, "pipeline_control", NoCredentialsControl)
    at = admin_page()
    assert not at.exception, at.exception
    assert texts(at.error) == [HISTORY_ERROR + "Unable to locate credentials"]
    at.button(key="admin_start").click().run()
    assert not at.exception, at.exception
    assert "The run could not be started: Unable to locate credentials" in texts(at.error)


def test_the_pipeline_control_is_built_once_per_settings(aws_app_env, monkeypatch):
    glue = boto3.client("glue", region_name=REGION)
    glue.create_workflow(Name=WORKFLOW, MaxConcurrentRuns=1)
    built: list[dict[str, str]] = []
    make = data.make_pipeline_control
    monkeypatch.setattr(data, "make_pipeline_control", lambda env: built.append(env) or make(env))
    at = admin_page()
    at.run()
    at.run()
    assert not at.exception and not at.error, texts(at.error)
    assert len(built) == 1  # three runs of the page, one control (one boto3 client)
    assert {k: built[0].get(k) for k in ("WVI_ORCHESTRATOR", "WVI_GLUE_WORKFLOW")} == {
        "WVI_ORCHESTRATOR": "glue",
        "WVI_GLUE_WORKFLOW": WORKFLOW,
    }
    first = data.pipeline_control()
    assert data.pipeline_control() is first
    aws_app_env.setenv("WVI_GLUE_WORKFLOW", "another-workflow")
    assert data.pipeline_control().workflow == "another-workflow"
    assert len(built) == 2
