"""Pipeline runs on AWS: one Glue workflow run per pipeline run (ARCHITECTURE §13).

`GluePipelineControl` starts runs with `start_workflow_run` and reads them back with
`get_workflow_run(IncludeGraph=True)` / `get_workflow_runs`, mapped onto the same `RunView`
the local runner's records produce:

- workflow RUNNING → `running` (`queued` while the graph shows no job past WAITING),
  STOPPING → `running` (still active, so no second run starts), STOPPED / ERROR → `failed`.
- COMPLETED → `succeeded` only when no action failed: Glue also says COMPLETED when a job
  FAILED (no further trigger fires), so the `Statistics` failure counters and the graph's job
  runs decide. The error names the failed jobs and their messages.
- Steps are the graph's JOB nodes in pipeline order (ingest, bronze_to_silver,
  silver_to_gold, quality_checks), each from its latest job run; a job with no run yet is
  `pending` while the run is active and `skipped` once it has ended.
- The log tail points at the job runs' CloudWatch logs (group `<LogGroupName>/output` and
  `/error`, stream = job run id) instead of fetching them: the Admin page refreshes every few
  seconds, and reading logs would need `logs:GetLogEvents` on the app's role.

The window goes to the jobs as workflow run properties: every job reads `load_date` (when its
`--load_date` argument is `auto`, glue_jobs/_args.py), and the ingest job reads `start_date`,
`end_date` and `backfill_days` (glue_jobs/ingest.py). `allow_window=False` refuses windows, for
a deployment whose jobs predate that.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from services.control import (
    PipelineControlError,
    RunAlreadyActive,
    RunView,
    RunWindow,
    StepView,
)

PIPELINE_STEPS = ("ingest", "bronze_to_silver", "silver_to_gold", "quality_checks")
ACTIVE_STATUSES = frozenset({"RUNNING", "STOPPING"})
# WorkflowRunStatistics counters that make a COMPLETED run a failure, and how to say so.
FAILURE_COUNTS = {
    "FailedActions": "failed",
    "ErroredActions": "errored",
    "TimeoutActions": "timed out",
    "StoppedActions": "stopped",
}
# JobRunState → step status (the local runner's vocabulary).
JOB_STATES = {
    "WAITING": "pending",  # queued for capacity
    "STARTING": "running",
    "RUNNING": "running",
    "STOPPING": "running",
    "SUCCEEDED": "succeeded",
    "FAILED": "failed",
    "TIMEOUT": "failed",
    "ERROR": "failed",
    "STOPPED": "failed",
    "EXPIRED": "failed",
}
JOB_FAILURES = frozenset(s for s, v in JOB_STATES.items() if v == "failed")
DEFAULT_LOG_GROUP = "/aws-glue/jobs"
SCAN_LIMIT = 50  # runs looked at when checking for an active one
PAGE_MIN, PAGE_MAX, MAX_PAGES = 25, 1000, 20


class GluePipelineControl:
    """`PipelineControl` over one Glue workflow (boto3 Glue client injectable)."""

    def __init__(
        self,
        workflow: str,
        *,
        client: Any = None,
        region: str | None = None,
        job_steps: Mapping[str, str] | None = None,
        allow_window: bool = True,
    ) -> None:
        if not workflow:
            raise PipelineControlError("a Glue workflow name is needed (WVI_GLUE_WORKFLOW)")
        self.workflow = workflow
        self.client = client if client is not None else glue_client(region)
        self.job_steps = dict(job_steps or {})
        self.allow_window = allow_window

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> GluePipelineControl:
        """From WVI_GLUE_WORKFLOW (required) and WVI_AWS_REGION / AWS_REGION."""
        workflow = (env.get("WVI_GLUE_WORKFLOW") or "").strip()
        if not workflow:
            raise PipelineControlError(
                "WVI_ORCHESTRATOR=glue needs WVI_GLUE_WORKFLOW: the name of the Glue workflow "
                "that runs the pipeline"
            )
        region = env.get("WVI_AWS_REGION") or env.get("AWS_REGION") or None
        return cls(workflow, region=region)

    # ------------------------------------------------------------------ start
    def run_properties(self, window: RunWindow) -> dict[str, str]:
        """The workflow run properties for `window` (refused if the jobs would ignore it)."""
        wants_window = bool(window.start or window.end or window.backfill_days)
        if wants_window and not self.allow_window:
            raise PipelineControlError(
                "this Glue deployment does not take a backfill window (only load_date); "
                "run the backfill locally with `python -m pipeline run --start-date ...`"
            )
        values = {
            "load_date": window.as_of,
            "start_date": window.start,
            "end_date": window.end,
            "backfill_days": window.backfill_days,
        }
        # Run properties are strings; dates go as ISO days, which the jobs parse.
        return {key: _text(value) for key, value in values.items() if value is not None}

    def start_run(self, window: RunWindow | None = None) -> str:
        """Start a workflow run; `RunAlreadyActive` while one is running or stopping."""
        properties = self.run_properties(window or RunWindow())
        active = self.active_run()
        if active is not None:
            raise RunAlreadyActive(
                f"Glue workflow {self.workflow} run {active.run_id} is {active.status}; "
                "wait for it to finish"
            )
        extra = {"RunProperties": properties} if properties else {}
        try:
            response = self.client.start_workflow_run(Name=self.workflow, **extra)
        except ClientError as exc:
            if _code(exc) == "ConcurrentRunsExceededException":
                raise RunAlreadyActive(
                    f"Glue refused a new run of workflow {self.workflow}: another run is in "
                    "progress (its MaxConcurrentRuns is reached); wait for it to finish"
                ) from exc
            raise self._failure("start a run", exc) from exc
        except BotoCoreError as exc:
            raise self._failure("start a run", exc) from exc
        return str(response["RunId"])

    # ------------------------------------------------------------------ read
    def get_run(self, run_id: str) -> RunView | None:
        """One workflow run with its job graph, or None if Glue has no such run."""
        try:
            response = self.client.get_workflow_run(
                Name=self.workflow, RunId=run_id, IncludeGraph=True
            )
        except ClientError as exc:
            if _code(exc) in ("EntityNotFoundException", "InvalidInputException"):
                return None
            raise self._failure(f"read run {run_id}", exc) from exc
        except BotoCoreError as exc:
            raise self._failure(f"read run {run_id}", exc) from exc
        return self.view(response["Run"])

    def list_runs(self, n: int = 20) -> list[RunView]:
        """The latest `n` workflow runs with their graphs, newest first."""
        return [self.view(run) for run in self._runs(n, include_graph=True)]

    def active_run(self) -> RunView | None:
        """A run that is running or stopping, if any (graphs not needed)."""
        runs = self._runs(SCAN_LIMIT, include_graph=False)
        return next((self.view(r) for r in runs if r.get("Status") in ACTIVE_STATUSES), None)

    def _runs(self, n: int, *, include_graph: bool) -> list[dict[str, Any]]:
        """Up to `n` runs, newest first, whatever order Glue pages them in.

        The API does not document its order (moto pages oldest first). Paging stops after
        `n` runs when they came newest first, and otherwise reads on to the end (bounded).
        """
        if n <= 0:
            return []
        runs: list[dict[str, Any]] = []
        request: dict[str, Any] = {
            "Name": self.workflow,
            "IncludeGraph": include_graph,
            "MaxResults": min(PAGE_MAX, max(n, PAGE_MIN)),
        }
        for _ in range(MAX_PAGES):
            page = self._page(request)
            runs += page.get("Runs") or []
            request["NextToken"] = page.get("NextToken")
            if not request["NextToken"] or (len(runs) >= n and _newest_first(runs)):
                break
        return sorted(runs, key=_started, reverse=True)[:n]

    def _page(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            return self.client.get_workflow_runs(**{k: v for k, v in request.items() if v})
        except (ClientError, BotoCoreError) as exc:
            raise self._failure("list runs", exc) from exc

    def _failure(self, action: str, exc: Exception) -> PipelineControlError:
        if isinstance(exc, ClientError) and _code(exc) == "EntityNotFoundException":
            return PipelineControlError(f"Glue workflow {self.workflow!r} not found ({action})")
        return PipelineControlError(f"could not {action} on Glue workflow {self.workflow}: {exc}")

    # ------------------------------------------------------------------ mapping
    def view(self, run: Mapping[str, Any]) -> RunView:
        """A Glue WorkflowRun as a `RunView`."""
        jobs = job_nodes(run.get("Graph"))
        status, error = run_status(run, jobs)
        properties = dict(run.get("WorkflowRunProperties") or {})
        started, finished = _time(run.get("StartedOn")), _time(run.get("CompletedOn"))
        active = status in ("queued", "running")
        return RunView(
            run_id=str(run["WorkflowRunId"]),
            status=status,
            queued_at=started,
            started_at=started,
            finished_at=finished,
            duration_seconds=_seconds(started, finished, active),
            requested_window=(_day(properties.get("start_date")), _day(properties.get("end_date"))),
            as_of=_day(properties.get("load_date")),
            window=properties or None,
            steps=self.steps(jobs, active=active, graph=run.get("Graph") is not None),
            error=error,
            log_tail=self.log_lines(jobs),
        )

    def step_name(self, job_name: str) -> str:
        """The pipeline step a Glue job runs: the configured mapping, else by its name
        (`wvi-bronze-to-silver` → bronze_to_silver)."""
        if job_name in self.job_steps:
            return self.job_steps[job_name]
        normalized = "".join(c if c.isalnum() else "_" for c in job_name.lower())
        # The rightmost step name wins: a stack called `wistia-ingest` has a job
        # `wistia-ingest-bronze_to_silver`.
        found = [(normalized.rfind(s), s) for s in PIPELINE_STEPS if s in normalized]
        return max(found)[1] if found else job_name

    def steps(
        self, jobs: Sequence[Mapping[str, Any]], *, active: bool, graph: bool
    ) -> list[StepView]:
        """One step per pipeline job in pipeline order; nothing known without a graph."""
        if not graph:
            return []
        by_step = {self.step_name(str(node.get("Name"))): node for node in jobs}
        names = [*PIPELINE_STEPS, *sorted(set(by_step) - set(PIPELINE_STEPS))]
        idle = "pending" if active else "skipped"
        return [_step(name, latest_job_run(by_step.get(name)), idle) for name in names]

    def log_lines(self, jobs: Sequence[Mapping[str, Any]]) -> list[str]:
        """Where each job run's logs are (CloudWatch), plus the error messages; bounded."""
        region = getattr(getattr(self.client, "meta", None), "region_name", None) or "us-east-1"
        lines: list[str] = []
        for node in sorted(jobs, key=self._order):
            job_run = latest_job_run(node)
            if not job_run or not job_run.get("Id"):
                continue
            group = job_run.get("LogGroupName") or DEFAULT_LOG_GROUP
            stream = str(job_run["Id"])
            name = self.step_name(str(node.get("Name")))
            lines += [
                f"{name} ({node.get('Name')}): {job_run.get('JobRunState', '?')}, job run {stream}",
                f"  logs: CloudWatch {group}/output and {group}/error, stream {stream}",
                f"  {cloudwatch_url(region, f'{group}/error', stream)}",
            ]
            if job_run.get("ErrorMessage"):
                lines.append(f"  error: {_one_line(job_run['ErrorMessage'])}")
        return lines

    def _order(self, node: Mapping[str, Any]) -> tuple[int, str]:
        step = self.step_name(str(node.get("Name")))
        rank = PIPELINE_STEPS.index(step) if step in PIPELINE_STEPS else len(PIPELINE_STEPS)
        return rank, step


# ---------------------------------------------------------------------- pure mapping
def run_status(
    run: Mapping[str, Any], jobs: Sequence[Mapping[str, Any]] = ()
) -> tuple[str, str | None]:
    """(status, error) for a WorkflowRun: queued | running | succeeded | failed."""
    glue = str(run.get("Status") or "")
    problems = failure_summary(run.get("Statistics"), jobs)
    if glue == "RUNNING":
        return ("queued" if _nothing_started(run, jobs) else "running"), problems
    if glue == "STOPPING":
        return "running", _join("the run is being stopped", problems)
    if glue == "COMPLETED":
        return ("failed", problems) if problems else ("succeeded", None)
    if glue == "STOPPED":
        return "failed", _join("the run was stopped", problems)
    if glue == "ERROR":
        message = _one_line(run.get("ErrorMessage") or "the workflow run ended in ERROR")
        return "failed", _join(message, problems)
    return "failed", f"unknown Glue workflow run status {glue!r}"


def failure_summary(
    statistics: Mapping[str, Any] | None, jobs: Sequence[Mapping[str, Any]] = ()
) -> str | None:
    """What failed in a run: the failed jobs (state and message), else the counters."""
    failed = []
    for node in jobs:
        job_run = latest_job_run(node)
        if job_run and job_run.get("JobRunState") in JOB_FAILURES:
            message = job_run.get("ErrorMessage")
            detail = (
                f"{job_run['JobRunState']}: {_one_line(message)}"
                if message
                else job_run["JobRunState"]
            )
            failed.append(f"{node.get('Name')} ({detail})")
    if failed:
        return "failed jobs: " + "; ".join(failed)
    counts = [
        f"{statistics[key]} {label}"
        for key, label in FAILURE_COUNTS.items()
        if statistics and int(statistics.get(key) or 0) > 0
    ]
    if counts:
        total = statistics.get("TotalActions") if statistics else None
        return f"Glue actions {', '.join(counts)}" + (f" of {total}" if total else "")
    return None


def job_nodes(graph: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The JOB nodes of a workflow run graph."""
    return [dict(n) for n in (graph or {}).get("Nodes") or [] if n.get("Type") == "JOB"]


def latest_job_run(node: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The node's most recent job run (highest attempt, then latest start)."""
    runs = ((node or {}).get("JobDetails") or {}).get("JobRuns") or []
    if not runs:
        return None
    return dict(max(runs, key=lambda r: (int(r.get("Attempt") or 0), _started(r))))


def cloudwatch_url(region: str, group: str, stream: str) -> str:
    """The CloudWatch console link to one log stream (the console's $25-escaped form)."""

    def escape(text: str) -> str:
        return urllib.parse.quote(text, safe="").replace("%", "$25")

    return (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
        f"#logsV2:log-groups/log-group/{escape(group)}/log-events/{escape(stream)}"
    )


def glue_client(region: str | None = None) -> Any:
    """A boto3 Glue client (region from the argument or boto3's own lookup)."""
    import boto3

    try:
        return boto3.client("glue", region_name=region)
    except BotoCoreError as exc:  # NoRegionError and the like
        raise PipelineControlError(
            f"could not create a Glue client ({exc}); set WVI_AWS_REGION or AWS_REGION"
        ) from exc


def _step(name: str, job_run: Mapping[str, Any] | None, idle: str) -> StepView:
    if job_run is None:
        return StepView(name=name, status=idle)
    state = str(job_run.get("JobRunState") or "")
    started, finished = _time(job_run.get("StartedOn")), _time(job_run.get("CompletedOn"))
    seconds = job_run.get("ExecutionTime") if finished else None
    if finished and not seconds:
        seconds = _seconds(started, finished, active=False)
    message = job_run.get("ErrorMessage")
    error = (
        f"{state}: {_one_line(message)}" if message else (state if state in JOB_FAILURES else None)
    )
    return StepView(
        name=name,
        status=JOB_STATES.get(state, state.lower() or "unknown"),
        started_at=started,
        finished_at=finished,
        seconds=float(seconds) if seconds is not None else None,
        error=error,
    )


def _nothing_started(run: Mapping[str, Any], jobs: Sequence[Mapping[str, Any]]) -> bool:
    """True when the run is known to have no job past WAITING yet (→ queued)."""
    if run.get("Graph") is not None:
        states = [(latest_job_run(n) or {}).get("JobRunState") for n in jobs]
        return all(s in (None, "WAITING") for s in states)
    statistics = run.get("Statistics")
    if not statistics:
        return False  # nothing known (moto, or a run listed without details): say running
    moved = ("RunningActions", "SucceededActions", *FAILURE_COUNTS)
    return all(int(statistics.get(key) or 0) == 0 for key in moved)


def _newest_first(runs: Sequence[Mapping[str, Any]]) -> bool:
    starts = [_started(r) for r in runs]
    return starts == sorted(starts, reverse=True)


def _started(item: Mapping[str, Any]) -> datetime:
    return _time(item.get("StartedOn")) or datetime.min.replace(tzinfo=UTC)


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):  # epoch seconds, as some tools serialize them
        return datetime.fromtimestamp(value, UTC)
    return None


def _seconds(started: datetime | None, finished: datetime | None, active: bool) -> float | None:
    if started is None:
        return None
    end = finished or (datetime.now(UTC) if active else None)
    return None if end is None else round((end - started).total_seconds(), 3)


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _join(*parts: str | None) -> str | None:
    text = "; ".join(p for p in parts if p)
    return text or None


def _one_line(text: Any, limit: int = 500) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


__all__ = [
    "PIPELINE_STEPS",
    "GluePipelineControl",
    "cloudwatch_url",
    "failure_summary",
    "glue_client",
    "job_nodes",
    "latest_job_run",
    "run_status",
]
