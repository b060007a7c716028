"""Every dashboard statement: valid Athena SQL, runs on DuckDB, known answers, injection-proof."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
import sqlglot
from sqlglot import exp

from services import queries
from services.filters import Period
from services.queries import STATEMENTS
from services.warehouse import DuckDBWarehouse, athena_sql

DATABASES = (("gold", "wistia_gold"), ("silver", "wistia_silver"))

SAMPLE = {
    "start": date(2026, 6, 1),
    "end": date(2026, 6, 14),
    "previous_start": date(2026, 5, 18),
    "previous_end": date(2026, 5, 31),
    "channel": "YouTube",
    "media_id": "m1",
}
INJECTIONS = [
    "x' OR '1'='1",
    "'; DROP VIEW gold.fact_media_daily; --",
    "YouTube' --",
    "m1'); DELETE FROM gold.dim_media; --",
    "\\'; SELECT 1; --",
    "%s %(x)s ? $1",
]


def _values(statement: queries.Statement, **overrides) -> dict:
    return {name: overrides.get(name, SAMPLE[name]) for name in statement.params}


@pytest.mark.parametrize("name", sorted(STATEMENTS))
def test_statement_is_athena_sql(name):
    statement = STATEMENTS[name]
    tree = sqlglot.parse_one(statement.sql, read="athena")
    assert isinstance(tree, exp.Query)
    assert len(list(tree.find_all(exp.Placeholder))) == len(statement.params)
    tables = {t.db for t in tree.find_all(exp.Table) if t.db}
    assert tables <= {"gold", "silver"}
    for banned in ("::", " FILTER (", " QUALIFY ", "DATE ?", "%s"):
        assert banned not in statement.sql.upper()
    # What AthenaWarehouse actually sends: same markers, schemas mapped to the databases.
    sent = sqlglot.parse_one(athena_sql(statement.sql, DATABASES), read="athena")
    assert len(list(sent.find_all(exp.Placeholder))) == len(statement.params)
    assert {t.db for t in sent.find_all(exp.Table) if t.db} <= {"wistia_gold", "wistia_silver"}


def _owning_clause(node: exp.Expression) -> type[exp.Expression] | None:
    """The clause a node sits in: the first WHERE or query (SELECT, UNION) above it."""
    parent = node.parent
    while parent is not None and not isinstance(parent, exp.Where | exp.Query):
        parent = parent.parent
    return type(parent) if parent is not None else None


@pytest.mark.parametrize("name", sorted(STATEMENTS))
def test_every_marker_is_in_a_where_clause(name):
    # Athena binds execution parameters only in WHERE clauses ("SELECT ? FROM table is not
    # supported"): a marker in a select list, ON, GROUP BY, ORDER BY or LIMIT would fail there.
    for sql in (STATEMENTS[name].sql, athena_sql(STATEMENTS[name].sql, DATABASES)):
        markers = list(sqlglot.parse_one(sql, read="athena").find_all(exp.Placeholder))
        assert len(markers) == len(STATEMENTS[name].params)
        assert [_owning_clause(m) for m in markers] == [exp.Where] * len(markers), sql


def test_where_check_catches_markers_elsewhere():
    for sql in (
        "SELECT CASE WHEN d >= ? THEN 'a' END FROM t WHERE x = ?",
        "SELECT x FROM t JOIN u ON u.k = ? WHERE u.y = 1",
        "SELECT x FROM t GROUP BY x HAVING COUNT(*) > ?",
        "SELECT x FROM t WHERE y = 1 UNION ALL SELECT ? FROM t WHERE z = ?",
    ):
        markers = sqlglot.parse_one(sql, read="athena").find_all(exp.Placeholder)
        assert any(_owning_clause(m) is not exp.Where for m in markers), sql
    ok = "SELECT x FROM t WHERE y IN (SELECT k FROM u WHERE v = ?) AND z = ?"
    markers = sqlglot.parse_one(ok, read="athena").find_all(exp.Placeholder)
    assert {_owning_clause(m) for m in markers} == {exp.Where}


@pytest.mark.parametrize("name", sorted(STATEMENTS))
def test_the_athena_text_keeps_the_markers_in_order(name):
    # Execution parameters bind by position: rewriting the schemas must not reorder markers.
    # Tag the i-th marker as the string '<i>', rewrite, and read the tags back in text order.
    pieces = STATEMENTS[name].sql.split("?")
    tagged = "".join(f"{piece}'<{i}>'" for i, piece in enumerate(pieces[:-1])) + pieces[-1]
    text = athena_sql(tagged, DATABASES)
    tags = [f"'<{i}>'" for i in range(len(pieces) - 1)]
    assert all(text.count(tag) == 1 for tag in tags)
    assert sorted(tags, key=text.index) == tags


def test_every_statement_is_registered():
    # The WHERE-clause and dialect checks above walk STATEMENTS: no statement may bypass it.
    defined = [v for v in vars(queries).values() if isinstance(v, queries.Statement)]
    defined += [*queries.AUDIENCE.values(), *queries.AUDIENCE_DERIVED.values()]
    assert all(STATEMENTS[s.name] is s for s in defined)


@pytest.mark.parametrize("name", sorted(STATEMENTS))
@pytest.mark.parametrize("filtered", [False, True])
def test_statement_runs_on_duckdb(warehouse, name, filtered):
    statement = STATEMENTS[name]
    overrides = {} if filtered else {"channel": None, "media_id": None}
    if not filtered and name in ("media_daily", "retention_wistia", "retention_buckets"):
        pytest.skip("the media is required")
    frame = queries.run(warehouse, statement, **_values(statement, **overrides))
    assert isinstance(frame, pd.DataFrame)


@pytest.mark.parametrize("name", sorted(STATEMENTS))
def test_statements_run_on_an_empty_root(tmp_path, name):
    statement = STATEMENTS[name]
    warehouse = DuckDBWarehouse(tmp_path)
    frame = queries.run(warehouse, statement, **_values(statement))
    if name == "data_range":
        assert len(frame) == 1 and frame.isna().all().all()
    elif name.startswith(("kpi_daily_totals", "kpi_engagement_totals")):
        # One aggregate row per period even without data: NULL sums, COUNT(DISTINCT) 0.
        assert frame["period"].tolist() == ["current", "previous"]
        sums = frame.drop(columns=["period", "unique_visitors"], errors="ignore")
        assert sums.isna().all().all()
        if "unique_visitors" in frame:
            assert frame["unique_visitors"].tolist() == [0, 0]
    else:
        assert frame.empty


@pytest.mark.parametrize("value", INJECTIONS)
def test_injection_strings_are_just_values(warehouse, period, value):
    assert queries.daily_trend(warehouse, period, channel=value).empty
    assert queries.daily_trend(warehouse, period, media_id=value).empty
    assert queries.media_breakdown(warehouse, period, channel=value).empty
    assert queries.audience(warehouse, period, "country", media_id=value).empty
    assert queries.media_daily(warehouse, value, period).empty
    assert queries.retention_curve(warehouse, value, period)[1] == "none"
    assert queries.latest_media_summary(warehouse, media_id=value).empty
    # Everything is still there.
    assert len(queries.media_list(warehouse)) == 3
    assert queries.daily_trend(warehouse, period)["plays"].sum() == 100


def test_bind_requires_exact_names():
    statement = STATEMENTS["media_daily"]
    assert statement.bind(media_id="m1", start=1, end=2) == ["m1", 1, 2]
    with pytest.raises(TypeError):
        statement.bind(media_id="m1", start=1)
    with pytest.raises(TypeError):
        statement.bind(media_id="m1", start=1, end=2, channel="x")


def test_daily_trend(warehouse, period):
    trend = queries.daily_trend(warehouse, period)
    assert trend["date"].dt.date.tolist() == [
        date(2026, 6, 10),
        date(2026, 6, 11),
        date(2026, 6, 12),
    ]
    assert trend["plays"].tolist() == [40, 10, 50]
    assert trend["loads"].tolist() == [100, 50, 200]
    assert trend["play_rate"].tolist() == pytest.approx([0.4, 0.2, 0.25])
    assert trend["unique_visitors"].tolist() == [2, 1, 2]
    assert trend["engagement"].tolist() == pytest.approx([1.2 / 3, 1.0, 2.0 / 4])
    assert str(trend["plays"].dtype) == "Int64"


def test_weekly_trend_counts_distinct_visitors_per_week(warehouse):
    trend = queries.weekly_trend(warehouse, Period(date(2026, 6, 1), date(2026, 6, 14)))
    assert trend["week"].dt.date.tolist() == [date(2026, 6, 1), date(2026, 6, 8)]
    assert trend["plays"].tolist() == [50, 100]
    assert trend["unique_visitors"].tolist() == [1, 3]
    assert trend["play_rate"].tolist() == pytest.approx([0.25, 100 / 350])


def test_media_breakdown_plays_vs_visitors(warehouse, period):
    frame = queries.media_breakdown(warehouse, period)
    rows = frame.set_index("media_id")
    assert rows.loc["m1", "plays"] == 50 and rows.loc["m1", "unique_visitors"] == 2
    assert rows.loc["m2", "title"] == "Gap Method Facebook"
    assert rows.loc["m2", "play_rate"] == pytest.approx(0.25)
    assert queries.media_breakdown(warehouse, period, channel="YouTube")["media_id"].tolist() == [
        "m1"
    ]


def test_lists_freshness_and_summary(warehouse):
    assert queries.channel_list(warehouse) == ["Facebook", "Other", "YouTube"]
    media = queries.media_list(warehouse)
    assert media["media_id"].tolist() == ["m2", "m1", "m3"]  # by title
    assert queries.data_range(warehouse) == (date(2026, 6, 3), date(2026, 6, 20))
    assert queries.data_through(warehouse) == date(2026, 6, 20)
    summary = queries.latest_media_summary(warehouse)
    assert summary["media_id"].tolist() == ["m1", "m2"]
    assert summary.loc[0, "total_plays"] == 110  # the 06-14 snapshot, not 06-13
    assert summary["load_date"].dt.date.tolist() == [date(2026, 6, 14)] * 2


def test_media_daily_series(warehouse, period):
    frame = queries.media_daily(warehouse, "m1", period)
    assert frame["plays"].tolist() == [40, 10]
    assert frame["unique_visitors"].tolist() == [2, 1]


def test_audience_breakdowns(warehouse, period):
    countries = queries.top_countries(warehouse, period)
    assert countries.to_dict("records") == [
        {"country": "US", "visitors": 2, "plays": 7},
        {"country": "DE", "visitors": 1, "plays": 1},
    ]
    assert len(queries.top_countries(warehouse, period, limit=1)) == 1
    devices = queries.devices(warehouse, period, media_id="m2")
    assert devices.set_index("device")["plays"].to_dict() == {"Desktop": 3, "Mobile": 1}
    platforms = queries.devices(warehouse, period, by="platform")
    assert set(platforms["platform"]) == {"Windows", "iOS", "Android"}
    with pytest.raises(ValueError):
        queries.audience(warehouse, period, by="ip_address")


def test_retention_from_wistia_curve(warehouse, period):
    curve, source = queries.retention_curve(warehouse, "m1", period)
    assert source == "wistia"  # the latest load (06-14): [10, 8, 5]
    assert curve["position"].tolist() == [0.0, 0.5, 1.0]
    assert curve["retention"].tolist() == pytest.approx([1.0, 0.8, 0.5])


def test_retention_falls_back_to_watched_percent(warehouse, period):
    curve, source = queries.retention_curve(warehouse, "m2", period)
    assert source == "watched_percent"
    by_step = dict(zip(curve["position"].round(2), curve["retention"], strict=True))
    # m2 in the period: 3 plays at 0.4 and 1 play at 0.8.
    assert by_step[0.0] == 1.0 and by_step[0.4] == 1.0
    assert by_step[0.45] == pytest.approx(0.25) and by_step[0.8] == pytest.approx(0.25)
    assert by_step[0.85] == 0.0


def test_parse_int_array_accepts_both_engines_shapes():
    assert queries.parse_int_array("[1, 2, 3]") == [1, 2, 3]
    assert queries.parse_int_array([4, 5]) == [4, 5]
    assert queries.parse_int_array(None) == [] and queries.parse_int_array("") == []
