"""The CLI's command handlers: thin wrappers that turn results and errors into output."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

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
    return 0


def transform(args: argparse.Namespace) -> int:
    from pipeline import jobs
    from pipeline.spark import get_spark

    settings = load_settings(data_root=args.data_root)
    load_date = args.load_date or default_as_of()
    try:
        spark = get_spark(settings.data_root)
        dbs = {"silver_db": settings.silver_db}
        silver = jobs.bronze_to_silver(
            spark, settings.data_root, load_date, pii=settings.pii, **dbs
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


__all__ = ["check", "commit", "demo", "ingest", "run", "simulate", "transform", "users"]
