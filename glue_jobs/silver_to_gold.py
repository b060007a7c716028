"""Glue job: Silver → Gold for the dates one load touched (`pipeline.jobs.silver_to_gold`).

Arguments: --JOB_NAME, --data_root, --load_date (YYYY-MM-DD or `auto`); optional
--silver_db, --gold_db, --channels_file (a channels.yml; default: the packaged rules).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if not __package__:  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from glue_jobs._args import WORKFLOW, report, resolve_args, resolve_load_date

OPTIONAL = ("silver_db", "gold_db", "channels_file", *WORKFLOW)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = resolve_args(argv, optional=OPTIONAL)
    load_date = resolve_load_date(args["load_date"], args)

    from pipeline.channels import load_rules
    from pipeline.jobs import GOLD_DB, SILVER_DB, silver_to_gold
    from pipeline.spark import get_spark

    spark = get_spark(args["data_root"], app_name=args["JOB_NAME"])
    result = silver_to_gold(
        spark,
        args["data_root"],
        load_date,
        silver_db=args.get("silver_db", SILVER_DB),
        gold_db=args.get("gold_db", GOLD_DB),
        rules=load_rules(args.get("channels_file")),
    )
    report("silver_to_gold", result)
    return result


if __name__ == "__main__":
    main()
