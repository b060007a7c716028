"""The KPI math of ARCHITECTURE §9, exactly, and how the dashboard formats it.

For a period of UTC days [start, end] with optional channel / media filters:
- Plays = Σ play_count; Loads = Σ load_count; Hours = Σ hours_watched (fact_media_daily);
- Play rate = Plays ÷ Loads, a ratio of sums (None, shown "—", when Loads = 0);
- Unique visitors = COUNT(DISTINCT visitor_id) of fact_media_engagement in the period;
- Engagement = Σ(watched_percent × play_count) ÷ Σ play_count of fact_media_engagement;
- the previous period is the same number of days just before `start`; deltas are % for
  counts ((cur − prev) ÷ prev × 100, None when prev = 0) and percentage points for rates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from services import queries
from services.filters import Period
from services.warehouse import Warehouse

DASH = "—"


@dataclass(frozen=True)
class Kpis:
    """The six headline numbers of one period."""

    plays: int = 0
    loads: int = 0
    hours: float = 0.0
    unique_visitors: int = 0
    play_rate: float | None = None
    engagement: float | None = None


@dataclass(frozen=True)
class KpiDeltas:
    """Current vs previous: % change for counts, percentage points for rates."""

    plays_pct: float | None
    loads_pct: float | None
    hours_pct: float | None
    unique_visitors_pct: float | None
    play_rate_pp: float | None
    engagement_pp: float | None


@dataclass(frozen=True)
class KpiCard:
    """One metric card, formatted: `st.metric(card.label, card.value, card.delta)`."""

    label: str
    value: str
    delta: str | None
    help: str


@dataclass(frozen=True)
class KpiSummary:
    """A period's KPIs, the previous period's, and the deltas between them."""

    period: Period
    previous_period: Period
    current: Kpis
    previous: Kpis
    deltas: KpiDeltas

    def cards(self) -> list[KpiCard]:
        """The six cards in dashboard order."""
        cur, d = self.current, self.deltas
        return [
            KpiCard("Plays", fmt_count(cur.plays), fmt_delta(d.plays_pct), "Σ play_count"),
            KpiCard("Loads", fmt_count(cur.loads), fmt_delta(d.loads_pct), "Σ load_count"),
            KpiCard(
                "Play rate",
                fmt_rate(cur.play_rate),
                fmt_delta(d.play_rate_pp, points=True),
                "Plays ÷ Loads (ratio of sums)",
            ),
            KpiCard(
                "Hours watched", fmt_hours(cur.hours), fmt_delta(d.hours_pct), "Σ hours_watched"
            ),
            KpiCard(
                "Unique visitors",
                fmt_count(cur.unique_visitors),
                fmt_delta(d.unique_visitors_pct),
                "distinct visitors in the period",
            ),
            KpiCard(
                "Engagement",
                fmt_rate(cur.engagement),
                fmt_delta(d.engagement_pp, points=True),
                "play-weighted mean share of the video watched",
            ),
        ]


# ------------------------------------------------------------------------------ math
def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator ÷ denominator, None when the denominator is 0 or missing."""
    if not denominator or numerator is None:
        return None
    return float(numerator) / float(denominator)


def pct_change(current: float | None, previous: float | None) -> float | None:
    """(current − previous) ÷ previous × 100; None when previous is 0 or missing."""
    if current is None or not previous:
        return None
    return (float(current) - float(previous)) / float(previous) * 100.0


def pp_change(current: float | None, previous: float | None) -> float | None:
    """Rates (fractions) → change in percentage points; None when either is missing."""
    if current is None or previous is None:
        return None
    return (float(current) - float(previous)) * 100.0


def kpis_from_sums(
    plays: Any, loads: Any, hours: Any, unique_visitors: Any, watched_weighted: Any, engaged: Any
) -> Kpis:
    """Kpis from the raw sums of the two fact tables (missing sums count as 0)."""
    plays, loads, visitors, engaged = (_int(v) for v in (plays, loads, unique_visitors, engaged))
    return Kpis(
        plays=plays,
        loads=loads,
        hours=_float(hours) or 0.0,
        unique_visitors=visitors,
        play_rate=ratio(plays, loads),
        engagement=ratio(_float(watched_weighted), engaged),
    )


def deltas(current: Kpis, previous: Kpis) -> KpiDeltas:
    """The deltas of §9 between two periods' KPIs."""
    return KpiDeltas(
        plays_pct=pct_change(current.plays, previous.plays),
        loads_pct=pct_change(current.loads, previous.loads),
        hours_pct=pct_change(current.hours, previous.hours),
        unique_visitors_pct=pct_change(current.unique_visitors, previous.unique_visitors),
        play_rate_pp=pp_change(current.play_rate, previous.play_rate),
        engagement_pp=pp_change(current.engagement, previous.engagement),
    )


# ------------------------------------------------------------------------------ queries
def kpi_summary(
    warehouse: Warehouse,
    period: Period,
    channel: str | None = None,
    media_id: str | None = None,
) -> KpiSummary:
    """KPIs of `period` and of the previous period (two queries), with the deltas."""
    values = {**queries.period_bounds(period), "channel": channel, "media_id": media_id}
    daily = _by_period(queries.run(warehouse, queries.KPI_DAILY_TOTALS, **values))
    engagement = _by_period(queries.engagement_totals(warehouse, period, channel, media_id))
    # A period without data comes back as a row of NULL sums (a missing row reads the same):
    # zero counts, and None ("—") for the rates.
    current, prev = (_kpis(daily.get(p, {}), engagement.get(p, {})) for p in _PERIODS)
    return KpiSummary(period, period.previous(), current, prev, deltas(current, prev))


def channel_comparison(
    warehouse: Warehouse, period: Period, channels: tuple[str, ...] | None = None
) -> dict[str, KpiSummary]:
    """A `KpiSummary` per channel (two queries); unique visitors are distinct within each.

    `channels` fixes which channels appear, in order (e.g. `("Facebook", "YouTube")`, with
    zeros for a channel without data); None gives every channel that has data.
    """
    frame = queries.channel_totals(warehouse, period)
    found = sorted(set(frame["channel"].dropna())) if not frame.empty else []
    result: dict[str, KpiSummary] = {}
    for channel in channels if channels is not None else tuple(found):
        rows = frame[frame["channel"] == channel] if not frame.empty else frame
        sums = _by_period(rows)
        current, prev = (_kpis(sums.get(p, {}), sums.get(p, {})) for p in _PERIODS)
        summary = KpiSummary(period, period.previous(), current, prev, deltas(current, prev))
        result[channel] = summary
    return result


def comparison_table(summaries: dict[str, KpiSummary]) -> pd.DataFrame:
    """The channel comparison as a table: one row per channel, one column per KPI."""
    rows = [
        {
            "channel": channel,
            "plays": s.current.plays,
            "loads": s.current.loads,
            "play_rate": s.current.play_rate,
            "hours": s.current.hours,
            "unique_visitors": s.current.unique_visitors,
            "engagement": s.current.engagement,
        }
        for channel, s in summaries.items()
    ]
    return pd.DataFrame(rows, columns=["channel", *_KPI_COLUMNS])


_PERIODS = queries.PERIODS
_KPI_COLUMNS = ["plays", "loads", "play_rate", "hours", "unique_visitors", "engagement"]


def _by_period(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    return {row["period"]: row for row in frame.to_dict("records")}


def _kpis(daily: dict[str, Any], engagement: dict[str, Any]) -> Kpis:
    return kpis_from_sums(
        daily.get("plays"),
        daily.get("loads"),
        daily.get("hours"),
        engagement.get("unique_visitors"),
        engagement.get("watched_weighted"),
        engagement.get("engaged_plays"),
    )


def _int(value: Any) -> int:
    number = _float(value)
    return round(number) if number is not None else 0


def _float(value: Any) -> float | None:
    if value is None or value is pd.NA:
        return None
    number = float(value)
    return None if math.isnan(number) else number


# ------------------------------------------------------------------------------ formatting
def fmt_count(value: float | None) -> str:
    """1234 → "1,234"; None → "—"."""
    return DASH if value is None else f"{round(value):,}"


def fmt_hours(value: float | None) -> str:
    """Hours with one decimal: 1234.56 → "1,234.6"; None → "—"."""
    return DASH if value is None else f"{value:,.1f}"


def fmt_rate(value: float | None, digits: int = 1) -> str:
    """A fraction as a percentage: 0.4567 → "45.7%"; None → "—"."""
    return DASH if value is None else f"{value * 100:.{digits}f}%"


def fmt_delta(value: float | None, *, points: bool = False) -> str | None:
    """+12.3% (counts) or +1.2 pp (rates); None stays None (st.metric then shows no arrow)."""
    if value is None:
        return None
    return f"{value:+.1f} pp" if points else f"{value:+.1f}%"


__all__ = [
    "DASH",
    "KpiCard",
    "KpiDeltas",
    "KpiSummary",
    "Kpis",
    "Period",
    "channel_comparison",
    "comparison_table",
    "deltas",
    "fmt_count",
    "fmt_delta",
    "fmt_hours",
    "fmt_rate",
    "kpi_summary",
    "kpis_from_sums",
    "pct_change",
    "pp_change",
    "ratio",
]
