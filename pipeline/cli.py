"""`python -m pipeline <command>`: the command-line interface (ARCHITECTURE §4).

Exit status 0 on success; on failure one line on stderr saying why, and a non-zero code:
2 for configuration or credential problems, 1 for everything else.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import date

from pipeline import __version__

EXIT_FAILED = 1
EXIT_CONFIG = 2

Handler = Callable[[argparse.Namespace], int]


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--quiet", action="store_true", help="no progress bars or summaries (for CI and cron)"
    )


def _window_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as-of",
        type=_date,
        metavar="DATE",
        help="the day the run acts as (default: yesterday, UTC). The run covers "
        "[watermark - overlap, as-of], or the last --backfill-days up to as-of on a first run",
    )
    parser.add_argument(
        "--start-date", type=_date, metavar="DATE", help="explicit window start (a backfill)"
    )
    parser.add_argument(
        "--end-date", type=_date, metavar="DATE", help="explicit window end (default: --as-of)"
    )
    parser.add_argument(
        "--backfill-days",
        type=_positive,
        metavar="N",
        help="days to pull for a media with no watermark yet (default 30, "
        "WVI_BACKFILL_DAYS; events reach back at most 730 days)",
    )
    parser.add_argument(
        "--data-root", metavar="PATH", help="directory or s3://bucket/prefix (WVI_DATA_ROOT)"
    )


def build_parser() -> argparse.ArgumentParser:
    from pipeline.simulator.cli import add_simulate_arguments

    parser = argparse.ArgumentParser(
        prog="python -m pipeline",
        description="Wistia Video Insights pipeline: Wistia Stats API -> Bronze (raw JSON) -> "
        "Silver -> Gold. Configuration comes from environment variables (see the README).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    simulate = commands.add_parser(
        "simulate",
        help="serve the built-in Wistia API simulator",
        description="Serve a fake Wistia Stats API with a deterministic synthetic account, "
        "for demos, tests and benchmarks. Point WISTIA_API_BASE_URL at the URL it prints.",
    )
    add_simulate_arguments(simulate)
    _common(simulate)

    ingest = commands.add_parser(
        "ingest",
        help="pull the five Wistia streams into Bronze",
        description="Pull medias, media_stats, media_by_date, events and media_engagement for "
        "the run window into bronze/<stream>/load_date=<as-of>/run_id=<id>/ and write a manifest "
        "of every request. Watermarks move only with --commit (or when a full run succeeds).",
    )
    _window_arguments(ingest)
    ingest.add_argument(
        "--commit",
        action="store_true",
        help="commit the proposed watermarks right away (only when no later stage will run)",
    )
    _common(ingest)

    commit = commands.add_parser(
        "commit",
        help="commit the watermarks proposed by a successful ingest run",
        description="Merge state/pending/<RUN_ID>.json into state/watermarks.json. Later stages "
        "call this only after they succeed.",
    )
    commit.add_argument("run_id", metavar="RUN_ID")
    commit.add_argument("--data-root", metavar="PATH", help="directory or s3://bucket/prefix")
    _common(commit)

    demo = commands.add_parser(
        "demo",
        help="run the product end to end on the embedded default (simulator + local data)",
        description="Start the simulator in-process, ingest its account into the data root and "
        "print where everything went. No token or cloud account needed.",
    )
    demo.add_argument("--data-root", metavar="PATH", help="where to write (default ./data)")
    demo.add_argument("--seed", type=int, default=7, help="simulator seed (default 7)")
    demo.add_argument("--medias", type=_positive, default=12, help="medias in the account")
    demo.add_argument("--days", type=_positive, default=90, help="days of history (default 90)")
    demo.add_argument(
        "--backfill-days", type=_positive, default=60, help="days to ingest (default 60)"
    )
    _common(demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from pipeline import commands

    handlers: dict[str, Handler] = {
        "simulate": commands.simulate,
        "ingest": commands.ingest,
        "commit": commands.commit,
        "demo": commands.demo,
    }
    return handlers[args.command](args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
