"""Glue-style job arguments, with or without `awsglue` (notes/aws-glue-athena.md §1.3).

`resolve_args` uses `awsglue.utils.getResolvedOptions` when it imports (on Glue) and otherwise
an argparse shim with the same contract: every declared option is required (`--NAME value`),
undeclared ones (`--WORKFLOW_NAME`, `--job-bookmark-option`, `--TempDir`, ...) are ignored.
Optional options are declared only when present in argv, as the Glue docs advise.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

REQUIRED = ("JOB_NAME", "data_root", "load_date")
# Passed by Glue when a workflow trigger starts the job.
WORKFLOW = ("WORKFLOW_NAME", "WORKFLOW_RUN_ID")


class GlueArgumentError(Exception):
    """A declared argument is missing (the shim's twin of awsglue's GlueArgumentError)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise GlueArgumentError(message)


def _shim(argv: Sequence[str], options: Sequence[str]) -> dict[str, str]:
    parser = _Parser(add_help=False, allow_abbrev=False)
    for option in options:
        parser.add_argument(f"--{option}", required=True)
    parsed, _unknown = parser.parse_known_args(list(argv[1:]))
    return vars(parsed)


def resolve_args(
    argv: Sequence[str] | None = None,
    required: Sequence[str] = REQUIRED,
    optional: Sequence[str] = (),
) -> dict[str, str]:
    """The job's arguments: `required` always, each of `optional` only if given."""
    argv = list(sys.argv if argv is None else argv)
    options = [*required, *(o for o in optional if f"--{o}" in argv)]
    try:
        from awsglue.utils import getResolvedOptions
    except ImportError:
        return _shim(argv, options)
    resolved = getResolvedOptions(argv, options)
    return {o: resolved[o] for o in options}


def resolve_load_date(
    value: str,
    args: dict[str, str],
    glue_client: Any = None,
    *,
    properties: dict[str, str] | None = None,
) -> date:
    """`--load_date`: an ISO date, or `auto` — the workflow run's `load_date` property when
    the job runs in a Glue workflow (so every job of one run uses the same day), else
    yesterday in UTC (the last complete day). `properties`: the run's, if already read."""
    if value != "auto":
        return date.fromisoformat(value)
    if properties is None:
        properties = run_properties(args, glue_client)
    chosen = properties.get("load_date")
    if chosen:
        return date.fromisoformat(chosen)
    return datetime.now(UTC).date() - timedelta(days=1)


def run_properties(args: dict[str, str], glue_client: Any = None) -> dict[str, str]:
    """The workflow run's properties (`load_date`, and for a backfill `start_date`,
    `end_date`, `backfill_days`, as `python -m pipeline trigger` sets them); {} outside a
    workflow."""
    workflow, run_id = args.get("WORKFLOW_NAME"), args.get("WORKFLOW_RUN_ID")
    if not (workflow and run_id):
        return {}
    if glue_client is None:
        import boto3

        glue_client = boto3.client("glue")
    response = glue_client.get_workflow_run_properties(Name=workflow, RunId=run_id)
    return dict(response.get("RunProperties") or {})


def store_load_date(args: dict[str, str], load_date: date, glue_client: Any = None) -> None:
    """Record the chosen day as the workflow run's `load_date` property (ingest does this)."""
    workflow, run_id = args.get("WORKFLOW_NAME"), args.get("WORKFLOW_RUN_ID")
    if not (workflow and run_id):
        return
    if glue_client is None:
        import boto3

        glue_client = boto3.client("glue")
    glue_client.put_workflow_run_properties(
        Name=workflow, RunId=run_id, RunProperties={"load_date": load_date.isoformat()}
    )


def read_secret(secret_id: str, keys: Sequence[str], client: Any = None) -> str:
    """A value kept in Secrets Manager: the secret string itself, or, when it is a JSON
    object, its first of `keys` that is set. Error messages name the secret, not the value."""
    if client is None:
        import boto3

        client = boto3.client("secretsmanager")
    value = client.get_secret_value(SecretId=secret_id)["SecretString"].strip()
    if value.startswith("{"):
        body = json.loads(value)
        for key in keys:
            if body.get(key):
                return str(body[key])
        raise ValueError(f"secret {secret_id} has none of the keys {', '.join(keys)}")
    if not value:
        raise ValueError(f"secret {secret_id} is empty")
    return value


def report(step: str, result: Any) -> None:
    """Print a step's result as one JSON line (the job's log on Glue, stdout locally)."""
    if hasattr(result, "to_dict"):
        result = result.to_dict()
    print(json.dumps({"step": step, "result": result}, default=str, sort_keys=True))
