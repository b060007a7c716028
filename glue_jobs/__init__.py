"""Thin AWS Glue entry scripts: parse the job arguments, build the session, call `pipeline.jobs`.

Each script runs locally too: `python glue_jobs/<job>.py --JOB_NAME x --data_root ./data
--load_date 2026-05-01`. None of them imports `GlueContext`.
"""
