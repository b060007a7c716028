"""GluePipelineControl: the boto3 calls against moto, the state mapping against a fake client.

moto checks the call shapes (workflow, run properties, paging) but never runs a workflow: its
runs stay RUNNING, with no Statistics and no Graph. Everything a real run goes through
(every workflow status, every job-run state, failed jobs under COMPLETED, Glue's own
concurrency refusal) is played by `FakeGlue`, which answers the same boto3 method names with
the shapes of botocore's Glue model.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from moto import mock_aws

from services import glue_control
from services.control import (
    PipelineControlError,
    RunAlreadyActive,
    RunWindow,
    make_pipeline_control,
)
from services.glue_control import GluePipelineControl, run_status

REGION = "eu-west-1"
WORKFLOW = "wvi-pipeline"
JOBS = {
    "ingest": "wvi-ingest",
    "bronze_to_silver": "wvi-bronze-to-silver",
    "silver_to_gold": "wvi-silver-to-gold",
    "quality_checks": "wvi-quality-checks",
}
T0 = datetime(2026, 6, 21, 6, 0, tzinfo=UTC)


# ====================================================================== moto: the calls
@pytest.fixture
def aws(monkeypatch):
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_GLUE"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        yield boto3.client("glue", region_name=REGION)


@pytest.fixture
def glue(aws):
    """The pipeline's workflow in moto: four jobs, a start trigger, conditional triggers."""
    aws.create_workflow(
        Name=WORKFLOW, DefaultRunProperties={"data_root": "s3://bucket/wvi"}, MaxConcurrentRuns=1
    )
    for name in JOBS.values():
        aws.create_job(
            Name=name,
            Role="arn:aws:iam::123456789012:role/wvi-glue",
            Command={"Name": "glueetl", "ScriptLocation": f"s3://bucket/{name}.py"},
            GlueVersion="5.1",
            DefaultArguments={"--load_date": "auto"},
        )
    names = list(JOBS.values())
    aws.create_trigger(
        Name="wvi-start", WorkflowName=WORKFLOW, Type="ON_DEMAND", Actions=[{"JobName": names[0]}]
    )
    for before, after in itertools.pairwise(names):
        aws.create_trigger(
            Name=f"after-{before}",
            WorkflowName=WORKFLOW,
            Type="CONDITIONAL",
            StartOnCreation=True,
            Predicate={
                "Logical": "AND",
                "Conditions": [
                    {"LogicalOperator": "EQUALS", "JobName": before, "State": "SUCCEEDED"}
                ],
            },
            Actions=[{"JobName": after}],
        )
    return aws


def _record(client, operation: str) -> list[dict]:
    """The parameters of every `operation` call the client makes."""
    calls: list[dict] = []
    client.meta.events.register(
        f"provide-client-params.glue.{operation}", lambda params, **_: calls.append(dict(params))
    )
    return calls


def test_start_run_sends_the_as_of_day_as_the_load_date_property(glue):
    control = GluePipelineControl(WORKFLOW, client=glue)
    sent = _record(glue, "StartWorkflowRun")
    run_id = control.start_run(RunWindow(as_of=date(2026, 6, 20)))
    assert sent == [{"Name": WORKFLOW, "RunProperties": {"load_date": "2026-06-20"}}]
    properties = glue.get_workflow_run_properties(Name=WORKFLOW, RunId=run_id)["RunProperties"]
    # moto merges the workflow's defaults under them, as Glue does.
    assert properties == {"data_root": "s3://bucket/wvi", "load_date": "2026-06-20"}


def test_an_incremental_run_sends_no_properties(glue):
    sent = _record(glue, "StartWorkflowRun")
    GluePipelineControl(WORKFLOW, client=glue).start_run()
    assert sent == [{"Name": WORKFLOW}]


def test_a_moto_run_reads_back_as_running_without_steps(glue):
    control = GluePipelineControl(WORKFLOW, client=glue)
    calls = _record(glue, "GetWorkflowRun")
    run_id = control.start_run(RunWindow(as_of=date(2026, 6, 20)))
    view = control.get_run(run_id)
    assert calls == [{"Name": WORKFLOW, "RunId": run_id, "IncludeGraph": True}]
    # moto: Status RUNNING forever, no Statistics, no Graph → running, nothing known per job.
    assert (view.run_id, view.status, view.error) == (run_id, "running", None)
    assert view.is_active and view.steps == [] and view.log_tail == []
    assert view.as_of == date(2026, 6, 20) and view.requested_window == (None, None)
    assert view.window == {"data_root": "s3://bucket/wvi", "load_date": "2026-06-20"}
    assert view.started_at is not None and view.finished_at is None
    assert view.duration_seconds is not None and view.duration_seconds >= 0
    assert [(r.run_id, r.status) for r in control.list_runs()] == [(run_id, "running")]


def test_a_second_start_is_refused_while_the_moto_run_is_running(glue):
    control = GluePipelineControl(WORKFLOW, client=glue)
    first = control.start_run()
    with pytest.raises(RunAlreadyActive, match=first):
        control.start_run()
    assert len(glue.get_workflow_runs(Name=WORKFLOW)["Runs"]) == 1


def test_list_runs_reads_moto_oldest_first_and_returns_the_newest_first(glue):
    started = [glue.start_workflow_run(Name=WORKFLOW)["RunId"] for _ in range(5)]
    calls = _record(glue, "GetWorkflowRuns")
    views = GluePipelineControl(WORKFLOW, client=glue).list_runs(2)
    assert [v.run_id for v in views] == started[::-1][:2]
    # One page of at least PAGE_MIN runs, with graphs. (moto 5.2.5 cannot hand out a second
    # page of workflow runs: its paginator looks for a `workflow_run_id` key and raises
    # KeyError, so paging is covered by the fake below.)
    assert calls == [{"Name": WORKFLOW, "IncludeGraph": True, "MaxResults": 25}]


def test_unknown_runs_and_workflows(glue):
    control = GluePipelineControl(WORKFLOW, client=glue)
    assert control.get_run("wr_" + "0" * 64) is None
    missing = GluePipelineControl("no-such-workflow", client=glue)
    with pytest.raises(PipelineControlError, match="no-such-workflow"):
        missing.list_runs()
    with pytest.raises(PipelineControlError, match="no-such-workflow"):
        missing.start_run()


def test_a_backfill_window_is_refused_when_the_jobs_do_not_take_one(glue):
    control = GluePipelineControl(WORKFLOW, client=glue, allow_window=False)
    for window in (
        RunWindow(start=date(2026, 5, 1), end=date(2026, 5, 31)),
        RunWindow(backfill_days=7),
    ):
        with pytest.raises(PipelineControlError, match="backfill window"):
            control.start_run(window)
    assert glue.get_workflow_runs(Name=WORKFLOW)["Runs"] == []


def test_a_window_is_sent_as_run_properties(glue):
    control = GluePipelineControl(WORKFLOW, client=glue)
    window = RunWindow(start=date(2026, 5, 1), end=date(2026, 5, 31), as_of=date(2026, 6, 1))
    view = control.get_run(control.start_run(window))
    assert view.window == {
        "data_root": "s3://bucket/wvi",
        "load_date": "2026-06-01",
        "start_date": "2026-05-01",
        "end_date": "2026-05-31",
    }
    assert view.requested_window == (date(2026, 5, 1), date(2026, 5, 31))


def test_make_pipeline_control_builds_the_glue_control(aws):
    env = {"WVI_ORCHESTRATOR": "glue", "WVI_GLUE_WORKFLOW": WORKFLOW, "WVI_AWS_REGION": REGION}
    control = make_pipeline_control(env)
    assert isinstance(control, GluePipelineControl)
    assert control.workflow == WORKFLOW and control.client.meta.region_name == REGION
    fallback = make_pipeline_control({**env, "WVI_AWS_REGION": "", "AWS_REGION": "us-west-2"})
    assert fallback.client.meta.region_name == "us-west-2"
    with pytest.raises(PipelineControlError, match="WVI_GLUE_WORKFLOW"):
        make_pipeline_control({"WVI_ORCHESTRATOR": "glue", "WVI_AWS_REGION": REGION})
    with pytest.raises(PipelineControlError, match="local or glue"):
        make_pipeline_control({"WVI_ORCHESTRATOR": "airflow"})


# ====================================================================== fake: the states
def _error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"{code} (fake)"}}, operation)


class FakeGlue:
    """The Glue workflow-run API as a dict of runs the test edits (newest first)."""

    def __init__(self, *runs: dict[str, Any], refuse: str | None = None) -> None:
        self.runs = list(runs)
        self.refuse = refuse
        self.started: list[dict[str, Any]] = []
        self.pages = 0

    def start_workflow_run(self, Name: str, RunProperties: dict | None = None) -> dict:
        if self.refuse:
            raise _error(self.refuse, "StartWorkflowRun")
        self.started.append({"Name": Name, "RunProperties": RunProperties})
        run_id = f"wr_{len(self.runs):064d}"
        # What Glue shows right after the start: the job graph, no job run yet.
        run = workflow_run(run_id, "RUNNING", properties=RunProperties, Graph=graph())
        self.runs.insert(0, run)
        return {"RunId": run_id}

    def get_workflow_run(self, Name: str, RunId: str, IncludeGraph: bool = False) -> dict:
        for run in self.runs:
            if run["WorkflowRunId"] == RunId:
                return {"Run": run if IncludeGraph else _no_graph(run)}
        raise _error("EntityNotFoundException", "GetWorkflowRun")

    def get_workflow_runs(self, Name: str, IncludeGraph=False, MaxResults=100, NextToken=None):
        self.pages += 1
        start = int(NextToken or 0)
        page = self.runs[start : start + MaxResults]
        more = start + MaxResults < len(self.runs)
        runs = page if IncludeGraph else [_no_graph(r) for r in page]
        return {"Runs": runs, **({"NextToken": str(start + MaxResults)} if more else {})}


def _no_graph(run: dict) -> dict:
    return {k: v for k, v in run.items() if k != "Graph"}


def job_run(state: str, *, attempt: int = 0, error: str | None = None, minutes: int = 2) -> dict:
    """A JobRun as GetWorkflowRun returns it in Graph.Nodes[].JobDetails.JobRuns."""
    done = state in glue_control.JOB_FAILURES or state == "SUCCEEDED"
    run = {
        "Id": f"jr_{state.lower()}_{attempt}",
        "Attempt": attempt,
        "JobRunState": state,
        "StartedOn": T0 + timedelta(minutes=attempt),
        "ExecutionTime": minutes * 60 if done else 0,
        "LogGroupName": "/aws-glue/jobs",
    }
    if done:
        run["CompletedOn"] = run["StartedOn"] + timedelta(minutes=minutes)
    if error:
        run["ErrorMessage"] = error
    return run


def graph(**job_runs: list[dict]) -> dict:
    """A run graph: a start trigger and one JOB node per pipeline job (shuffled on purpose)."""
    nodes = [{"Type": "TRIGGER", "Name": "wvi-start", "UniqueId": "t0", "TriggerDetails": {}}]
    for step in reversed(list(JOBS)):
        runs = job_runs.get(step, [])
        details = {"JobRuns": runs} if runs else {}
        nodes.append({"Type": "JOB", "Name": JOBS[step], "UniqueId": step, "JobDetails": details})
    return {"Nodes": nodes, "Edges": []}


def statistics(**counts: int) -> dict:
    base = dict.fromkeys(
        (
            "TotalActions",
            "TimeoutActions",
            "FailedActions",
            "StoppedActions",
            "SucceededActions",
            "RunningActions",
            "ErroredActions",
            "WaitingActions",
        ),
        0,
    )
    return {**base, "TotalActions": 4, **counts}


def workflow_run(run_id: str, status: str, **fields: Any) -> dict:
    run = {"Name": WORKFLOW, "WorkflowRunId": run_id, "StartedOn": T0, "Status": status}
    if status in ("COMPLETED", "STOPPED", "ERROR"):
        run["CompletedOn"] = T0 + timedelta(minutes=9)
    if fields.get("properties"):
        run["WorkflowRunProperties"] = fields.pop("properties")
    fields.pop("properties", None)
    return {**run, **fields}


OK = job_run("SUCCEEDED")
ALL_OK = {step: [OK] for step in JOBS}


@pytest.mark.parametrize(
    ("status", "fields", "expected", "error"),
    [
        ("RUNNING", {"Graph": graph(ingest=[job_run("RUNNING")])}, "running", None),
        ("RUNNING", {"Graph": graph()}, "queued", None),
        ("RUNNING", {"Graph": graph(ingest=[job_run("WAITING")])}, "queued", None),
        ("RUNNING", {"Statistics": statistics()}, "queued", None),
        ("RUNNING", {"Statistics": statistics(RunningActions=1)}, "running", None),
        ("RUNNING", {}, "running", None),  # moto: nothing but the status
        ("STOPPING", {"Graph": graph(ingest=[job_run("STOPPING")])}, "running", "being stopped"),
        (
            "COMPLETED",
            {"Graph": graph(**ALL_OK), "Statistics": statistics(SucceededActions=4)},
            "succeeded",
            None,
        ),
        ("COMPLETED", {}, "succeeded", None),
        ("STOPPED", {"Graph": graph(ingest=[job_run("STOPPED")])}, "failed", "was stopped"),
        (
            "ERROR",
            {"ErrorMessage": "Concurrent runs exceeded for workflow: wvi-pipeline"},
            "failed",
            "Concurrent runs exceeded",
        ),
        ("ERROR", {}, "failed", "ended in ERROR"),
        ("SOMETHING_NEW", {}, "failed", "SOMETHING_NEW"),
    ],
)
def test_every_workflow_status_maps_to_a_run_status(status, fields, expected, error):
    view = GluePipelineControl(WORKFLOW, client=FakeGlue()).view(
        workflow_run("wr_1", status, **fields)
    )
    assert view.status == expected
    assert view.is_active == (expected in ("queued", "running"))
    if error is None:
        assert view.error is None
    else:
        assert error in view.error


@pytest.mark.parametrize(
    ("counter", "said"),
    [
        ("FailedActions", "1 failed"),
        ("ErroredActions", "1 errored"),
        ("TimeoutActions", "1 timed out"),
        ("StoppedActions", "1 stopped"),
    ],
)
def test_a_completed_run_with_a_failed_action_is_a_failure(counter, said):
    # Without the graph (a listing without details), the counters alone decide.
    run = workflow_run(
        "wr_1", "COMPLETED", Statistics=statistics(SucceededActions=3, **{counter: 1})
    )
    assert run_status(run) == ("failed", f"Glue actions {said} of 4")


@pytest.mark.parametrize("state", sorted(glue_control.JOB_FAILURES))
def test_a_completed_run_names_its_failed_job_and_message(state):
    runs = {
        "ingest": [OK],
        "bronze_to_silver": [job_run(state, error=f"{state.lower()} in bronze_to_silver")],
    }
    stats = statistics(SucceededActions=1, FailedActions=1)
    view = GluePipelineControl(WORKFLOW, client=FakeGlue()).view(
        workflow_run("wr_1", "COMPLETED", Graph=graph(**runs), Statistics=stats)
    )
    assert view.status == "failed" and not view.succeeded
    assert view.error == (
        f"failed jobs: wvi-bronze-to-silver ({state}: {state.lower()} in bronze_to_silver)"
    )
    assert [(s.name, s.status) for s in view.steps] == [
        ("ingest", "succeeded"),
        ("bronze_to_silver", "failed"),
        ("silver_to_gold", "skipped"),  # never started, and the run is over
        ("quality_checks", "skipped"),
    ]


@pytest.mark.parametrize(
    ("state", "step_status", "finished"),
    [
        ("WAITING", "pending", False),
        ("STARTING", "running", False),
        ("RUNNING", "running", False),
        ("STOPPING", "running", False),
        ("SUCCEEDED", "succeeded", True),
        ("FAILED", "failed", True),
        ("TIMEOUT", "failed", True),
        ("ERROR", "failed", True),
        ("STOPPED", "failed", True),
        ("EXPIRED", "failed", True),
    ],
)
def test_every_job_run_state_maps_to_a_step(state, step_status, finished):
    assert set(glue_control.JOB_STATES) == {
        "STARTING",
        "RUNNING",
        "STOPPING",
        "STOPPED",
        "SUCCEEDED",
        "FAILED",
        "TIMEOUT",
        "ERROR",
        "WAITING",
        "EXPIRED",
    }  # botocore's JobRunState enum, all of it
    error = "boom" if step_status == "failed" else None
    run = workflow_run("wr_1", "RUNNING", Graph=graph(silver_to_gold=[job_run(state, error=error)]))
    view = GluePipelineControl(WORKFLOW, client=FakeGlue()).view(run)
    step = {s.name: s for s in view.steps}["silver_to_gold"]
    assert step.status == step_status
    assert step.started_at == T0
    if finished:
        assert (step.finished_at, step.seconds) == (T0 + timedelta(minutes=2), 120.0)
    else:
        assert (step.finished_at, step.seconds) == (None, None)
    assert step.error == (f"{state}: boom" if error else None)
    assert {s.name: s.status for s in view.steps if s.name != "silver_to_gold"} == {
        "ingest": "pending",  # not started (in this made-up graph) while the run is active
        "bronze_to_silver": "pending",
        "quality_checks": "pending",
    }


def test_steps_follow_the_pipeline_order_and_the_latest_attempt():
    retried = [job_run("FAILED", error="first try"), job_run("SUCCEEDED", attempt=1, minutes=3)]
    run = workflow_run(
        "wr_1",
        "COMPLETED",
        Graph=graph(**{**ALL_OK, "silver_to_gold": retried}),
        Statistics=statistics(SucceededActions=4),
    )
    view = GluePipelineControl(WORKFLOW, client=FakeGlue()).view(run)
    assert [s.name for s in view.steps] == list(JOBS)
    assert view.status == "succeeded" and view.error is None
    gold = view.steps[2]
    assert (gold.status, gold.seconds, gold.error) == ("succeeded", 180.0, None)
    assert view.duration_seconds == 540.0


def test_jobs_map_to_steps_by_name_or_by_an_explicit_mapping():
    control = GluePipelineControl(
        WORKFLOW, client=FakeGlue(), job_steps={"etl-3": "quality_checks"}
    )
    assert control.step_name("prod_Bronze-To-Silver_v2") == "bronze_to_silver"
    # infra/ names the jobs `<stack>-<step>`; the stack name may contain a step name too.
    assert control.step_name("wistia-ingest-bronze_to_silver") == "bronze_to_silver"
    assert control.step_name("wistia-ingest-ingest") == "ingest"
    assert control.step_name("etl-3") == "quality_checks"
    assert control.step_name("something-else") == "something-else"


def test_the_log_tail_points_at_cloudwatch():
    runs = {"ingest": [OK], "bronze_to_silver": [job_run("FAILED", error="Traceback: x\n  y")]}
    view = GluePipelineControl(WORKFLOW, client=FakeGlue()).view(
        workflow_run("wr_1", "COMPLETED", Graph=graph(**runs))
    )
    assert view.log_tail[:2] == [
        "ingest (wvi-ingest): SUCCEEDED, job run jr_succeeded_0",
        "  logs: CloudWatch /aws-glue/jobs/output and /aws-glue/jobs/error, stream jr_succeeded_0",
    ]
    assert (
        "#logsV2:log-groups/log-group/$252Faws-glue$252Fjobs$252Ferror/log-events/"
        in (view.log_tail[2])
    )
    assert view.log_tail[-1] == "  error: Traceback: x y"
    assert len(view.log_tail) == 7  # three lines per job run, plus its error


def test_start_is_refused_while_a_run_is_active_without_calling_glue():
    fake = FakeGlue(workflow_run("wr_9", "STOPPING"))
    with pytest.raises(RunAlreadyActive, match="wr_9 is running"):
        GluePipelineControl(WORKFLOW, client=fake).start_run()
    assert fake.started == []


def test_glues_own_concurrency_refusal_is_run_already_active():
    fake = FakeGlue(refuse="ConcurrentRunsExceededException")
    with pytest.raises(RunAlreadyActive, match="MaxConcurrentRuns"):
        GluePipelineControl(WORKFLOW, client=fake).start_run()


@pytest.mark.parametrize(
    "code", ["InternalServiceException", "ResourceNumberLimitExceededException"]
)
def test_other_glue_errors_are_pipeline_control_errors(code):
    fake = FakeGlue(refuse=code)
    with pytest.raises(PipelineControlError, match=code) as raised:
        GluePipelineControl(WORKFLOW, client=fake).start_run()
    assert not isinstance(raised.value, RunAlreadyActive)


def test_connection_failures_are_pipeline_control_errors():
    class Offline(FakeGlue):
        def get_workflow_runs(self, **_):
            raise EndpointConnectionError(endpoint_url="https://glue.eu-west-1.amazonaws.com")

    with pytest.raises(PipelineControlError, match="list runs"):
        GluePipelineControl(WORKFLOW, client=Offline()).list_runs()


def test_a_finished_run_allows_the_next_and_the_run_is_read_back():
    fake = FakeGlue(workflow_run("wr_0", "COMPLETED", Graph=graph(**ALL_OK)))
    control = GluePipelineControl(WORKFLOW, client=fake)
    run_id = control.start_run(RunWindow(as_of=date(2026, 6, 20)))
    assert fake.started == [{"Name": WORKFLOW, "RunProperties": {"load_date": "2026-06-20"}}]
    assert control.get_run(run_id).status == "queued"  # no job has started yet
    assert control.get_run("wr_unknown") is None
    assert [v.run_id for v in control.list_runs(5)] == [run_id, "wr_0"]


def test_newest_first_listings_stop_after_the_first_page(monkeypatch):
    monkeypatch.setattr(glue_control, "PAGE_MIN", 2)
    runs = [
        workflow_run(f"wr_{i}", "COMPLETED", StartedOn=T0 - timedelta(days=i)) for i in range(6)
    ]
    fake = FakeGlue(*runs)
    views = GluePipelineControl(WORKFLOW, client=fake).list_runs(2)
    assert [v.run_id for v in views] == ["wr_0", "wr_1"] and fake.pages == 1


def test_oldest_first_listings_are_read_to_the_end(monkeypatch):
    monkeypatch.setattr(glue_control, "PAGE_MIN", 2)
    runs = [
        workflow_run(f"wr_{i}", "COMPLETED", StartedOn=T0 + timedelta(days=i)) for i in range(5)
    ]
    fake = FakeGlue(*runs)  # oldest first, like moto
    views = GluePipelineControl(WORKFLOW, client=fake).list_runs(2)
    assert [v.run_id for v in views] == ["wr_4", "wr_3"] and fake.pages == 3
