"""`python -m pipeline <command>`: the command-line interface (ARCHITECTURE §4).

Exit status 0 on success; on failure one line on stderr saying why, and a non-zero code:
2 for configuration or credential problems, 3 when `trigger` is refused because a run is
already active, 1 for everything else (including a run that `trigger --wait` saw fail).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import date

from pipeline import __version__

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


def _positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not number > 0:
        raise argparse.ArgumentTypeError("must be more than 0")
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
        "--end-date",
        type=_date,
        metavar="DATE",
        help="explicit window end (default: --as-of; `trigger` needs --start-date with it)",
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


def _load_date_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--load-date",
        type=_date,
        metavar="DATE",
        help="the load date (a run's --as-of) to process (default: yesterday, UTC)",
    )
    parser.add_argument(
        "--data-root", metavar="PATH", help="directory or s3://bucket/prefix (WVI_DATA_ROOT)"
    )


ORCHESTRATOR_HELP = (
    "The orchestrator is WVI_ORCHESTRATOR: `local` (default; background `python -m pipeline "
    "run` processes with records under <WVI_DATA_ROOT>/runs) or `glue` (runs of the Glue "
    "workflow WVI_GLUE_WORKFLOW in WVI_AWS_REGION)."
)


def _orchestration_commands(commands: argparse._SubParsersAction) -> None:
    trigger = commands.add_parser(
        "trigger",
        help="start a pipeline run through the configured orchestrator",
        description="Start one pipeline run (ingest -> silver -> gold -> checks) and print its "
        "run id. Only one run at a time: while one is queued or running, the start is "
        f"refused (exit 3). {ORCHESTRATOR_HELP}",
    )
    _window_arguments(trigger)
    trigger.add_argument(
        "--wait",
        action="store_true",
        help="follow the run until it ends; exit 0 only if it succeeded (for CI and cron)",
    )
    trigger.add_argument(
        "--poll-seconds",
        type=_positive_float,
        default=10.0,
        metavar="S",
        help="with --wait: seconds between status checks (default 10)",
    )
    trigger.add_argument(
        "--timeout",
        type=_positive_float,
        metavar="MIN",
        help="with --wait: stop waiting after MIN minutes and exit 1 (the run goes on); "
        "default: wait until it ends",
    )
    _common(trigger)

    status = commands.add_parser(
        "status",
        help="show one run: status, steps with durations and rows, error",
        description=f"Show a run (the latest one when RUN_ID is omitted). {ORCHESTRATOR_HELP}",
    )
    status.add_argument("run_id", nargs="?", metavar="RUN_ID", help="default: the latest run")
    status.add_argument("--data-root", metavar="PATH", help="local orchestrator: WVI_DATA_ROOT")
    _common(status)

    runs = commands.add_parser(
        "runs",
        help="list the latest runs, newest first",
        description=f"List the latest runs with status, timing and error. {ORCHESTRATOR_HELP}",
    )
    runs.add_argument(
        "-n", type=_positive, default=10, metavar="N", help="how many runs (default 10)"
    )
    runs.add_argument("--data-root", metavar="PATH", help="local orchestrator: WVI_DATA_ROOT")
    _common(runs)


def _deploy_command(commands: argparse._SubParsersAction) -> None:
    deploy = commands.add_parser(
        "deploy",
        help="package the code and create or update the AWS stack",
        description="Build the package (pipeline + glue_jobs, one zip), upload it and the four "
        "Glue entry scripts to s3://<artifact bucket>/<prefix>/<code version>/ (a hash of the "
        "code: never over the code the jobs run now), then create or update the "
        "CloudFormation stack of infra/wistia-insights.yaml and wait for it. The artifact "
        "bucket must exist already. Credentials and region come "
        "from the usual AWS settings; AWS_ENDPOINT_URL is honoured.",
    )
    deploy.add_argument(
        "--stack-name",
        metavar="NAME",
        help="stack name, also the prefix of the Glue jobs, workflow and workgroup "
        "(WVI_STACK_NAME, default wistia-insights; lower-case, at most 24 characters)",
    )
    deploy.add_argument(
        "--artifact-bucket",
        metavar="BUCKET",
        help="existing bucket for the scripts and the package (WVI_ARTIFACT_BUCKET; required)",
    )
    deploy.add_argument(
        "--artifact-prefix",
        metavar="PREFIX",
        help="key prefix in the artifact bucket (WVI_ARTIFACT_PREFIX; default: the one the "
        "stack already uses, for a new stack its name)",
    )
    deploy.add_argument(
        "--region", metavar="REGION", help="AWS region (WVI_AWS_REGION, else the AWS default)"
    )
    deploy.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a stack parameter, repeatable (e.g. GitHubRepository=org/repo, which a new stack "
        "needs); on updates, parameters not given keep their previous values",
    )
    deploy.add_argument(
        "--role-arn",
        metavar="ARN",
        help="CloudFormation service role for the operation (default on updates: the stack's "
        "CloudFormationRoleArn output; on creation: the caller's credentials)",
    )
    deploy.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan (uploads, parameters, create or update) and change nothing",
    )
    deploy.add_argument(
        "--poll-seconds",
        type=_positive_float,
        default=5.0,
        metavar="S",
        help="seconds between stack status checks (default 5)",
    )
    deploy.add_argument(
        "--timeout",
        type=_positive_float,
        default=60.0,
        metavar="MIN",
        help="give up waiting for the stack after MIN minutes (default 60)",
    )
    _common(deploy)


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

    run = commands.add_parser(
        "run",
        help="one full local run: ingest -> silver -> gold -> checks -> commit watermarks",
        description="Run the whole pipeline locally under a lock (one run at a time), keeping a "
        "record in runs/<run_id>.json. Incremental by default: each media's window starts 3 days "
        "before its watermark. Watermarks move only when every step succeeded.",
    )
    _window_arguments(run)
    run.add_argument(
        "--run-id", metavar="ID", help="use this run id (the Admin page passes the one it queued)"
    )
    run.add_argument(
        "--no-snapshot",
        action="store_true",
        help="don't leave the dashboard's warehouse snapshot of the new gold under "
        "<data root>/_warehouse/ (the Admin page passes it: the dashboard writes its own)",
    )
    _common(run)

    transform = commands.add_parser(
        "transform",
        help="rebuild silver and gold for one load date from bronze",
        description="Bronze -> Silver -> Gold for one load date, from every complete bronze run "
        "of that date. Idempotent; watermarks are not touched.",
    )
    _load_date_arguments(transform)
    _common(transform)

    check = commands.add_parser(
        "check",
        help="run the quality checks for one load date and print them",
        description="Blocking checks (keys unique and not null, fact -> dim references, "
        "plays <= loads, fractions within 0-1) and warnings (engagement vs daily plays, "
        "quarantined records). Exit 1 when a blocking check fails.",
    )
    _load_date_arguments(check)
    _common(check)

    _orchestration_commands(commands)
    _deploy_command(commands)

    users = commands.add_parser(
        "users",
        help="manage dashboard users (bcrypt hashes and roles in WVI_USERS_FILE)",
        description="Add, remove or list the dashboard's users. The file "
        "(WVI_USERS_FILE, default .streamlit/users.yaml, git-ignored) holds bcrypt hashes only.",
    )
    users_commands = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = users_commands.add_parser(
        "add",
        help="add a user (prompts for the password, or reads it with --password-stdin)",
        description="Add a dashboard user. Without --password-stdin the password is asked for "
        "twice on the terminal; it must be 8-72 bytes.",
    )
    add.add_argument("username")
    add.add_argument("--role", choices=["viewer", "admin"], required=True, help="what they see")
    add.add_argument("--name", help="display name (default: the username)")
    add.add_argument("--email", help="optional e-mail")
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    add.add_argument("--replace", action="store_true", help="replace an existing user")
    _common(add)
    remove = users_commands.add_parser("remove", help="remove a user")
    remove.add_argument("username")
    _common(remove)
    listing = users_commands.add_parser("list", help="list users and roles (never hashes)")
    _common(listing)

    demo = commands.add_parser(
        "demo",
        help="run the product end to end on the embedded default (simulator + local data)",
        description="Start the simulator in-process, run the whole pipeline on its account "
        "(bronze, silver, gold, checks), create a demo viewer and admin, print their "
        "credentials and serve the dashboard at http://localhost:8501. No token or cloud "
        "account needed.",
    )
    demo.add_argument("--data-root", metavar="PATH", help="where to write (default ./data)")
    demo.add_argument("--seed", type=int, default=7, help="simulator seed (default 7)")
    demo.add_argument("--medias", type=_positive, default=12, help="medias in the account")
    demo.add_argument("--days", type=_positive, default=90, help="days of history (default 90)")
    demo.add_argument(
        "--backfill-days", type=_positive, default=60, help="days to ingest (default 60)"
    )
    demo.add_argument(
        "--app-port", type=int, default=8501, help="port of the dashboard (default 8501)"
    )
    demo.add_argument(
        "--no-app", action="store_true", help="build the data and demo users, do not serve the app"
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
        "run": commands.run,
        "transform": commands.transform,
        "check": commands.check,
        "demo": commands.demo,
        "users": commands.users,
        "trigger": commands.trigger,
        "status": commands.status,
        "runs": commands.runs,
        "deploy": commands.deploy,
    }
    return handlers[args.command](args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
