"""Glue job: ingest one run of the Wistia streams into Bronze (`pipeline.ingest.ingest`).

Arguments: --JOB_NAME, --data_root, --load_date (the as-of day: YYYY-MM-DD, or `auto` =
yesterday in UTC, recorded as the workflow run's `load_date` property so that the later jobs
of the run use the same day); optional --wistia_secret_id (Secrets Manager secret holding the
API token, as a plain string or JSON with WISTIA_API_TOKEN/token), --wistia_api_base_url,
--media_ids (comma list), --backfill_days. In a workflow run, the run properties
`start_date`, `end_date` and `backfill_days` (set by `python -m pipeline trigger`) choose a
backfill window. The token is never logged.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if not __package__:  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from glue_jobs._args import (
    WORKFLOW,
    read_secret,
    report,
    resolve_args,
    resolve_load_date,
    run_properties,
    store_load_date,
)

if TYPE_CHECKING:
    from pipeline.ingest import IngestOptions

OPTIONAL = (
    "wistia_secret_id",
    "wistia_api_base_url",
    "media_ids",
    "backfill_days",
    *WORKFLOW,
)
TOKEN_KEYS = ("WISTIA_API_TOKEN", "wistia_api_token", "token")


def read_token(secret_id: str, client: Any = None) -> str:
    """The API token stored in Secrets Manager (a plain string or a JSON object)."""
    return read_secret(secret_id, TOKEN_KEYS, client)


def window(load_date: date, properties: dict[str, str]) -> IngestOptions:
    """The run's window: a backfill's start/end/backfill days from the workflow run's
    properties (a `trigger --start-date ...`), else the incremental default."""
    from pipeline.ingest import IngestOptions

    def day(name: str) -> date | None:
        return date.fromisoformat(properties[name]) if properties.get(name) else None

    days = properties.get("backfill_days")
    return IngestOptions(
        as_of=load_date,
        start_date=day("start_date"),
        end_date=day("end_date"),
        backfill_days=int(days) if days else None,
    )


def main(
    argv: Sequence[str] | None = None, *, secrets_client: Any = None, glue_client: Any = None
) -> dict[str, Any]:
    args = resolve_args(argv, optional=OPTIONAL)
    properties = run_properties(args, glue_client)  # read once: the day and the window
    load_date = resolve_load_date(args["load_date"], args, properties=properties)

    from pydantic import SecretStr

    from pipeline.ingest import ingest
    from pipeline.settings import load_settings
    from pipeline.storage import open_storage

    overrides: dict[str, Any] = {"data_root": args["data_root"]}
    if args.get("wistia_secret_id"):
        overrides["wistia_api_token"] = SecretStr(
            read_token(args["wistia_secret_id"], secrets_client)
        )
    if args.get("wistia_api_base_url"):
        overrides["wistia_api_base_url"] = args["wistia_api_base_url"].rstrip("/")
    if args.get("media_ids"):
        overrides["media_ids_raw"] = args["media_ids"]
    if args.get("backfill_days"):
        overrides["backfill_days"] = int(args["backfill_days"])
    settings = load_settings(**overrides)
    result = ingest(settings, open_storage(args["data_root"]), window(load_date, properties))
    store_load_date(args, load_date, glue_client)
    summary = {
        "run_id": result.run_id,
        "load_date": result.load_date.isoformat(),
        "status": result.status,
        "manifest": result.manifest,
        "windows": result.windows,
        "summary": result.summary,
    }
    report("ingest", summary)
    return summary


if __name__ == "__main__":
    main()
