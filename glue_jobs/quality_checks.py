"""Glue job: quality checks of one load (`pipeline.jobs.run_quality_checks`).

Arguments: --JOB_NAME, --data_root, --load_date (YYYY-MM-DD or `auto`); optional
--silver_db, --gold_db, --max_quarantined (default 0), --commit_watermarks (true|false,
default true). The job fails (raises `QualityCheckFailed`) when a blocking check fails; when
all pass it commits the pending watermarks of the load's runs, so that the next run starts
after this one (ARCHITECTURE §11).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

if not __package__:  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from glue_jobs._args import WORKFLOW, report, resolve_args, resolve_load_date

OPTIONAL = ("silver_db", "gold_db", "max_quarantined", "commit_watermarks", *WORKFLOW)


def main(argv: Sequence[str] | None = None):
    args = resolve_args(argv, optional=OPTIONAL)
    load_date = resolve_load_date(args["load_date"], args)

    from pipeline.jobs import GOLD_DB, SILVER_DB, commit_pending_watermarks, run_quality_checks
    from pipeline.spark import get_spark
    from pipeline.storage import open_storage

    spark = get_spark(args["data_root"], app_name=args["JOB_NAME"])
    quality = run_quality_checks(
        spark,
        args["data_root"],
        load_date,
        silver_db=args.get("silver_db", SILVER_DB),
        gold_db=args.get("gold_db", GOLD_DB),
        max_quarantined=int(args.get("max_quarantined", "0")),
    )
    report("quality_checks", quality)
    quality.raise_for_failures()
    if args.get("commit_watermarks", "true").lower() == "true":
        committed = commit_pending_watermarks(open_storage(args["data_root"]), load_date)
        report("commit_watermarks", {"runs": committed})
    return quality


if __name__ == "__main__":
    main()
