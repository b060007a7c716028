"""Dashboard filters: the `Period` of UTC days and the date-range presets (ARCHITECTURE §15)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

CUSTOM = "Custom"
PRESETS: dict[str, int] = {"Last 7 days": 7, "Last 30 days": 30, "Last 90 days": 90}
DEFAULT_PRESET = "Last 30 days"
ALL = "All"


@dataclass(frozen=True, order=True)
class Period:
    """The UTC days [start, end], both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"period starts after it ends: {self.start} > {self.end}")

    @classmethod
    def last_days(cls, days: int, end: date) -> Period:
        """The `days` days ending with `end`."""
        if days < 1:
            raise ValueError("a period has at least one day")
        return cls(end - timedelta(days=days - 1), end)

    @property
    def days(self) -> int:
        """Number of days in the period."""
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The same number of days just before `start`."""
        return Period.last_days(self.days, self.start - timedelta(days=1))

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def __str__(self) -> str:
        return f"{self.start.isoformat()} – {self.end.isoformat()}"


def today_utc() -> date:
    """Today's date in UTC (the pipeline's calendar)."""
    return datetime.now(UTC).date()


def anchor_date(data_through: date | None, today: date | None = None) -> date:
    """The day presets end on: the last day with data, else today (UTC)."""
    return data_through or today or today_utc()


def preset_period(
    preset: str,
    anchor: date,
    custom: tuple[date, date] | None = None,
) -> Period:
    """The period a preset names; `Custom` takes the (start, end) the user picked."""
    if preset in PRESETS:
        return Period.last_days(PRESETS[preset], anchor)
    if preset == CUSTOM:
        if custom is None:
            raise ValueError("a custom range needs a start and an end date")
        start, end = custom
        return Period(min(start, end), max(start, end))
    raise ValueError(f"unknown date preset: {preset!r}")


def optional_filter(value: str | None) -> str | None:
    """A select box's value as a query filter: `All` and blanks mean no filter."""
    if value is None or not str(value).strip() or value == ALL:
        return None
    return str(value)


__all__ = [
    "ALL",
    "CUSTOM",
    "DEFAULT_PRESET",
    "PRESETS",
    "Period",
    "anchor_date",
    "optional_filter",
    "preset_period",
    "today_utc",
]
