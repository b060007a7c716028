"""AthenaWarehouse against moto in server mode, with canned query results.

moto runs no SQL: each query takes the next canned result (FIFO). The tests check what the
warehouse sends (database-qualified SQL, quoted execution parameters, result reuse) and that
the rows come back as the dashboard functions expect.
"""

from __future__ import annotations

import json
import urllib.request
from datetime import date

import boto3
import pytest

from services import kpis, queries
from services.filters import Period
from services.warehouse import AthenaWarehouse

ACCOUNT, REGION, BUCKET = "123456789012", "us-east-1", "athena-results"
PERIOD = Period(date(2026, 6, 8), date(2026, 6, 14))


@pytest.fixture
def athena(moto_url, monkeypatch):
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_ATHENA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    _post(moto_url, "/moto-api/reset", {})
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
    warehouse = AthenaWarehouse(
        workgroup="primary",
        output_location=f"s3://{BUCKET}/wvi/",
        region=REGION,
        poll_interval=0.05,
        result_reuse_minutes=30,
    )
    sent: list[dict] = []
    warehouse.connection.client.meta.events.register(
        "provide-client-params.athena.StartQueryExecution",
        lambda params, **_: sent.append(dict(params)),
    )
    return warehouse, sent


def _post(base: str, path: str, body: dict) -> None:
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status in (200, 201)


def _column(name: str, kind: str) -> dict:
    return {
        "CatalogName": "hive",
        "SchemaName": "",
        "TableName": "",
        "Name": name,
        "Label": name,
        "Type": kind,
        "Precision": 19 if kind == "bigint" else 17 if kind == "double" else 0,
        "Scale": 0,
        "Nullable": "UNKNOWN",
        "CaseSensitive": kind == "varchar",
    }


def canned(base: str, columns: list[tuple[str, str]], rows: list[list[str | None]]) -> None:
    """Queue one result: a header row (as Athena returns for SELECT) and the data rows."""
    header = {"Data": [{"VarCharValue": name} for name, _ in columns]}
    data = [{"Data": [{"VarCharValue": v} if v is not None else {} for v in row]} for row in rows]
    result = {"rows": [header, *data], "column_info": [_column(n, k) for n, k in columns]}
    _post(
        base,
        "/moto-api/static/athena/query-results",
        {"account_id": ACCOUNT, "region": REGION, "results": [result]},
    )


def test_media_list_through_athena(athena, moto_url):
    warehouse, sent = athena
    canned(
        moto_url,
        [
            ("media_id", "varchar"),
            ("title", "varchar"),
            ("channel", "varchar"),
            ("url", "varchar"),
            ("duration_seconds", "double"),
            ("created_at", "timestamp"),
            ("folder_name", "varchar"),
        ],
        [
            [
                "m2",
                "Gap Method Facebook",
                "Facebook",
                "https://x/m2",
                "90.5",
                "2026-01-02 00:00:00.000",
                None,
            ],
            [
                "m1",
                "Gap Method YouTube",
                "YouTube",
                "https://x/m1",
                "120.0",
                "2026-01-01 12:00:00.000",
                "Ads",
            ],
        ],
    )
    media = queries.media_list(warehouse)
    assert media["media_id"].tolist() == ["m2", "m1"]
    assert media["duration_seconds"].tolist() == [90.5, 120.0]
    assert str(media["created_at"].dtype).startswith("datetime64")
    (request,) = sent
    assert "wistia_gold.dim_media" in request["QueryString"]
    assert "gold.dim_media" not in request["QueryString"].replace("wistia_gold.", "")
    assert "ExecutionParameters" not in request
    assert request["QueryExecutionContext"]["Database"] == "wistia_gold"
    assert request["WorkGroup"] == "primary"
    reuse = request["ResultReuseConfiguration"]["ResultReuseByAgeConfiguration"]
    assert reuse == {"Enabled": True, "MaxAgeInMinutes": 30}


def test_kpi_summary_through_athena_sends_values_as_parameters(athena, moto_url):
    warehouse, sent = athena
    canned(
        moto_url,
        [("period", "varchar"), ("plays", "bigint"), ("loads", "bigint"), ("hours", "double")],
        [["current", "100", "350", "8.0"], ["previous", "50", "200", "3.0"]],
    )
    canned(
        moto_url,
        [
            ("period", "varchar"),
            ("unique_visitors", "bigint"),
            ("watched_weighted", "double"),
            ("engaged_plays", "bigint"),
        ],
        [["current", "3", "4.2", "8"], ["previous", "1", "1.8", "4"]],
    )
    evil = "x' OR '1'='1"
    summary = kpis.kpi_summary(warehouse, PERIOD, channel=evil)
    assert summary.current.plays == 100 and summary.current.unique_visitors == 3
    assert summary.current.play_rate == pytest.approx(100 / 350)
    assert summary.current.engagement == pytest.approx(0.525)
    assert summary.deltas.plays_pct == pytest.approx(100.0)
    daily, engagement = sent
    assert "wistia_gold.fact_media_daily" in daily["QueryString"]
    assert "wistia_gold.fact_media_engagement" in engagement["QueryString"]
    assert evil not in daily["QueryString"]
    quoted = "'x'' OR ''1''=''1'"
    assert daily["ExecutionParameters"] == [
        *("'2026-06-08'", "'2026-06-14'", quoted, quoted, "NULL", "NULL"),
        *("'2026-06-01'", "'2026-06-07'", quoted, quoted, "NULL", "NULL"),
    ]
    assert daily["QueryString"].count("?") == len(daily["ExecutionParameters"])


def test_retention_curve_parses_athena_arrays(athena, moto_url):
    warehouse, sent = athena
    canned(
        moto_url,
        [("load_date", "date"), ("engagement", "double"), ("engagement_data", "array")],
        [["2026-06-14", "0.5", "[10, 8, 5]"]],
    )
    curve, source = queries.retention_curve(warehouse, "m1", PERIOD)
    assert source == "wistia"
    assert curve["retention"].tolist() == pytest.approx([1.0, 0.8, 0.5])
    assert "wistia_silver.media_engagement" in sent[0]["QueryString"]
    assert sent[0]["ExecutionParameters"] == ["'m1'"]


def test_empty_result_is_an_empty_frame(athena, moto_url):
    warehouse, _ = athena
    canned(moto_url, [("first_date", "date"), ("last_date", "date")], [[None, None]])
    assert queries.data_through(warehouse) is None
