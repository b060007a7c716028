"""Glue job: Bronze → Silver for one load date (`pipeline.jobs.bronze_to_silver`).

Arguments: --JOB_NAME, --data_root (s3://bucket/prefix or a directory), --load_date
(YYYY-MM-DD or `auto`); optional --silver_db, --pii (masked|raw|hashed; default WVI_PII or
masked).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if not __package__:  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from glue_jobs._args import WORKFLOW, report, resolve_args, resolve_load_date

OPTIONAL = ("silver_db", "pii", *WORKFLOW)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = resolve_args(argv, optional=OPTIONAL)
    load_date = resolve_load_date(args["load_date"], args)

    from pipeline.jobs import SILVER_DB, bronze_to_silver
    from pipeline.spark import get_spark

    spark = get_spark(args["data_root"], app_name=args["JOB_NAME"])
    result = bronze_to_silver(
        spark,
        args["data_root"],
        load_date,
        silver_db=args.get("silver_db", SILVER_DB),
        pii=args.get("pii") or os.environ.get("WVI_PII", "masked"),
    )
    report("bronze_to_silver", result)
    return result


if __name__ == "__main__":
    main()
