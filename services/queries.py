"""Every SQL statement the dashboard runs, and the functions that run them (ARCHITECTURE §12).

Rules for the statements below:
- one dialect subset that DuckDB and Athena (Trino) both run: `CAST(x AS DATE)`, `NULLIF`,
  `COALESCE`, `date_trunc`, `CASE`, CTEs, `FULL OUTER JOIN`; no `::`, `FILTER`, `QUALIFY`;
  ratios cast to DOUBLE first (Trino divides integers as integers);
- tables as `gold.<table>` / `silver.<table>` (the warehouse maps the schema);
- values only through `?` markers, and every marker in a WHERE clause: Athena binds execution
  parameters only there ("SELECT ? FROM table is not supported"), so a per-period split is
  one `UNION ALL` branch per period rather than a `CASE` on a marker. An optional filter is
  `(? IS NULL OR col = ?)`, and a choice of grouping column is a fixed set of statements —
  user input never becomes SQL text.

Unique visitors come from one of two statement families, picked per warehouse: the exact
`COUNT(DISTINCT visitor_id)` of §9 (Athena, which prunes to the period's partitions), or, where
the warehouse has derived `gold.first_visits` (DuckDB), the same count as a sum over the
visitors' first days in the period or bucket (see `services.warehouse.DERIVED_TABLES`).
The tests check that both families return the same rows.

Each `Statement` names its markers' values in order, so callers bind by name
(`STATEMENTS["daily_trend"].bind(start=..., end=..., channel=None, media_id=None)`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from services.filters import Period
from services.warehouse import (
    ENGAGEMENT_AUDIENCE,
    ENGAGEMENT_DAILY,
    FIRST_VISITS,
    MEDIA_CHANNEL,
    Warehouse,
)

log = logging.getLogger("wvi.services.queries")


@dataclass(frozen=True)
class Statement:
    """One SQL statement and the names of the values its `?` markers take, in order."""

    name: str
    sql: str
    params: tuple[str, ...]

    def bind(self, **values: Any) -> list[Any]:
        """The positional parameter list for `values` (every name required, no extras)."""
        missing = sorted(set(self.params) - values.keys())
        extra = sorted(values.keys() - set(self.params))
        if missing or extra:
            raise TypeError(f"{self.name}: missing {missing}, unexpected {extra}")
        return [values[name] for name in self.params]


STATEMENTS: dict[str, Statement] = {}


def _statement(name: str, sql: str, *params: str) -> Statement:
    statement = Statement(name, " ".join(sql.split()), tuple(params))
    if statement.sql.count("?") != len(params):
        raise AssertionError(f"{name}: {statement.sql.count('?')} markers, {len(params)} names")
    STATEMENTS[name] = statement
    return statement


# Filter fragments (constant text). The channel of a media is the one dim_media gives it now,
# for both facts: fact_media_daily's own copy is only as fresh as the last rewrite of each date,
# and mixing the two would put one media in two channels. The filter is a semi-join on
# dim_media, which spares joining every fact row when only a filter needs the channel. A
# media without a dim_media row (the blocking checks rule that out, but gold is readable
# before they run) has no channel: it counts in the totals, in no channel's figures.
_DAILY_DATES = "d.date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)"
_DAILY_WHERE = (
    f"{_DAILY_DATES} "
    "AND (? IS NULL OR d.media_id IN (SELECT media_id FROM gold.dim_media WHERE channel = ?)) "
    "AND (? IS NULL OR d.media_id = ?)"
)
_ENGAGEMENT_FROM = "gold.fact_media_engagement e"
_ENGAGEMENT_DATES = "e.date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)"
_ENGAGEMENT_WHERE = (
    f"{_ENGAGEMENT_DATES} "
    "AND (? IS NULL OR e.media_id IN (SELECT media_id FROM gold.dim_media WHERE channel = ?)) "
    "AND (? IS NULL OR e.media_id = ?)"
)
_FILTERS = ("start", "end", "channel", "channel", "media_id", "media_id")
_PREVIOUS_FILTERS = ("previous_start", "previous_end", "channel", "channel", "media_id", "media_id")
_PLAY_RATE = "CAST(d.plays AS DOUBLE) / NULLIF(d.loads, 0) AS play_rate"
_ENGAGEMENT = "e.watched_weighted / NULLIF(e.engaged_plays, 0) AS engagement"
_DAILY_SUMS = (
    "CAST(SUM(d.play_count) AS BIGINT) AS plays, CAST(SUM(d.load_count) AS BIGINT) AS loads, "
    "SUM(d.hours_watched) AS hours"
)
_ENGAGEMENT_SUMS = (
    "COUNT(DISTINCT e.visitor_id) AS unique_visitors, "
    "SUM(e.watched_percent * e.play_count) AS watched_weighted, "
    "CAST(SUM(e.play_count) AS BIGINT) AS engaged_plays"
)
PERIODS = ("current", "previous")


def _per_period(columns: str, source: str, where: str, group_by: str = "") -> str:
    """`SELECT 'current' AS period, <columns> FROM <source> WHERE <where> UNION ALL` the same
    for 'previous': `where` takes its period's bounds, so the markers stay in WHERE clauses.

    Without `group_by` each branch is a plain aggregate, one row even for a period without
    data (SUMs NULL, COUNT 0), which `kpis` reads as zero counts and "—" rates.
    """
    group = f" GROUP BY {group_by}" if group_by else ""
    return " UNION ALL ".join(
        f"SELECT '{label}' AS period, {columns} FROM {source} WHERE {where}{group}"
        for label in PERIODS
    )


# ------------------------------------------------------------------------------ first visits
# The first-visits family reads the DuckDB side's derived tables (services.warehouse
# DERIVED_TABLES): engagement sums per media-day from gold.engagement_daily, and distinct
# visitors as the sum of gold.first_visits rows whose previous active day is before the span.
# The level says which previous day counts: in any media (no filter), in the filtered
# channel, or with the filtered media.
_DERIVED_DATES = "r.date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)"
_DERIVED_WHERE = (
    f"{_DERIVED_DATES} AND (? IS NULL OR r.channel = ?) AND (? IS NULL OR r.media_id = ?)"
)
_DERIVED_SUMS = (
    "SUM(r.watched_weighted) AS watched_weighted, "
    "CAST(SUM(r.engaged_plays) AS BIGINT) AS engaged_plays"
)
LEVELS = ("visitor", "channel", "media")
_PERIOD_START = "CAST(? AS DATE)"


def level(channel: str | None, media_id: str | None) -> str:
    """Which previous day counts for these filters: the narrowest one filtered on."""
    return "media" if media_id is not None else "channel" if channel is not None else "visitor"


def _first_visits_branch(
    lvl: str, keys: str, where: str, span_starts: Sequence[str], group_by: str = ""
) -> tuple[str, str]:
    """(sums, visitors): two SELECTs over the rows `where` picks, `keys` (`expr AS name, `
    each) first. A visitor is counted on its first day in the span, the one whose previous
    active day at `lvl` is before the span's start: the latest of `span_starts`."""
    group = f" GROUP BY {group_by}" if group_by else ""
    first = " OR ".join(f"r.since < {start}" for start in span_starts)
    sums = f"SELECT {keys}{_DERIVED_SUMS} FROM {ENGAGEMENT_DAILY} r WHERE {where}{group}"
    visitors = (
        f"SELECT {keys}CAST(COALESCE(SUM(r.visitors), 0) AS BIGINT) AS unique_visitors "
        f"FROM {FIRST_VISITS} r WHERE r.level = '{lvl}' AND {where} "
        f"AND (r.since IS NULL OR {first}){group}"
    )
    return sums, visitors


def _first_visits_engagement(branches: Sequence[tuple[str, str]], on: Sequence[str]) -> str:
    """The columns `_ENGAGEMENT_SUMS` gives, per `on` key, from `_first_visits_branch`es: sums
    of every branch, then visitors of every branch (so the markers run in that order).

    A group whose rows all lack a visitor has no first visit: 0 visitors, as COUNT(DISTINCT)
    gives; so does a branch without GROUP BY and without data (one row of NULL sums).
    """
    sums = " UNION ALL ".join(b[0] for b in branches)
    visitors = " UNION ALL ".join(b[1] for b in branches)
    keys = "".join(f"s.{k}, " for k in on)
    join = " AND ".join(f"u.{k} IS NOT DISTINCT FROM s.{k}" for k in on)
    return (
        f"SELECT {keys}COALESCE(u.unique_visitors, 0) AS unique_visitors, "
        "s.watched_weighted, s.engaged_plays "
        f"FROM ({sums}) s LEFT JOIN ({visitors}) u ON {join}"
    )


def _choose(
    warehouse: Warehouse,
    plain: Statement,
    derived: Statement | Mapping[str, Statement],
    channel: str | None = None,
    media_id: str | None = None,
    *,
    reads: tuple[str, ...] = (FIRST_VISITS, ENGAGEMENT_DAILY),
) -> Statement:
    """`plain`, or the statement over derived tables (for the filters' level, when there is
    one per level) if the warehouse has built the tables it `reads` from its current rows."""
    built = getattr(warehouse, "derived_tables", ())
    if not all(table in built for table in reads):
        return plain
    if isinstance(derived, Statement):
        return derived
    return derived[level(channel, media_id)]


# ------------------------------------------------------------------------------ KPI totals
# One statement per fact table covers the period and the previous one (rows "current" and
# "previous"), so a KPI summary costs two queries.
KPI_DAILY_TOTALS = _statement(
    "kpi_daily_totals",
    _per_period(_DAILY_SUMS, "gold.fact_media_daily d", _DAILY_WHERE) + " ORDER BY 1",
    *_FILTERS,
    *_PREVIOUS_FILTERS,
)
KPI_ENGAGEMENT_TOTALS = _statement(
    "kpi_engagement_totals",
    _per_period(_ENGAGEMENT_SUMS, _ENGAGEMENT_FROM, _ENGAGEMENT_WHERE) + " ORDER BY 1",
    *_FILTERS,
    *_PREVIOUS_FILTERS,
)
KPI_ENGAGEMENT_TOTALS_FIRST_VISITS = {
    lvl: _statement(
        f"kpi_engagement_totals_first_visits_{lvl}",
        _first_visits_engagement(
            [
                _first_visits_branch(lvl, f"'{label}' AS period, ", _DERIVED_WHERE, [_PERIOD_START])
                for label in PERIODS
            ],
            ["period"],
        )
        + " ORDER BY 1",
        *_FILTERS,
        *_PREVIOUS_FILTERS,
        *_FILTERS,
        "start",
        *_PREVIOUS_FILTERS,
        "previous_start",
    )
    for lvl in LEVELS
}
# Per channel and period (no channel / media filter: every channel is compared).
_CHANNEL = "m.channel"  # NULL for a media without a dim_media row
_CHANNEL_DAILY = _per_period(
    f"{_CHANNEL} AS channel, {_DAILY_SUMS}",
    f"gold.fact_media_daily d LEFT JOIN {MEDIA_CHANNEL} m ON m.media_id = d.media_id",
    _DAILY_DATES,
    _CHANNEL,
)
_CHANNEL_ENGAGEMENT = _per_period(
    f"{_CHANNEL} AS channel, {_ENGAGEMENT_SUMS}",
    f"{_ENGAGEMENT_FROM} LEFT JOIN {MEDIA_CHANNEL} m ON m.media_id = e.media_id",
    _ENGAGEMENT_DATES,
    _CHANNEL,
)
_BOTH_PERIODS = ("start", "end", "previous_start", "previous_end")
_CHANNEL_TOTALS = """WITH d AS ({daily}), e AS ({engagement})
    SELECT COALESCE(d.period, e.period) AS period, COALESCE(d.channel, e.channel) AS channel,
           d.plays, d.loads, d.hours, e.unique_visitors, e.watched_weighted, e.engaged_plays
    FROM d FULL OUTER JOIN e
      ON d.period = e.period AND d.channel IS NOT DISTINCT FROM e.channel
    ORDER BY 2, 1"""
CHANNEL_TOTALS = _statement(
    "channel_totals",
    _CHANNEL_TOTALS.format(daily=_CHANNEL_DAILY, engagement=_CHANNEL_ENGAGEMENT),
    *_BOTH_PERIODS,
    *_BOTH_PERIODS,
)
CHANNEL_TOTALS_FIRST_VISITS = _statement(
    "channel_totals_first_visits",
    _CHANNEL_TOTALS.format(
        daily=_CHANNEL_DAILY,
        engagement=_first_visits_engagement(
            [
                _first_visits_branch(
                    "channel",
                    f"'{label}' AS period, r.channel AS channel, ",
                    _DERIVED_DATES,
                    [_PERIOD_START],
                    "r.channel",
                )
                for label in PERIODS
            ],
            ["period", "channel"],
        ),
    ),
    *_BOTH_PERIODS,
    "start",
    "end",
    "previous_start",
    "previous_end",
    "start",
    "end",
    "start",
    "previous_start",
    "previous_end",
    "previous_start",
)


# ------------------------------------------------------------------------------ trends
_TREND = """WITH d AS (
        SELECT {bucket_d} AS {name}, {daily_sums}
        FROM gold.fact_media_daily d WHERE {daily_where} GROUP BY 1
    ), e AS ({engagement_cte})
    SELECT COALESCE(d.{name}, e.{name}) AS {name}, d.plays, d.loads, d.hours, {play_rate},
           e.unique_visitors, {engagement}
    FROM d FULL OUTER JOIN e ON d.{name} = e.{name}
    ORDER BY 1"""


def _trend(name: str, bucket: str, engagement_cte: str | None = None) -> str:
    """Per bucket: `bucket` is the expression over `{t}.date`; `engagement_cte` replaces the
    COUNT(DISTINCT) one."""
    if engagement_cte is None:
        engagement_cte = (
            f"SELECT {bucket.format(t='e')} AS {name}, {_ENGAGEMENT_SUMS} "
            f"FROM {_ENGAGEMENT_FROM} WHERE {_ENGAGEMENT_WHERE} GROUP BY 1"
        )
    return _TREND.format(
        name=name,
        bucket_d=bucket.format(t="d"),
        daily_sums=_DAILY_SUMS,
        daily_where=_DAILY_WHERE,
        engagement_cte=engagement_cte,
        play_rate=_PLAY_RATE,
        engagement=_ENGAGEMENT,
    )


_DAY, _WEEK = "{t}.date", "date_trunc('week', {t}.date)"
DAILY_TREND = _statement("daily_trend", _trend("date", _DAY), *_FILTERS, *_FILTERS)
WEEKLY_TREND = _statement("weekly_trend", _trend("week", _WEEK), *_FILTERS, *_FILTERS)


def _first_visits_trend(name: str, bucket: str, lvl: str, *span_starts: str) -> str:
    """`_trend` with visitors counted on their first row in each bucket (which starts at its
    own first day, or at the period's start for a bucket cut by it)."""
    branch = _first_visits_branch(
        lvl,
        f"{bucket.format(t='r')} AS {name}, ",
        _DERIVED_WHERE,
        [bucket.format(t="r"), *span_starts],
        "1",
    )
    return _trend(name, bucket, _first_visits_engagement([branch], [name]))


DAILY_TREND_FIRST_VISITS = {
    lvl: _statement(
        f"daily_trend_first_visits_{lvl}",
        _first_visits_trend("date", _DAY, lvl),
        *_FILTERS,
        *_FILTERS,
        *_FILTERS,
    )
    for lvl in LEVELS
}
WEEKLY_TREND_FIRST_VISITS = {
    lvl: _statement(
        f"weekly_trend_first_visits_{lvl}",
        _first_visits_trend("week", _WEEK, lvl, _PERIOD_START),
        *_FILTERS,
        *_FILTERS,
        *_FILTERS,
        "start",
    )
    for lvl in LEVELS
}

# ------------------------------------------------------------------------------ by media
_MEDIA_BREAKDOWN = f"""WITH d AS (
        SELECT d.media_id, {_DAILY_SUMS}
        FROM gold.fact_media_daily d WHERE {_DAILY_WHERE} GROUP BY d.media_id
    ), e AS ({{engagement_cte}})
    SELECT COALESCE(d.media_id, e.media_id) AS media_id, m.title, m.channel,
           d.plays, d.loads, d.hours, {_PLAY_RATE}, e.unique_visitors, {_ENGAGEMENT}
    FROM d FULL OUTER JOIN e ON d.media_id = e.media_id
    LEFT JOIN gold.dim_media m ON m.media_id = COALESCE(d.media_id, e.media_id)
    ORDER BY d.plays DESC, 1"""
MEDIA_BREAKDOWN = _statement(
    "media_breakdown",
    _MEDIA_BREAKDOWN.format(
        engagement_cte=f"SELECT e.media_id, {_ENGAGEMENT_SUMS} FROM {_ENGAGEMENT_FROM} "
        f"WHERE {_ENGAGEMENT_WHERE} GROUP BY e.media_id"
    ),
    *_FILTERS,
    *_FILTERS,
)
MEDIA_BREAKDOWN_FIRST_VISITS = _statement(
    "media_breakdown_first_visits",
    _MEDIA_BREAKDOWN.format(
        engagement_cte=_first_visits_engagement(
            [
                _first_visits_branch(
                    "media",
                    "r.media_id AS media_id, ",
                    _DERIVED_WHERE,
                    [_PERIOD_START],
                    "r.media_id",
                )
            ],
            ["media_id"],
        )
    ),
    *_FILTERS,
    *_FILTERS,
    *_FILTERS,
    "start",
)
MEDIA_DAILY = _statement(
    "media_daily",
    """SELECT d.date, d.load_count AS loads, d.play_count AS plays, d.play_rate,
           d.hours_watched AS hours, d.unique_visitors, d.avg_engagement
    FROM gold.fact_media_daily d
    WHERE d.media_id = ? AND d.date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
    ORDER BY d.date""",
    "media_id",
    "start",
    "end",
)

# ------------------------------------------------------------------------------ lists, freshness
MEDIA_LIST = _statement(
    "media_list",
    """SELECT media_id, title, channel, url, duration_seconds, created_at, folder_name
    FROM gold.dim_media ORDER BY title, media_id""",
)
CHANNEL_LIST = _statement(
    "channel_list",
    """SELECT DISTINCT channel FROM gold.dim_media WHERE channel IS NOT NULL ORDER BY channel""",
)
DATA_RANGE = _statement(
    "data_range",
    "SELECT MIN(date) AS first_date, MAX(date) AS last_date FROM gold.fact_media_daily",
)
LATEST_MEDIA_SUMMARY = _statement(
    "latest_media_summary",
    """SELECT s.media_id, s.media_name, s.load_date, s.total_plays, s.total_loads,
           s.total_visitors, s.play_rate, s.engagement
    FROM gold.media_metrics_summary s
    JOIN (SELECT media_id, MAX(load_date) AS load_date
          FROM gold.media_metrics_summary GROUP BY media_id) l
      ON l.media_id = s.media_id AND l.load_date = s.load_date
    WHERE (? IS NULL OR s.media_id = ?)
    ORDER BY s.total_plays DESC, s.media_id""",
    "media_id",
    "media_id",
)

# ------------------------------------------------------------------------------ one media
RETENTION_WISTIA = _statement(
    "retention_wistia",
    """SELECT load_date, engagement, engagement_data FROM silver.media_engagement
    WHERE media_id = ? ORDER BY load_date DESC LIMIT 1""",
    "media_id",
)
RETENTION_BUCKETS = _statement(
    "retention_buckets",
    """SELECT
           CAST(FLOOR(LEAST(GREATEST(e.watched_percent, 0.0), 1.0) * 20 + 0.000001) AS INTEGER)
             AS bucket,
           CAST(SUM(e.play_count) AS BIGINT) AS plays
    FROM gold.fact_media_engagement e
    WHERE e.media_id = ? AND e.date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
      AND e.watched_percent IS NOT NULL
    GROUP BY 1 ORDER BY 1""",
    "media_id",
    "start",
    "end",
)
# Per visitor first, then their attributes: one row per visitor makes COUNT(visitor_id) the
# distinct count, and the join to dim_visitor (one row per visitor) sees only the period's
# visitors.
_AUDIENCE = """WITH e AS (
        SELECT e.visitor_id, SUM(e.play_count) AS visitor_plays
        FROM {source} WHERE {where} GROUP BY e.visitor_id
    )
    SELECT {expr} AS {name}, COUNT(e.visitor_id) AS visitors,
           CAST(SUM(e.visitor_plays) AS BIGINT) AS plays
    FROM e LEFT JOIN gold.dim_visitor v ON v.visitor_id = e.visitor_id
    GROUP BY 1 ORDER BY plays DESC, 1"""
SEGMENTS: dict[str, str] = {
    "country": "COALESCE(v.country, 'Unknown')",
    "device": "CASE WHEN v.is_mobile THEN 'Mobile' WHEN NOT v.is_mobile THEN 'Desktop' "
    "ELSE 'Unknown' END",
    "platform": "COALESCE(v.platform, 'Unknown')",
    "browser": "COALESCE(v.browser, 'Unknown')",
}
AUDIENCE: dict[str, Statement] = {
    by: _statement(
        f"audience_by_{by}",
        _AUDIENCE.format(expr=expr, name=by, source=_ENGAGEMENT_FROM, where=_ENGAGEMENT_WHERE),
        *_FILTERS,
    )
    for by, expr in SEGMENTS.items()
}
# The same over gold.engagement_audience (DuckDB), the rows already joined to dim_visitor.
_AUDIENCE_DERIVED = """SELECT {expr} AS {name}, COUNT(DISTINCT v.visitor_id) AS visitors,
           CAST(SUM(v.play_count) AS BIGINT) AS plays
    FROM {source} v
    WHERE v.date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
      AND (? IS NULL OR v.channel = ?) AND (? IS NULL OR v.media_id = ?)
    GROUP BY 1 ORDER BY plays DESC, 1"""
AUDIENCE_DERIVED: dict[str, Statement] = {
    by: _statement(
        f"audience_by_{by}_derived",
        _AUDIENCE_DERIVED.format(expr=expr, name=by, source=ENGAGEMENT_AUDIENCE),
        *_FILTERS,
    )
    for by, expr in SEGMENTS.items()
}

# ------------------------------------------------------------------------------ result shapes
_DATES = ("date", "week", "load_date", "first_date", "last_date")
_TIMESTAMPS = ("created_at",)
_COUNTS = (
    "plays",
    "loads",
    "unique_visitors",
    "engaged_plays",
    "visitors",
    "bucket",
    "total_plays",
    "total_loads",
    "total_visitors",
)
_FLOATS = (
    "hours",
    "play_rate",
    "engagement",
    "watched_weighted",
    "avg_engagement",
    "duration_seconds",
)


def normalize(frame: pd.DataFrame) -> pd.DataFrame:
    """Same dtypes from either engine: days as datetime64, counts as Int64, rates as float."""
    frame = frame.copy()
    for column in frame.columns:
        if column in _DATES or column in _TIMESTAMPS:
            frame[column] = pd.to_datetime(frame[column], errors="coerce")
            if column in _DATES:
                frame[column] = frame[column].dt.normalize()
        elif column in _COUNTS:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").round().astype("Int64")
        elif column in _FLOATS:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame


def run(warehouse: Warehouse, statement: Statement | str, **values: Any) -> pd.DataFrame:
    """Run one statement with its named values; the rows come back normalized."""
    if isinstance(statement, str):
        statement = STATEMENTS[statement]
    return normalize(warehouse.query(statement.sql, statement.bind(**values)))


def _filters(period: Period, channel: str | None, media_id: str | None) -> dict[str, Any]:
    return {"start": period.start, "end": period.end, "channel": channel, "media_id": media_id}


def period_bounds(period: Period) -> dict[str, date]:
    """The bounds of `period` and of the one before it, as the per-period statements name them."""
    previous = period.previous()
    return {
        "start": period.start,
        "end": period.end,
        "previous_start": previous.start,
        "previous_end": previous.end,
    }


# ------------------------------------------------------------------------------ public queries
def data_range(warehouse: Warehouse) -> tuple[date | None, date | None]:
    """First and last day in fact_media_daily (None, None when it is empty)."""
    frame = run(warehouse, DATA_RANGE)
    if frame.empty:
        return None, None
    row = frame.iloc[0]
    return _day(row["first_date"]), _day(row["last_date"])


def data_through(warehouse: Warehouse) -> date | None:
    """The "data through" freshness date: the last day in fact_media_daily."""
    return data_range(warehouse)[1]


def daily_trend(
    warehouse: Warehouse, period: Period, channel: str | None = None, media_id: str | None = None
) -> pd.DataFrame:
    """Per day: date, plays, loads, hours, play_rate, unique_visitors, engagement."""
    statement = _choose(warehouse, DAILY_TREND, DAILY_TREND_FIRST_VISITS, channel, media_id)
    return run(warehouse, statement, **_filters(period, channel, media_id))


def weekly_trend(
    warehouse: Warehouse, period: Period, channel: str | None = None, media_id: str | None = None
) -> pd.DataFrame:
    """Per ISO week (Monday) of the period: the same columns as `daily_trend`, `week` first."""
    statement = _choose(warehouse, WEEKLY_TREND, WEEKLY_TREND_FIRST_VISITS, channel, media_id)
    return run(warehouse, statement, **_filters(period, channel, media_id))


def media_breakdown(
    warehouse: Warehouse, period: Period, channel: str | None = None
) -> pd.DataFrame:
    """Per media: media_id, title, channel, plays, loads, hours, play_rate, unique_visitors,
    engagement (plays vs unique visitors by media), most plays first."""
    statement = _choose(warehouse, MEDIA_BREAKDOWN, MEDIA_BREAKDOWN_FIRST_VISITS)
    return run(warehouse, statement, **_filters(period, channel, None))


def channel_totals(warehouse: Warehouse, period: Period) -> pd.DataFrame:
    """Raw sums per (period: current|previous, channel); `kpis.channel_comparison` uses it."""
    statement = _choose(warehouse, CHANNEL_TOTALS, CHANNEL_TOTALS_FIRST_VISITS)
    return run(warehouse, statement, **period_bounds(period))


def engagement_totals(
    warehouse: Warehouse, period: Period, channel: str | None = None, media_id: str | None = None
) -> pd.DataFrame:
    """Raw engagement sums and unique visitors per period (current|previous); `kpis` uses it."""
    statement = _choose(
        warehouse, KPI_ENGAGEMENT_TOTALS, KPI_ENGAGEMENT_TOTALS_FIRST_VISITS, channel, media_id
    )
    values = {**period_bounds(period), "channel": channel, "media_id": media_id}
    return run(warehouse, statement, **values)


def media_list(warehouse: Warehouse) -> pd.DataFrame:
    """dim_media: media_id, title, channel, url, duration_seconds, created_at, folder_name."""
    return run(warehouse, MEDIA_LIST)


def channel_list(warehouse: Warehouse) -> list[str]:
    """The channels that media are assigned to, sorted."""
    return [str(c) for c in run(warehouse, CHANNEL_LIST)["channel"].tolist()]


def media_daily(warehouse: Warehouse, media_id: str, period: Period) -> pd.DataFrame:
    """One media's fact_media_daily rows: date, loads, plays, play_rate, hours,
    unique_visitors, avg_engagement."""
    return run(warehouse, MEDIA_DAILY, media_id=media_id, start=period.start, end=period.end)


def latest_media_summary(warehouse: Warehouse, media_id: str | None = None) -> pd.DataFrame:
    """Each media's latest lifetime snapshot from media_metrics_summary."""
    return run(warehouse, LATEST_MEDIA_SUMMARY, media_id=media_id)


def audience(
    warehouse: Warehouse,
    period: Period,
    by: str = "country",
    media_id: str | None = None,
    channel: str | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """Visitors and plays per `by` (country | device | platform | browser), most plays first."""
    if by not in AUDIENCE:
        raise ValueError(f"by must be one of {sorted(AUDIENCE)}, not {by!r}")
    statement = _choose(warehouse, AUDIENCE[by], AUDIENCE_DERIVED[by], reads=(ENGAGEMENT_AUDIENCE,))
    frame = run(warehouse, statement, **_filters(period, channel, media_id))
    return frame.head(limit).reset_index(drop=True) if limit else frame


def top_countries(
    warehouse: Warehouse, period: Period, media_id: str | None = None, limit: int = 10
) -> pd.DataFrame:
    """country, visitors, plays — the `limit` countries with the most plays."""
    return audience(warehouse, period, "country", media_id=media_id, limit=limit)


def devices(
    warehouse: Warehouse, period: Period, media_id: str | None = None, by: str = "device"
) -> pd.DataFrame:
    """Visitors and plays per device type (Mobile/Desktop), platform or browser."""
    if by == "country":
        raise ValueError("use top_countries for countries")
    return audience(warehouse, period, by, media_id=media_id)


# ------------------------------------------------------------------------------ retention
RETENTION_COLUMNS = ["position", "retention", "viewers"]


def retention_curve(
    warehouse: Warehouse, media_id: str, period: Period | None = None
) -> tuple[pd.DataFrame, str]:
    """One media's audience retention: (frame, source).

    `position` is the fraction of the video (0–1), `retention` the share of viewers still
    watching there (0–1), `viewers` the count behind it. Source `"wistia"` is Wistia's own
    per-second curve (silver.media_engagement, latest load; lifetime, so the period does not
    apply); when there is none, source `"watched_percent"` derives a 5 %-step curve from
    fact_media_engagement in `period`: the share of plays whose watched_percent reached each
    step. Source `"none"` means no data.
    """
    curve = _wistia_curve(warehouse, media_id)
    if curve is not None:
        return curve, "wistia"
    if period is not None:
        curve = _bucket_curve(warehouse, media_id, period)
        if curve is not None:
            return curve, "watched_percent"
    return pd.DataFrame({c: pd.Series(dtype="float64") for c in RETENTION_COLUMNS}), "none"


def _wistia_curve(warehouse: Warehouse, media_id: str) -> pd.DataFrame | None:
    try:
        frame = run(warehouse, RETENTION_WISTIA, media_id=media_id)
    except Exception as exc:  # the Silver table may not be there (a fresh catalog)
        log.warning("no Wistia engagement curve for %s: %s", media_id, exc)
        return None
    if frame.empty:
        return None
    values = parse_int_array(frame.iloc[0]["engagement_data"])
    return curve_from_counts(values) if values else None


def _bucket_curve(warehouse: Warehouse, media_id: str, period: Period) -> pd.DataFrame | None:
    frame = run(warehouse, RETENTION_BUCKETS, media_id=media_id, start=period.start, end=period.end)
    if frame.empty or int(frame["plays"].sum()) == 0:
        return None
    plays = np.zeros(21, dtype="int64")
    for bucket, count in zip(frame["bucket"], frame["plays"], strict=True):
        plays[min(max(int(bucket), 0), 20)] += int(count)
    reached = plays[::-1].cumsum()[::-1]  # plays whose watched_percent ≥ each step
    return pd.DataFrame(
        {
            "position": np.arange(21) / 20,
            "retention": reached / reached[0],
            "viewers": reached.astype("float64"),
        }
    )


def curve_from_counts(values: Sequence[int]) -> pd.DataFrame:
    """Wistia's views-per-second array as a retention curve (relative to the start)."""
    counts = np.asarray(values, dtype="float64")
    base = counts[0] if counts[0] > 0 else counts.max()
    positions = np.arange(len(counts)) / max(len(counts) - 1, 1)
    retention = counts / base if base > 0 else np.zeros_like(counts)
    return pd.DataFrame({"position": positions, "retention": retention, "viewers": counts})


def parse_int_array(value: Any) -> list[int]:
    """An array column as ints: a list/ndarray (DuckDB) or its text `[1, 2]` (Athena CSV)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return []
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = [v for v in text.strip("[]").split(",") if v.strip()]
    if isinstance(value, Mapping):
        return []
    return [int(float(v)) for v in list(value) if v is not None]


def _day(value: Any) -> date | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).date()


__all__ = [
    "AUDIENCE",
    "PERIODS",
    "STATEMENTS",
    "Statement",
    "audience",
    "channel_list",
    "channel_totals",
    "curve_from_counts",
    "daily_trend",
    "data_range",
    "data_through",
    "devices",
    "engagement_totals",
    "latest_media_summary",
    "level",
    "media_breakdown",
    "media_daily",
    "media_list",
    "normalize",
    "parse_int_array",
    "period_bounds",
    "retention_curve",
    "run",
    "top_countries",
    "weekly_trend",
]
