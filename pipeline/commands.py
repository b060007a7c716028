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


def demo(args: argparse.Namespace) -> int:
    """Simulator in-process + ingestion into the data root; later stages build on this."""
    from pipeline.simulator import SimulatorConfig, SimulatorServer

    data_root = args.data_root or os.environ.get("WVI_DATA_ROOT", "./data")
    today = datetime.now(UTC).date()
    config = SimulatorConfig(
        port=0, seed=args.seed, medias=args.medias, days=args.days, today=today
    )
    with SimulatorServer(config) as server:
        truth_path = Path(data_root) / "simulator" / "truth.json"
        truth_path.parent.mkdir(parents=True, exist_ok=True)
        from pipeline.simulator.truth import write_truth

        write_truth(server.account, truth_path)
        if not args.quiet:
            stderr.print(f"simulator: {server.base_url} (seed {args.seed}, {args.medias} medias)")
        settings = load_settings(
            data_root=data_root,
            wistia_api_base_url=server.base_url,
            wistia_api_token=_secret(config.token),
        )
        options = IngestOptions(
            as_of=today - timedelta(days=1), backfill_days=args.backfill_days, commit=True
        )
        result = _ingest(settings, options, quiet=args.quiet)
    if isinstance(result, int):
        return result
    if not args.quiet:
        _print_summary(result, settings)
        stdout.print(f"truth:    {truth_path} (the simulator's exact expected totals)")
    return 0


def _secret(value: str):
    from pydantic import SecretStr

    return SecretStr(value)


__all__ = ["commit", "demo", "ingest", "simulate"]
