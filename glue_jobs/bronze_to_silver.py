"""Glue job: Bronze → Silver for one load date (`pipeline.jobs.bronze_to_silver`).

Arguments: --JOB_NAME, --data_root (s3://bucket/prefix or a directory), --load_date
(YYYY-MM-DD or `auto`); optional --silver_db, --pii (masked|raw|hashed; default WVI_PII or
masked) and, for `hashed`, --pii_key_secret_id (Secrets Manager secret holding the hashing
key, a plain string or JSON with WVI_PII_KEY/key; else WVI_PII_KEY). The key is never logged.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if not __package__:  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from glue_jobs._args import WORKFLOW, read_secret, report, resolve_args, resolve_load_date

OPTIONAL = ("silver_db", "pii", "pii_key_secret_id", *WORKFLOW)
PII_KEY_KEYS = ("WVI_PII_KEY", "key")


def pii_key(args: dict[str, str], pii: str, secrets_client: Any = None) -> bytes | None:
    """The checked hashing key for `pii=hashed` (None otherwise): from the secret if one is
    named (a problem names the secret, never its value), else WVI_PII_KEY."""
    from pipeline.transform.pii import check_key, check_mode

    secret_id = args.get("pii_key_secret_id")
    if check_mode(pii) != "hashed" or not secret_id:
        return check_key(pii, os.environ.get("WVI_PII_KEY"))
    try:
        return check_key(pii, read_secret(secret_id, PII_KEY_KEYS, secrets_client))
    except Exception as exc:  # an empty secret, no access, a short key, ...
        reason = str(exc) if isinstance(exc, ValueError) else type(exc).__name__
        raise ValueError(
            f"--pii hashed: no usable key in the secret {secret_id} ({reason}); store one of "
            "at least 32 bytes there (docs/run-on-aws.md)"
        ) from None


def main(argv: Sequence[str] | None = None, *, secrets_client: Any = None) -> dict[str, Any]:
    args = resolve_args(argv, optional=OPTIONAL)
    load_date = resolve_load_date(args["load_date"], args)
    pii = args.get("pii") or os.environ.get("WVI_PII", "masked")
    key = pii_key(args, pii, secrets_client)  # fails before Spark starts

    from pipeline.jobs import SILVER_DB, bronze_to_silver
    from pipeline.spark import get_spark

    spark = get_spark(args["data_root"], app_name=args["JOB_NAME"])
    result = bronze_to_silver(
        spark,
        args["data_root"],
        load_date,
        silver_db=args.get("silver_db", SILVER_DB),
        pii=pii,
        pii_key=key,
    )
    report("bronze_to_silver", result)
    return result


if __name__ == "__main__":
    main()
