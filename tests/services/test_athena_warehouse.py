"""Every dashboard statement through AthenaWarehouse → pyathena → a moto server.

moto runs no SQL: each query takes the next canned result queued through its
`/moto-api/static/athena/query-results` endpoint, and moto writes it as the result CSV that
pyathena's PandasCursor reads. What these tests pin down:
- the request: workgroup, output location, database, result reuse, and the values as
  `ExecutionParameters` — one escaped literal each (hostile strings included), in marker order;
- the SQL moto recorded (`get_query_execution`): one Athena-dialect statement over the Glue
  databases with its `?` markers, no value in its text;
- the frame: typed from the result's column types (bigint → Int64, double → float64,
  date/timestamp → datetime64, NULL → NA), already in the dtypes `queries.normalize` wants.
"""

from __future__ import annotations

import json
import urllib.request
from datetime import date
from decimal import Decimal

import boto3
import numpy as np
import pandas as pd
import pytest
import sqlglot
from sqlglot import exp

from services import kpis, queries
from services.filters import Period
from services.warehouse import AthenaWarehouse, WarehouseError, athena_literal, athena_sql

ACCOUNT, REGION, BUCKET = "123456789012", "us-east-1", "athena-results"
OUTPUT = f"s3://{BUCKET}/wvi/"
DATABASES = (("gold", "wistia_gold"), ("silver", "wistia_silver"))
PERIOD = Period(date(2026, 6, 8), date(2026, 6, 14))
# User-chosen values that would break out of a naively quoted literal.
EVIL_CHANNEL = "YouTube' OR '1'='1"
EVIL_MEDIA = "m1'; DROP TABLE wistia_gold.dim_media; --"
VALUES = {
    "start": PERIOD.start,
    "end": PERIOD.end,
    "previous_start": PERIOD.previous().start,
    "previous_end": PERIOD.previous().end,
    "channel": EVIL_CHANNEL,
    "media_id": EVIL_MEDIA,
}
# The Athena type of every column the statements return.
COLUMN_TYPES = {
    **dict.fromkeys(
        (
            "period",
            "channel",
            "media_id",
            "title",
            "url",
            "folder_name",
            "media_name",
            "country",
            "device",
            "platform",
            "browser",
        ),
        "varchar",
    ),
    **dict.fromkeys(
        (
            "plays",
            "loads",
            "unique_visitors",
            "engaged_plays",
            "visitors",
            "total_plays",
            "total_loads",
            "total_visitors",
        ),
        "bigint",
    ),
    "bucket": "integer",
    **dict.fromkeys(
        ("hours", "watched_weighted", "play_rate", "engagement", "avg_engagement"), "double"
    ),
    "duration_seconds": "double",
    **dict.fromkeys(("date", "week", "first_date", "last_date", "load_date"), "date"),
    "created_at": "timestamp",
    "engagement_data": "array",
}
# type → (text in the result, value in the frame, pandas dtype)
SAMPLES = {
    # moto writes values into the CSV without escaping `"`, so the sample has none; a quote
    # and a comma still have to survive the CSV round trip.
    "varchar": ("it's, here", "it's, here", "object"),
    "bigint": ("42", 42, "Int64"),
    "integer": ("7", 7, "Int64"),
    "double": ("0.25", 0.25, "float64"),
    "date": ("2026-06-14", pd.Timestamp("2026-06-14"), "datetime64[ns]"),
    "timestamp": ("2026-06-14 12:30:00.000", pd.Timestamp("2026-06-14 12:30:00"), "datetime64[ns]"),
    "array": ("[10, 8, 5]", "[10, 8, 5]", "object"),
}


# ------------------------------------------------------------------------------ moto plumbing
@pytest.fixture
def aws_env(moto_url, monkeypatch):
    """Every AWS client of this process (pyathena's Athena and S3 ones too) → the moto server."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_ATHENA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    post(moto_url, "/moto-api/reset", {})
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
    return moto_url


def make_warehouse(**options) -> tuple[AthenaWarehouse, list[dict]]:
    """A warehouse on the moto server, and the StartQueryExecution requests it sends."""
    warehouse = AthenaWarehouse(
        workgroup="primary",
        output_location=OUTPUT,
        region=REGION,
        poll_interval=0.02,
        result_reuse_minutes=15,
        **options,
    )
    sent: list[dict] = []
    warehouse.connection.client.meta.events.register(
        "provide-client-params.athena.StartQueryExecution",
        lambda params, **_: sent.append(dict(params)),
    )
    return warehouse, sent


@pytest.fixture
def athena(aws_env):
    return make_warehouse()


def post(base: str, path: str, body: dict) -> None:
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status in (200, 201)


def column_info(name: str, kind: str) -> dict:
    """A ColumnInfo with every field pyathena reads (moto passes it through as given)."""
    return {
        "CatalogName": "hive",
        "SchemaName": "",
        "TableName": "",
        "Name": name,
        "Label": name,
        "Type": kind,
        "Precision": {"bigint": 19, "integer": 10, "double": 17}.get(kind, 0),
        "Scale": 0,
        "Nullable": "UNKNOWN",
        "CaseSensitive": kind == "varchar",
    }


def queue_result(base: str, columns: list[tuple[str, str]], rows: list[list[str | None]]) -> None:
    """Queue one canned result: the header row (as Athena returns for SELECT), then the rows."""
    header = {"Data": [{"VarCharValue": name} for name, _ in columns]}
    data = [{"Data": [{} if v is None else {"VarCharValue": v} for v in row]} for row in rows]
    result = {"rows": [header, *data], "column_info": [column_info(n, k) for n, k in columns]}
    post(
        base,
        "/moto-api/static/athena/query-results",
        {"account_id": ACCOUNT, "region": REGION, "results": [result]},
    )


def recorded_queries() -> list[dict]:
    """The query executions moto recorded, as get_query_execution returns them."""
    client = boto3.client("athena", region_name=REGION)
    ids = client.list_query_executions()["QueryExecutionIds"]
    return [client.get_query_execution(QueryExecutionId=i)["QueryExecution"] for i in ids]


def output_columns(statement: queries.Statement) -> list[tuple[str, str]]:
    names = sqlglot.parse_one(statement.sql, read="athena").named_selects
    return [(name, COLUMN_TYPES[name]) for name in names]


def string_literals(tree: exp.Expression) -> list[str]:
    return [node.this for node in tree.find_all(exp.Literal) if node.is_string]


def tables(tree: exp.Expression) -> set[str]:
    return {f"{t.db}.{t.name}" for t in tree.find_all(exp.Table)}


# ------------------------------------------------------------------------------ every statement
@pytest.mark.parametrize("name", sorted(queries.STATEMENTS))
def test_every_statement_runs_through_athena(athena, aws_env, name):
    warehouse, sent = athena
    statement = queries.STATEMENTS[name]
    columns = output_columns(statement)
    queue_result(aws_env, columns, [[SAMPLES[k][0] for _, k in columns], [None] * len(columns)])
    bound = statement.bind(**{p: VALUES[p] for p in statement.params})

    frame = warehouse.query(statement.sql, bound)  # what queries.run does before normalizing

    # The frame: typed by the result's column types, NULLs as NA.
    assert list(frame.columns) == [c for c, _ in columns]
    assert {c: str(frame[c].dtype) for c, _ in columns} == {c: SAMPLES[k][2] for c, k in columns}
    assert frame.iloc[0].tolist() == [SAMPLES[k][1] for _, k in columns]
    assert frame.iloc[1].isna().all()
    assert queries.normalize(frame).dtypes.equals(frame.dtypes)  # already the dashboard's dtypes

    # The request: workgroup, output location, database, result reuse, values as parameters.
    (request,) = sent
    assert request["WorkGroup"] == "primary"
    assert request["ResultConfiguration"] == {"OutputLocation": OUTPUT}
    assert request["QueryExecutionContext"]["Database"] == "wistia_gold"
    assert request["ResultReuseConfiguration"] == {
        "ResultReuseByAgeConfiguration": {"Enabled": True, "MaxAgeInMinutes": 15}
    }
    parameters = request.get("ExecutionParameters")
    assert parameters == ([athena_literal(v) for v in bound] or None)

    # The SQL moto received: one Athena statement over the Glue databases, markers kept.
    (execution,) = recorded_queries()
    received = execution["Query"]
    assert received == request["QueryString"] == athena_sql(statement.sql, DATABASES)
    assert execution.get("ExecutionParameters") == parameters
    (tree,) = sqlglot.parse(received, read="athena")
    template = sqlglot.parse_one(statement.sql, read="athena")
    assert tables(tree) == {
        t.replace("gold.", "wistia_gold.").replace("silver.", "wistia_silver.")
        for t in tables(template)
    }
    assert len(list(tree.find_all(exp.Placeholder))) == len(bound)
    # Each value is exactly one literal of its own, never part of the text.
    assert [parameter_value(p) for p in parameters or []] == [
        v.isoformat() if isinstance(v, date) else v for v in bound
    ]
    assert EVIL_CHANNEL not in received and EVIL_MEDIA not in received
    if EVIL_CHANNEL in bound:
        assert "'YouTube'' OR ''1''=''1'" in parameters
    assert execution["Status"]["State"] == "SUCCEEDED"


def parameter_value(text: str) -> object:
    """What one execution parameter denotes; it must parse as a single literal or NULL."""
    node = sqlglot.parse_one(text, read="athena")
    if isinstance(node, exp.Null):
        return None
    assert isinstance(node, exp.Literal), text
    return node.this if node.is_string else node.to_py()


# ------------------------------------------------------------------------------ dashboard flows
def test_kpi_summary_binds_both_periods_in_where_clauses(athena, aws_env):
    warehouse, sent = athena
    queue_result(
        aws_env,
        output_columns(queries.KPI_DAILY_TOTALS),
        [["current", "100", "350", "8.0"], ["previous", "50", "200", "3.0"]],
    )
    queue_result(
        aws_env,
        output_columns(queries.KPI_ENGAGEMENT_TOTALS),
        [["current", "3", "4.2", "8"], ["previous", "1", "1.8", "4"]],
    )
    summary = kpis.kpi_summary(warehouse, PERIOD, channel=EVIL_CHANNEL)
    assert (summary.current.plays, summary.current.loads) == (100, 350)
    assert summary.current.unique_visitors == 3
    assert summary.current.play_rate == pytest.approx(100 / 350)
    assert summary.current.engagement == pytest.approx(0.525)
    assert summary.deltas.plays_pct == pytest.approx(100.0)
    daily, engagement = sent
    # The split is a constant label per UNION ALL branch; each branch's WHERE takes its bounds.
    assert daily["QueryString"].startswith("SELECT 'current' AS period, ")
    assert "UNION ALL SELECT 'previous' AS period, " in daily["QueryString"]
    assert (
        "(? IS NULL OR d.media_id IN (SELECT media_id FROM wistia_gold.dim_media "
        "WHERE channel = ?))" in daily["QueryString"]
    )
    evil = "'YouTube'' OR ''1''=''1'"
    for request in (daily, engagement):
        assert request["ExecutionParameters"] == [
            *("'2026-06-08'", "'2026-06-14'", evil, evil, "NULL", "NULL"),
            *("'2026-06-01'", "'2026-06-07'", evil, evil, "NULL", "NULL"),
        ]
    assert "wistia_gold.fact_media_daily" in daily["QueryString"]
    assert "wistia_gold.fact_media_engagement" in engagement["QueryString"]
    assert EVIL_CHANNEL not in daily["QueryString"]
    assert daily["QueryString"].count("?") == len(daily["ExecutionParameters"])


def test_an_empty_result_means_no_data_yet(athena, aws_env):
    warehouse, _ = athena
    queue_result(aws_env, [("first_date", "date"), ("last_date", "date")], [[None, None]])
    assert queries.data_through(warehouse) is None


def test_kpi_summary_reads_an_empty_period_as_zeros(athena, aws_env):
    warehouse, _ = athena
    # Each branch aggregates without GROUP BY: a period without data is a row of NULL sums.
    queue_result(
        aws_env,
        output_columns(queries.KPI_DAILY_TOTALS),
        [["current", None, None, None], ["previous", "50", "200", "3.0"]],
    )
    queue_result(
        aws_env,
        output_columns(queries.KPI_ENGAGEMENT_TOTALS),
        [["current", "0", None, None], ["previous", "1", "1.8", "4"]],
    )
    summary = kpis.kpi_summary(warehouse, PERIOD)
    assert summary.current == kpis.Kpis()
    cards = {card.label: card.value for card in summary.cards()}
    assert cards["Plays"] == "0" and cards["Play rate"] == cards["Engagement"] == kpis.DASH
    assert summary.deltas.plays_pct == pytest.approx(-100.0)
    assert summary.deltas.play_rate_pp is None


def test_retention_curve_reads_the_array_text_athena_returns(athena, aws_env):
    warehouse, sent = athena
    queue_result(
        aws_env,
        [("load_date", "date"), ("engagement", "double"), ("engagement_data", "array")],
        [["2026-06-14", "0.5", "[10, 8, 5]"]],
    )
    curve, source = queries.retention_curve(warehouse, "m1", PERIOD)
    assert source == "wistia"
    assert curve["retention"].tolist() == pytest.approx([1.0, 0.8, 0.5])
    assert "FROM wistia_silver.media_engagement WHERE media_id = ?" in sent[0]["QueryString"]
    assert sent[0]["ExecutionParameters"] == ["'m1'"]


def test_values_go_as_execution_parameters(athena, aws_env):
    warehouse, sent = athena
    queue_result(aws_env, [("plays", "bigint")], [["3"]])
    frame = warehouse.query(
        "SELECT plays FROM gold.t WHERE media_id = ? AND d = ?", [EVIL_MEDIA, 2]
    )
    assert frame["plays"].tolist() == [3]
    (request,) = sent
    assert request["QueryString"] == "SELECT plays FROM wistia_gold.t WHERE media_id = ? AND d = ?"
    assert request["ExecutionParameters"] == ["'m1''; DROP TABLE wistia_gold.dim_media; --'", "2"]


# ------------------------------------------------------------------------------ binding, no AWS
def test_markers_in_strings_identifiers_and_comments_are_not_markers():
    warehouse = AthenaWarehouse(workgroup="primary")
    sql = """SELECT '?' AS "why?", x FROM gold.t WHERE y = ? AND z = ?"""
    assert warehouse.statement(sql, ["a'b", None]) == (
        """SELECT '?' AS "why?", x FROM wistia_gold.t WHERE y = ? AND z = ?""",
        ["'a''b'", "NULL"],
    )


def test_statement_checks_the_count_and_the_types():
    warehouse = AthenaWarehouse(workgroup="primary")
    sql = "SELECT * FROM silver.media_engagement WHERE media_id = ?"
    assert warehouse.statement(sql, ["x"]) == (
        "SELECT * FROM wistia_silver.media_engagement WHERE media_id = ?",
        ["'x'"],
    )
    assert warehouse.statement("SELECT 1 FROM gold.t", []) == ("SELECT 1 FROM wistia_gold.t", None)
    with pytest.raises(WarehouseError, match="1 \\? markers but 0 values"):
        warehouse.statement(sql, [])
    with pytest.raises(WarehouseError, match="2 \\? markers but 1 values"):
        warehouse.statement("SELECT 1 FROM t WHERE a = ? AND b = ?", [1])
    with pytest.raises(WarehouseError, match="unsupported parameter type"):
        warehouse.statement(sql, [[1, 2]])
    with pytest.raises(WarehouseError, match="not a finite number"):
        warehouse.statement(sql, [Decimal("NaN")])
    where = "SELECT 1 FROM t WHERE a = ? AND b = ? AND c = ? AND d = ?"
    assert warehouse.statement(where, [np.int64(3), True, 0.5, date(2026, 1, 2)])[1] == [
        "3",
        "TRUE",
        "0.5",
        "'2026-01-02'",
    ]
