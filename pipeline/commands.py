"""The CLI's command handlers: thin wrappers that turn results and errors into output."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.table import Table

from pipeline.console import fail, stderr, stdout, stream_progress
from pipeline.ingest import IngestOptions, IngestResult, default_as_of
from pipeline.ingest import ingest as run_ingest
from pipeline.settings import Settings, load_settings
from pipeline.state import commit_watermarks
from pipeline.storage import open_storage
from pipeline.wistia.errors import AuthError, WistiaError

EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_BUSY = 3  # `trigger` refused: a run is already queued or running


def simulate(args: argparse.Namespace) -> int:
    from pipeline.simulator.cli import run_simulate

    return run_simulate(args, quiet=args.quiet)


def ingest(args: argparse.Namespace) -> int:
    settings = load_settings(data_root=args.data_root)
    options = IngestOptions(
        as_of=args.as_of or default_as_of(),
        start_date=args.start_date,
        end_date=args.end_date,
        backfill_days=args.backfill_days,
        commit=args.commit,
    )
    if options.start_date and options.end_date and options.start_date > options.end_date:
        fail("--start-date is after --end-date")
        return EXIT_CONFIG
    result = _ingest(settings, options, quiet=args.quiet)
    if isinstance(result, int):
        return result
    if not args.quiet:
        _print_summary(result, settings)
    return 0


def _ingest(settings: Settings, options: IngestOptions, quiet: bool) -> IngestResult | int:
    """Run ingestion, mapping failures to a one-line message and an exit code."""
    try:
        storage = open_storage(settings.data_root)
        with stream_progress(quiet) as progress:
            return run_ingest(settings, storage, options, progress=progress)
    except AuthError as exc:
        fail(str(exc))
        return EXIT_CONFIG
    except (WistiaError, OSError, ValueError) as exc:
        fail(str(exc))
        return EXIT_FAILED


def _print_summary(result: IngestResult, settings: Settings) -> None:
    table = Table(title=f"ingest run {result.run_id} (load_date {result.load_date})")
    for column in ("stream", "requests", "retries", "records", "bytes"):
        table.add_column(column, justify="left" if column == "stream" else "right")
    for stream, counts in result.summary["streams"].items():
        table.add_row(
            stream,
            *(f"{counts.get(k, 0):,}" for k in ("requests", "retries", "records", "bytes")),
        )
    stdout.print(table)
    for stream, (start, end) in sorted(result.windows.items()):
        stdout.print(f"window {stream}: {start} .. {end}")
    root = settings.data_root.rstrip("/")
    stdout.print(
        f"bronze:   {root}/bronze/<stream>/load_date={result.load_date}/run_id={result.run_id}/"
    )
    stdout.print(f"manifest: {root}/{result.manifest}")
    state = (
        "committed"
        if result.committed
        else f"pending (commit with: python -m pipeline commit {result.run_id})"
    )
    stdout.print(f"watermarks: {state}")


def commit(args: argparse.Namespace) -> int:
    settings = load_settings(data_root=args.data_root)
    try:
        marks = commit_watermarks(open_storage(settings.data_root), args.run_id)
    except FileNotFoundError as exc:
        fail(str(exc))
        return EXIT_FAILED
    if not args.quiet:
        streams = ", ".join(f"{s}: {len(m)} medias" for s, m in sorted(marks.dates.items()))
        stdout.print(f"committed watermarks of {args.run_id} ({streams})")
    return 0


def run(args: argparse.Namespace) -> int:
    from pipeline.lock import RunInProgress
    from pipeline.runner import RunOptions, run_pipeline

    settings = load_settings(data_root=args.data_root)
    if (problem := _pii_problem(settings)) is not None:
        fail(problem)
        return EXIT_CONFIG
    options = RunOptions(
        as_of=args.as_of or default_as_of(),
        start_date=args.start_date,
        end_date=args.end_date,
        backfill_days=args.backfill_days,
        run_id=args.run_id,
    )
    try:
        with stream_progress(args.quiet) as progress:
            record = run_pipeline(settings, options, progress=progress)
    except RunInProgress as exc:
        fail(str(exc))
        return EXIT_FAILED
    except AuthError as exc:
        fail(str(exc))
        return EXIT_CONFIG
    except Exception as exc:
        fail(_short(exc))
        return EXIT_FAILED
    if not args.quiet:
        _print_steps(record)
    if not args.no_snapshot:
        _dashboard_snapshot(settings, args.quiet)
    return 0


def _dashboard_snapshot(settings: Settings, quiet: bool) -> None:
    """Leave the DuckDB warehouse's snapshot of the new gold under the data root, so that a
    dashboard started next serves it at once instead of loading the Parquet files (a
    dashboard already running reloads them itself). Only a cache: a failure only warns."""
    kind = (os.environ.get("WVI_WAREHOUSE") or "duckdb").strip().lower()
    if kind != "duckdb" or "://" in settings.data_root:
        return
    from services.warehouse import save_snapshot

    started = time.perf_counter()
    try:
        wrote = save_snapshot(settings.data_root)
    except Exception as exc:
        print(f"warning: no dashboard snapshot: {_short(exc)}", file=sys.stderr)  # one line
        return
    if not quiet:
        took = f"{time.perf_counter() - started:.1f} s" if wrote else "up to date"
        stderr.print(f"dashboard snapshot: {took}")


def _pii_problem(settings) -> str | None:
    """Why `WVI_PII` / `WVI_PII_KEY` can't be used (checked before any request), or None."""
    from pipeline.transform.pii import check_key

    try:
        check_key(settings.pii, settings.pii_key_value())
    except ValueError as exc:
        return str(exc)
    return None


def transform(args: argparse.Namespace) -> int:
    from pipeline import jobs
    from pipeline.spark import get_spark

    settings = load_settings(data_root=args.data_root)
    load_date = args.load_date or default_as_of()
    if (problem := _pii_problem(settings)) is not None:
        fail(problem)
        return EXIT_CONFIG
    try:
        spark = get_spark(settings.data_root)
        dbs = {"silver_db": settings.silver_db}
        silver = jobs.bronze_to_silver(
            spark,
            settings.data_root,
            load_date,
            pii=settings.pii,
            pii_key=settings.pii_key_value(),
            **dbs,
        )
        gold = jobs.silver_to_gold(
            spark, settings.data_root, load_date, gold_db=settings.gold_db, **dbs
        )
    except Exception as exc:
        fail(_short(exc))
        return EXIT_FAILED
    if not args.quiet:
        stdout.print(f"silver ({load_date}): {silver['rows']}")
        stdout.print(f"gold   ({load_date}): {gold['rows']}")
    return 0


def check(args: argparse.Namespace) -> int:
    from pipeline import jobs
    from pipeline.spark import get_spark

    settings = load_settings(data_root=args.data_root)
    load_date = args.load_date or default_as_of()
    try:
        report = jobs.run_quality_checks(
            get_spark(settings.data_root),
            settings.data_root,
            load_date,
            silver_db=settings.silver_db,
            gold_db=settings.gold_db,
            max_quarantined=settings.max_quarantined,
        )
    except Exception as exc:
        fail(_short(exc))
        return EXIT_FAILED
    if not args.quiet:
        table = Table(title=f"quality checks, load_date {load_date}")
        for column in ("check", "table", "level", "status", "failed", "details"):
            table.add_column(column)
        for c in report.checks:
            table.add_row(c.name, c.table, c.level, c.status, str(c.failed), c.details)
        stdout.print(table)
    if not report.passed:
        fail(report.summary())
        return EXIT_FAILED
    return 0


def _print_steps(record: dict) -> None:
    table = Table(title=f"run {record['run_id']} {record['status']} (as of {record['as_of']})")
    for column in ("step", "status", "seconds", "rows"):
        table.add_column(column)
    for step in record["steps"]:
        rows = step.get("rows") or {}
        table.add_row(
            step["name"],
            step["status"],
            f"{step.get('seconds', 0):.1f}",
            ", ".join(f"{k}={v:,}" for k, v in rows.items() if isinstance(v, int)),
        )
    stdout.print(table)


def _short(exc: BaseException, limit: int = 400) -> str:
    """One line of at most `limit` characters (Spark errors carry whole JVM stack traces)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def users(args: argparse.Namespace) -> int:
    from services import users as accounts

    path = accounts.users_file()
    try:
        if args.users_command == "add":
            password = _read_password(args.password_stdin)
            accounts.add_user(
                path,
                args.username,
                args.role,
                args.name,
                password,
                email=args.email,
                replace=args.replace,
            )
            if not args.quiet:
                stdout.print(f"added {args.username} ({args.role}) to {path}")
        elif args.users_command == "remove":
            accounts.remove_user(path, args.username)
            if not args.quiet:
                stdout.print(f"removed {args.username} from {path}")
        else:
            table = Table(title=str(path))
            for column in ("username", "name", "role"):
                table.add_column(column)
            for user in accounts.list_users(path):
                table.add_row(user.username, user.name, user.role)
            stdout.print(table)
    except (accounts.UserError, ValueError, EOFError) as exc:
        fail(str(exc))
        return EXIT_CONFIG
    return 0


def _read_password(from_stdin: bool) -> str:
    import getpass
    import sys

    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def demo(args: argparse.Namespace) -> int:
    """The product end to end on the embedded default: simulator → pipeline → dashboard.

    The simulator keeps running while the app is served, so that runs started from the Admin
    page (which spawn `python -m pipeline run` with this environment) reach it too.
    """
    from pipeline.runner import RunOptions, run_pipeline
    from pipeline.simulator import SimulatorConfig, SimulatorServer
    from pipeline.simulator.truth import write_truth

    data_root = str(Path(args.data_root or os.environ.get("WVI_DATA_ROOT", "./data")).resolve())
    today = datetime.now(UTC).date()
    config = SimulatorConfig(
        port=0, seed=args.seed, medias=args.medias, days=args.days, today=today
    )
    with SimulatorServer(config) as server:
        truth_path = write_truth(server.account, Path(data_root) / "simulator" / "truth.json")
        env = {
            "WVI_DEMO": "1",
            "WVI_DATA_ROOT": data_root,
            "WISTIA_API_BASE_URL": server.base_url,
            "WISTIA_API_TOKEN": config.token,
        }
        os.environ.update(env)  # the runner, the app and the runs it starts all read these
        if not args.quiet:
            stderr.print(f"simulator: {server.base_url} (seed {args.seed}, {args.medias} medias)")
        options = RunOptions(as_of=today - timedelta(days=1), backfill_days=args.backfill_days)
        try:
            with stream_progress(args.quiet) as progress:
                record = run_pipeline(load_settings(), options, progress=progress)
        except Exception as exc:
            fail(_short(exc))
            return EXIT_FAILED
        credentials = _demo_users(data_root)
        if not args.quiet:
            _print_steps(record)
        _dashboard_snapshot(load_settings(), args.quiet)
        if not args.quiet:
            stdout.print(f"data:     {data_root} (bronze/, silver/, gold/, runs/, state/)")
            stdout.print(f"truth:    {truth_path} (the simulator's exact expected totals)")
            for username, password, role in credentials:
                stdout.print(f"login:    {username} / {password} ({role})")
        if args.no_app:
            return 0
        return _serve_app(args.app_port, args.quiet)


def _demo_users(data_root: str) -> list[tuple[str, str, str]]:
    from services.users import ensure_demo_users

    return ensure_demo_users(state_dir=data_root)


def _serve_app(port: int, quiet: bool) -> int:
    """`streamlit run Home.py` in the foreground until Ctrl-C."""
    import subprocess
    import sys

    home = Path(__file__).resolve().parent.parent / "Home.py"
    cmd = [sys.executable, "-m", "streamlit", "run", str(home), "--server.port", str(port)]
    cmd += ["--server.headless", "true", "--browser.gatherUsageStats", "false"]
    if not quiet:
        stdout.print(f"app:      http://localhost:{port} (Ctrl-C to stop)")
    try:
        return subprocess.call(cmd, cwd=home.parent)
    except KeyboardInterrupt:
        return 0


def _secret(value: str):
    from pydantic import SecretStr

    return SecretStr(value)


# ---------------------------------------------------------------------- trigger / status / runs
def trigger(args: argparse.Namespace) -> int:
    """Start a run through `services.control`; with --wait, follow it to its end."""
    from services import control as runs_control

    try:
        window = runs_control.RunWindow(
            start=args.start_date,
            end=args.end_date,
            as_of=args.as_of,
            backfill_days=args.backfill_days,
        )
    except ValueError as exc:
        fail(str(exc))
        return EXIT_CONFIG
    control = _control(args)
    if isinstance(control, int):
        return control
    try:
        run_id = control.start_run(window)
    except runs_control.RunAlreadyActive as exc:
        fail(f"not started: {exc}")
        return EXIT_BUSY
    except Exception as exc:  # PipelineControlError, AWS errors: one line either way
        fail(_short(exc))
        return EXIT_FAILED
    print(run_id, flush=True)  # bare on stdout, so that scripts can capture it
    if not args.wait:
        return 0
    try:
        return _wait(control, run_id, args.poll_seconds, args.timeout, args.quiet)
    except KeyboardInterrupt:
        fail(f"stopped waiting; run {run_id} goes on (python -m pipeline status {run_id})")
        return 130
    except Exception as exc:
        fail(f"run {run_id}: could not follow it: {_short(exc)}")
        return EXIT_FAILED


def status(args: argparse.Namespace) -> int:
    """Show one run (the latest when no id is given)."""
    control = _control(args)
    if isinstance(control, int):
        return control
    try:
        if args.run_id:
            view = control.get_run(args.run_id)
        else:
            latest = control.list_runs(1)
            view = latest[0] if latest else None
    except Exception as exc:
        fail(_short(exc))
        return EXIT_FAILED
    if view is None:
        if not args.run_id:
            stdout.print("no runs yet")
            return 0
        fail(f"no run {args.run_id}")
        return EXIT_FAILED
    if args.quiet:
        print(f"{view.run_id} {view.status}")
    else:
        _print_run(view)
    return 0


def runs(args: argparse.Namespace) -> int:
    """The latest runs, newest first."""
    control = _control(args)
    if isinstance(control, int):
        return control
    try:
        views = control.list_runs(args.n)
    except Exception as exc:
        fail(_short(exc))
        return EXIT_FAILED
    if args.quiet:
        for view in views:
            print(f"{view.run_id} {view.status}")
        return 0
    if not views:
        stdout.print("no runs yet")
        return 0
    table = Table(title=f"latest {len(views)} runs")
    for column in ("run", "status", "started", "duration", "as of", "error"):
        table.add_column(column)
    for view in views:
        table.add_row(
            view.run_id,
            view.status,
            _when(view.started_at or view.queued_at),
            _seconds(view.duration_seconds),
            str(view.as_of or "-"),
            _short(view.error, 80) if view.error else "",
        )
    stdout.print(table)
    return 0


def _control(args: argparse.Namespace) -> Any:
    """The configured PipelineControl, or the exit code of a configuration error."""
    from services import control as runs_control

    options = {"data_root": args.data_root} if getattr(args, "data_root", None) else {}
    try:
        return runs_control.make_pipeline_control(os.environ, **options)
    except Exception as exc:  # PipelineControlError, no region/credentials, bad data root
        fail(_short(exc))
        return EXIT_CONFIG


def _wait(
    control: Any, run_id: str, poll_seconds: float, timeout_minutes: float | None, quiet: bool
) -> int:
    """Poll until the run is no longer active; 0 only if it succeeded."""
    deadline = None if timeout_minutes is None else time.monotonic() + timeout_minutes * 60
    with line_progress(quiet, f"run {run_id}") as emit:
        last = None
        while True:
            view = control.get_run(run_id)
            if view is None:
                fail(f"run {run_id} not found")
                return EXIT_FAILED
            line = _progress_line(view)
            if line != last:
                emit(line)
                last = line
            if not view.is_active:
                break
            if deadline is not None and time.monotonic() > deadline:
                fail(
                    f"run {run_id} still {view.status} after {timeout_minutes:g} min "
                    f"(it goes on; follow it with: python -m pipeline status {run_id})"
                )
                return EXIT_FAILED
            time.sleep(poll_seconds)
    if not quiet:
        _print_run(view)
    if view.succeeded:
        return 0
    fail(f"run {run_id} {view.status}: {_failure_reason(view)}")
    return EXIT_FAILED


def _progress_line(view: Any) -> str:
    """`run X: running (silver_to_gold running, 1/4 steps done)`."""
    done = sum(1 for s in view.steps if s.status == "succeeded")
    current = next((s for s in view.steps if s.status == "running"), None)
    details = [f"{current.name} running"] if current else []
    if view.steps:
        details.append(f"{done}/{len(view.steps)} steps done")
    suffix = f" ({', '.join(details)})" if details else ""
    return f"run {view.run_id}: {view.status}{suffix}"


def _failure_reason(view: Any) -> str:
    if view.error:
        return _short(view.error)
    failed = [s.name for s in view.steps if s.status == "failed"]
    return f"step {', '.join(failed)} failed" if failed else "no error recorded"


def _print_run(view: Any) -> None:
    stdout.print(f"run:      {view.run_id}")
    stdout.print(f"status:   {view.status}")
    stdout.print(f"started:  {_when(view.started_at or view.queued_at)}")
    stdout.print(f"finished: {_when(view.finished_at)}")
    stdout.print(f"duration: {_seconds(view.duration_seconds)}")
    start, end = view.requested_window
    if start or end:
        stdout.print(f"window:   {start or '-'} .. {end or '-'}")
    if view.as_of:
        stdout.print(f"as of:    {view.as_of}")
    if view.error:
        stdout.print(f"error:    {_short(view.error, 1000)}")
    if not view.steps:
        return
    table = Table(title="steps")
    for column in ("step", "status", "seconds", "rows"):
        table.add_column(column)
    for step in view.steps:
        table.add_row(step.name, step.status, _seconds(step.seconds), _rows(step.rows))
    stdout.print(table)


def _rows(rows: Any) -> str:
    if isinstance(rows, dict):
        return ", ".join(f"{k}={v:,}" for k, v in rows.items() if isinstance(v, int))
    if isinstance(rows, int):
        return f"{rows:,}"
    return ""


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "-"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


@contextmanager
def line_progress(quiet: bool, title: str) -> Iterator[Callable[[str], None]]:
    """An `emit(line)` for long waits: nothing when quiet, plain stderr lines when stderr is
    not a terminal (CI logs), else each line printed above a live spinner with elapsed time."""
    if quiet:
        yield lambda _line: None
        return
    if not stderr.is_terminal:
        yield lambda line: print(line, file=sys.stderr, flush=True)
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=stderr, transient=True) as progress:
        task = progress.add_task(title)

        def emit(line: str) -> None:
            progress.console.print(line, highlight=False)
            progress.update(task, description=line)

        yield emit


# ---------------------------------------------------------------------- deploy
def deploy(args: argparse.Namespace) -> int:
    """Package, upload and create/update the stack (pipeline/deploy.py)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from pipeline import deploy as stack

    settings = load_settings()
    try:
        request = _deploy_request(args, settings)
        cfn, s3 = stack.clients(args.region or settings.aws_region)
        plan = stack.make_plan(request, cfn, s3)
    except (stack.DeployError, BotoCoreError, ClientError) as exc:
        fail(_aws_error(exc))
        return EXIT_CONFIG
    if args.dry_run:
        for line in ["dry run: nothing is uploaded or changed", *plan.describe()]:
            print(line)
        return 0
    try:
        with line_progress(args.quiet, f"deploying {request.stack_name}") as emit:
            result = stack.apply(
                plan,
                cfn,
                s3,
                emit=emit,
                poll_seconds=args.poll_seconds,
                timeout_seconds=args.timeout * 60,
            )
    except (stack.DeployError, BotoCoreError, ClientError) as exc:
        fail(_aws_error(exc))
        return EXIT_FAILED
    except Exception as exc:  # e.g. an unparsable endpoint reply: still one line
        fail(f"deploy failed: {_short(exc)}")
        return EXIT_FAILED
    if not args.quiet:
        _print_deploy(result, stack.app_environment(result.outputs, cfn.meta.region_name))
    return 0


def _deploy_request(args: argparse.Namespace, settings: Settings) -> Any:
    from pipeline import deploy as stack

    bucket = args.artifact_bucket or settings.artifact_bucket
    if not bucket:
        raise stack.DeployError(
            "no artifact bucket: pass --artifact-bucket or set WVI_ARTIFACT_BUCKET"
        )
    return stack.DeployRequest(
        stack_name=args.stack_name or settings.stack_name,
        artifact_bucket=bucket,
        artifact_prefix=args.artifact_prefix or settings.artifact_prefix,
        parameters=stack.parse_parameters(args.parameter),
        role_arn=args.role_arn,
    )


def _print_deploy(result: Any, environment: dict[str, str]) -> None:
    # Plain lines, not a table: the values (ARNs, bucket names) are meant to be copied whole.
    verb = {"create": "created", "update": "updated", "none": "unchanged"}[result.action]
    print(f"stack {result.stack_name} {verb} ({result.status})")
    for key, value in sorted(result.outputs.items()):
        print(f"  {key} = {value}")
    print("environment for the app and the CLI:")
    for key, value in environment.items():
        print(f"  {key}={value}")


def _aws_error(exc: BaseException) -> str:
    """One line for a deploy failure: AWS error code and message, never request details."""
    from botocore.exceptions import NoRegionError

    if isinstance(exc, NoRegionError):
        return "no AWS region: pass --region or set WVI_AWS_REGION (or AWS_REGION)"
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and response.get("Error"):
        error = response["Error"]
        return _short(f"{error.get('Code', 'error')}: {error.get('Message', '')}")
    return _short(exc)


__all__ = [
    "check",
    "commit",
    "demo",
    "deploy",
    "ingest",
    "run",
    "runs",
    "simulate",
    "status",
    "transform",
    "trigger",
    "users",
]
