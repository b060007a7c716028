"""What the pages read, cached: the warehouse once per process, query results for a while.

The warehouse (`services.warehouse.make_warehouse`, from `WVI_WAREHOUSE` / `WVI_DATA_ROOT` /
the Athena settings) is a `st.cache_resource` keyed by those settings. Every query result is a
`st.cache_data` entry keyed by the same settings, the query's name and its arguments, kept
`QUERY_TTL` seconds; `clear_cache()` drops them all when a pipeline run completes. The
settings are part of the keys because the cache is process-wide: two apps (or two tests) on
different data roots must not see each other's numbers. The pipeline control is a
`st.cache_resource` too, keyed by its own settings, so the Admin page's reruns (every
`runs.REFRESH_SECONDS` while a run goes) don't build a new boto3 client each time.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from services import kpis, queries
from services.control import PipelineControl, make_pipeline_control
from services.filters import Period
from services.kpis import KpiSummary
from services.warehouse import DuckDBWarehouse, Warehouse, make_warehouse

QUERY_TTL = 300  # seconds; a completed run clears the cache sooner (Admin page)
WAREHOUSE_ENV = (
    "WVI_WAREHOUSE",
    "WVI_DATA_ROOT",
    "WVI_ATHENA_WORKGROUP",
    "WVI_ATHENA_OUTPUT",
    "WVI_ATHENA_DATABASE",
    "WVI_ATHENA_SILVER_DATABASE",
    "WVI_AWS_REGION",
    "AWS_REGION",
)
CONTROL_ENV = (
    "WVI_ORCHESTRATOR",
    "WVI_GLUE_WORKFLOW",
    "WVI_AWS_REGION",
    "AWS_REGION",
    "WVI_DATA_ROOT",
)
Settings = tuple[tuple[str, str], ...]
WarehouseSettings = Settings

# name → services function taking the warehouse first. Only these run through the cache.
_QUERIES: dict[str, Callable[..., Any]] = {
    "data_range": queries.data_range,
    "media_list": queries.media_list,
    "channel_list": queries.channel_list,
    "kpi_summary": kpis.kpi_summary,
    "channel_comparison": kpis.channel_comparison,
    "media_breakdown": queries.media_breakdown,
    "daily_trend": queries.daily_trend,
    "weekly_trend": queries.weekly_trend,
    "media_daily": queries.media_daily,
    "retention_curve": queries.retention_curve,
    "top_countries": queries.top_countries,
    "devices": queries.devices,
    "latest_media_summary": queries.latest_media_summary,
}


@dataclass(frozen=True)
class DataStatus:
    """Whether there is gold data: its first and last day, or why it can't be read."""

    first: date | None = None
    last: date | None = None
    error: str | None = None

    @property
    def has_data(self) -> bool:
        """True when fact_media_daily has at least one day."""
        return self.error is None and self.last is not None


def _settings(names: tuple[str, ...]) -> Settings:
    return tuple((name, os.environ[name]) for name in names if os.environ.get(name))


def warehouse_settings() -> WarehouseSettings:
    """The environment variables that choose the warehouse, as a hashable cache key."""
    return _settings(WAREHOUSE_ENV)


@st.cache_resource(show_spinner=False)
def _warehouse(settings: WarehouseSettings) -> Warehouse:
    return make_warehouse(dict(settings), load_in_background=True, snapshot=True)


def warehouse() -> Warehouse:
    """The process's warehouse for the current settings."""
    return _warehouse(warehouse_settings())


def load_at_server_start(timeout: float) -> str:
    """Create the warehouse, have it watch for new gold, and wait up to `timeout` seconds for
    its tables (Home.py, before the server takes visitors): the first sign-in then finds them
    loaded. Returns what happened, in words, for the server log; a configuration error is
    left for `status()`."""
    started = time.monotonic()
    try:
        current = warehouse()
    except Exception as exc:
        return f"dashboard data not loaded: {' '.join(str(exc).split())}"
    if not isinstance(current, DuckDBWarehouse):  # Athena: nothing to load
        return "dashboard data: queried where it lives"
    current.watch()  # the gold a run writes is loaded before anyone asks for it
    if not current.wait_until_loaded(timeout):
        return f"dashboard data still loading after {timeout:g} s; serving meanwhile"
    if current.load_error:  # the sessions' queries try again, and say so if it fails
        return f"dashboard data not loaded: {current.load_error}"
    return f"dashboard data loaded in {time.monotonic() - started:.1f} s"


def stop_at_server_end() -> None:
    """Stop the warehouse's watching thread (Home.py, when the server stops), after a refresh
    it is making: not cut short in DuckDB by the interpreter's exit."""
    with contextlib.suppress(Exception):  # no warehouse could be made: nothing to stop
        current = warehouse()
        if isinstance(current, DuckDBWarehouse):
            current.stop_watching()


def preload() -> None:
    """Start loading the warehouse if nothing has (the login form shows meanwhile; queries
    wait for it): where the server's start-up did not (AppTest, an app mounted in another
    ASGI server). A configuration error is left for `status()` to report once someone is
    signed in.
    """
    with contextlib.suppress(Exception):
        warehouse()


@st.cache_data(ttl=QUERY_TTL, show_spinner=False, max_entries=1024)
def _cached(settings: WarehouseSettings, name: str, args: tuple[Any, ...]) -> Any:
    return _QUERIES[name](_warehouse(settings), *args)


def _query(name: str, *args: Any) -> Any:
    return _cached(warehouse_settings(), name, args)


def clear_cache() -> None:
    """Re-read the gold tables, then forget every cached result (after a pipeline run): in
    that order, no query can cache results of tables half reloaded."""
    with contextlib.suppress(Exception):  # a broken configuration is reported by `status()`
        warehouse().refresh()
    _cached.clear()


def status() -> DataStatus:
    """The gold data's date range, or the error that keeps it from being read."""
    try:
        first, last = _query("data_range")
    except Exception as exc:  # misconfigured warehouse, unreadable files: say so, don't crash
        return DataStatus(error=" ".join(str(exc).split()) or type(exc).__name__)
    return DataStatus(first, last)


# ------------------------------------------------------------------------------ lists
def media_list() -> pd.DataFrame:
    """dim_media: media_id, title, channel, url, duration_seconds, created_at, folder_name."""
    return _query("media_list")


def channel_list() -> list[str]:
    """The channels media are assigned to, sorted."""
    return _query("channel_list")


# ------------------------------------------------------------------------------ KPIs
def kpi_summary(
    period: Period, channel: str | None = None, media_id: str | None = None
) -> KpiSummary:
    """The period's KPIs, the previous period's and the deltas (§9)."""
    return _query("kpi_summary", period, channel, media_id)


def channel_comparison(period: Period, channels: tuple[str, ...]) -> dict[str, KpiSummary]:
    """A KpiSummary per channel, in the order given."""
    return _query("channel_comparison", period, channels)


# ------------------------------------------------------------------------------ series
def media_breakdown(period: Period, channel: str | None = None) -> pd.DataFrame:
    """Per media: plays, loads, hours, play_rate, unique_visitors, engagement."""
    return _query("media_breakdown", period, channel)


def trend(
    period: Period, grain: str = "daily", channel: str | None = None, media_id: str | None = None
) -> pd.DataFrame:
    """Per day (`date`) or per ISO week (`week`): the KPI columns."""
    name = "weekly_trend" if grain == "weekly" else "daily_trend"
    return _query(name, period, channel, media_id)


def media_daily(media_id: str, period: Period) -> pd.DataFrame:
    """One media's days: date, loads, plays, play_rate, hours, unique_visitors, engagement."""
    return _query("media_daily", media_id, period)


def retention_curve(media_id: str, period: Period) -> tuple[pd.DataFrame, str]:
    """(curve, source) with source `wistia`, `watched_percent` or `none`."""
    return _query("retention_curve", media_id, period)


def top_countries(period: Period, media_id: str, limit: int = 10) -> pd.DataFrame:
    """country, visitors, plays for one media."""
    return _query("top_countries", period, media_id, limit)


def devices(period: Period, media_id: str) -> pd.DataFrame:
    """device (Desktop/Mobile), visitors, plays for one media."""
    return _query("devices", period, media_id)


def latest_media_summary(media_id: str) -> pd.DataFrame:
    """The media's latest lifetime snapshot (media_metrics_summary)."""
    return _query("latest_media_summary", media_id)


# ------------------------------------------------------------------------------ runs
@st.cache_resource(show_spinner=False)
def _pipeline_control(settings: Settings) -> PipelineControl:
    # Built from the key alone, so the cached object matches its key. A configuration error
    # raises here and is not cached: the Admin page reports it, the next rerun tries again.
    return make_pipeline_control(dict(settings))


def pipeline_control() -> PipelineControl:
    """The configured pipeline control (`WVI_ORCHESTRATOR`, local by default), one per
    process and settings."""
    return _pipeline_control(_settings(CONTROL_ENV))


__all__ = [
    "QUERY_TTL",
    "DataStatus",
    "channel_comparison",
    "channel_list",
    "clear_cache",
    "devices",
    "kpi_summary",
    "latest_media_summary",
    "media_breakdown",
    "media_daily",
    "media_list",
    "pipeline_control",
    "preload",
    "retention_curve",
    "status",
    "top_countries",
    "trend",
    "warehouse",
    "warehouse_settings",
]
