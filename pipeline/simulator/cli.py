"""`python -m pipeline simulate`: serve the fake Wistia API, or write its truth file."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from datetime import date
from typing import Any

from pipeline.simulator.server import (
    CHAOS_KINDS,
    FOLDER_KEYS,
    SimulatorConfig,
    SimulatorServer,
    parse_chaos,
)
from pipeline.simulator.truth import write_truth

DEFAULT_TOKEN = "demo-token"
DESCRIPTION = (
    "Serve a fake Wistia Stats API (routes under /modern and /v1) backed by a deterministic "
    "synthetic account: the two brief media plus more, loads, plays and viewing sessions with "
    "repeat visitors, geography, devices and utm-tagged embed URLs. Same seed, same data. Use "
    "it for demos, tests and benchmarks: point WISTIA_API_BASE_URL at the URL it prints. It "
    "enforces bearer auth and a sliding-window rate limit, and can inject faults (--chaos)."
)
EPILOG = (
    "examples:\n"
    "  python -m pipeline simulate --port 8765\n"
    "  python -m pipeline simulate --today 2026-05-01 --days 365 --chaos 429,500 --chaos-rate 0.1\n"
    "  python -m pipeline simulate --truth truth.json --no-serve\n"
    "control plane (no auth, loopback only by default): GET /__sim/stats, "
    'POST /__sim/clock {"today": "YYYY-MM-DD"}, POST /__sim/reset-stats'
)


class _HelpFormatter(argparse.HelpFormatter):
    """Wraps paragraphs like the default, but keeps indented lines (examples) as they are."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        out = []
        for line in text.splitlines():
            keep = line.startswith("  ")
            out.append(indent + line if keep else super()._fill_text(line, width, indent))
        return "\n".join(out)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from None


def _chaos(text: str) -> frozenset[str]:
    try:
        return parse_chaos(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_simulate_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the simulator's flags to `parser` (the `simulate` subcommand)."""
    if not parser.description:
        parser.description = DESCRIPTION
    parser.epilog = EPILOG
    parser.formatter_class = _HelpFormatter
    _server_arguments(parser.add_argument_group("server"))
    _account_arguments(parser.add_argument_group("synthetic account"))
    _fault_arguments(parser.add_argument_group("limits and faults"))
    _truth_arguments(parser.add_argument_group("truth file"))


def _server_arguments(group: Any) -> None:
    group.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, loopback only)"
    )
    group.add_argument(
        "--port",
        type=int,
        default=8765,
        help="port to listen on; 0 picks a free one (default 8765)",
    )
    group.add_argument(
        "--token",
        help="bearer token the simulator accepts (default: $WISTIA_API_TOKEN, else demo-token)",
    )
    group.add_argument(
        "--folder-key",
        choices=FOLDER_KEYS,
        default="hashedId",
        help="key of the folder's hashed id in modern media records (default hashedId, as in "
        "the 2026-03 OpenAPI; edge uses hashed_id)",
    )


def _account_arguments(group: Any) -> None:
    group.add_argument("--seed", type=int, default=7, help="random seed of the account (default 7)")
    group.add_argument(
        "--medias", type=int, default=20, help="number of medias, at least 2 (default 20)"
    )
    group.add_argument(
        "--days", type=int, default=90, help="days of history up to --today (default 90)"
    )
    group.add_argument(
        "--today",
        type=_date,
        metavar="YYYY-MM-DD",
        help="the simulator's clock (default: today in UTC); events with a later date are not "
        "served yet, and late events keep arriving for 2 days",
    )
    group.add_argument(
        "--daily-plays",
        type=float,
        default=40.0,
        help="mean plays per media per day before popularity and weekday effects (default 40)",
    )


def _fault_arguments(group: Any) -> None:
    group.add_argument(
        "--rate-limit",
        type=int,
        default=600,
        help="requests allowed per sliding window per token (default 600)",
    )
    group.add_argument(
        "--rate-window",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="length of the rate-limit window in seconds (default 60)",
    )
    group.add_argument(
        "--rate-limit-mode",
        choices=("429", "503"),
        default="429",
        help="answer over the limit with 429 + Retry-After (default) or 503 without it",
    )
    group.add_argument(
        "--latency-ms", type=float, default=0.0, help="extra delay per request in ms (default 0)"
    )
    group.add_argument(
        "--chaos",
        type=_chaos,
        default=frozenset(),
        metavar="KINDS",
        help=f"comma list of faults to inject: {', '.join(CHAOS_KINDS)}, or all. 429/503/500 "
        "replace a reply, slow adds 0.3-1.5 s, truncated cuts a 200 body in half, duplicates "
        "repeats ~2%% of events on a later page (default none)",
    )
    group.add_argument(
        "--chaos-rate",
        type=float,
        default=0.05,
        help="probability of each random fault per request (default 0.05)",
    )


def _truth_arguments(group: Any) -> None:
    group.add_argument(
        "--truth",
        metavar="FILE",
        help="write the exact expected totals at the clock (JSON) to FILE and print its path",
    )
    group.add_argument(
        "--no-serve", action="store_true", help="with --truth: write the file and exit"
    )


def config_from_args(args: argparse.Namespace) -> SimulatorConfig:
    """A SimulatorConfig from parsed flags (token: flag, else env, else demo-token)."""
    token = args.token or os.environ.get("WISTIA_API_TOKEN") or DEFAULT_TOKEN
    return SimulatorConfig(
        host=args.host,
        port=args.port,
        token=token,
        seed=args.seed,
        medias=args.medias,
        days=args.days,
        today=args.today,
        daily_plays=args.daily_plays,
        rate_limit=args.rate_limit,
        rate_window_seconds=args.rate_window,
        rate_limit_mode=args.rate_limit_mode,
        latency_ms=args.latency_ms,
        chaos=args.chaos,
        chaos_rate=args.chaos_rate,
        folder_key=args.folder_key,
    )


def run_simulate(args: argparse.Namespace, quiet: bool) -> int:
    """Write the truth file and/or serve until SIGINT or SIGTERM. Returns the exit code."""
    try:
        config = config_from_args(args)
        server = SimulatorServer(config)
    except ValueError as exc:
        print(f"simulate: {exc}", file=sys.stderr)
        return 2
    if args.no_serve and not args.truth:
        print("simulate: --no-serve needs --truth FILE", file=sys.stderr)
        return 2
    if args.truth:
        print(write_truth(server.account, args.truth), flush=True)
        if args.no_serve:
            return 0
    try:
        server.start()
    except OSError as exc:
        print(f"simulate: cannot listen on {config.host}:{config.port}: {exc}", file=sys.stderr)
        return 1
    _announce(server, config, quiet)
    _wait_for_signal()
    server.stop()
    return 0


def _announce(server: SimulatorServer, config: SimulatorConfig, quiet: bool) -> None:
    # Show the token only when it is the public default: never echo a real secret.
    token = f" (token: {DEFAULT_TOKEN})" if config.token == DEFAULT_TOKEN else ""
    print(f"Wistia simulator: WISTIA_API_BASE_URL={server.base_url}{token}", flush=True)
    if not quiet:
        account = server.account
        chaos = ",".join(sorted(config.chaos)) or "none"
        print(
            f"seed={account.seed} medias={account.media_count} days={account.days} "
            f"today={account.today} rate={config.rate_limit}/{config.rate_window_seconds:g}s "
            f"chaos={chaos}; Ctrl-C to stop",
            file=sys.stderr,
            flush=True,
        )


def _wait_for_signal() -> None:
    stop = threading.Event()
    handler = lambda *_: stop.set()  # noqa: E731
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point: `python -m pipeline.simulator`."""
    parser = argparse.ArgumentParser(prog="python -m pipeline.simulator")
    add_simulate_arguments(parser)
    parser.add_argument("--quiet", action="store_true", help="print only the base URL line")
    args = parser.parse_args(argv)
    return run_simulate(args, quiet=args.quiet)
