"""The five Wistia streams, declared as data (ARCHITECTURE §5).

A stream says where its records come from and how they are keyed; the ingestion engine
(`pipeline.ingest`) reads these declarations and knows nothing stream-specific beyond them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Literal

PER_PAGE = 100


@dataclass(frozen=True)
class Stream:
    """One Wistia endpoint and how to pull it.

    `scope` is "account" (one request sequence per run) or "media" (one per media; `{media_id}`
    in `path` or `params` is replaced by the media's hashed id). `windowed` streams send
    `start_date`/`end_date` of the run window and keep a per-media date watermark.
    """

    name: str
    path: str
    scope: Literal["account", "media"]
    primary_key: tuple[str, ...]
    paginated: bool = False
    windowed: bool = False
    params: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # For account lists sorted newest-updated first: stop once records are older than this.
    bookmark_field: str | None = None

    def request_path(self, media_id: str | None = None) -> str:
        return self.path.format(media_id=media_id) if media_id else self.path

    def request_params(
        self,
        media_id: str | None = None,
        window: tuple[date, date] | None = None,
        page: int | None = None,
    ) -> dict[str, str | int]:
        params: dict[str, str | int] = {
            k: v.format(media_id=media_id) if media_id else v for k, v in self.params.items()
        }
        if self.windowed and window:
            params["start_date"] = window[0].isoformat()
            params["end_date"] = window[1].isoformat()
        if self.paginated:
            params["page"] = page or 1
            params["per_page"] = PER_PAGE
        return params


MEDIAS = Stream(
    name="medias",
    path="/medias",
    scope="account",
    primary_key=("hashed_id",),
    paginated=True,
    params=MappingProxyType({"sort_by": "updated", "sort_direction": "0"}),
    bookmark_field="updated",
)
MEDIA_STATS = Stream(
    name="media_stats",
    path="/stats/medias/{media_id}",
    scope="media",
    primary_key=("media_id", "load_date"),
)
MEDIA_BY_DATE = Stream(
    name="media_by_date",
    path="/stats/medias/{media_id}/by_date",
    scope="media",
    primary_key=("media_id", "date"),
    windowed=True,
)
EVENTS = Stream(
    name="events",
    path="/stats/events",
    scope="media",
    primary_key=("event_key",),
    paginated=True,
    windowed=True,
    params=MappingProxyType({"media_id": "{media_id}"}),
)
MEDIA_ENGAGEMENT = Stream(
    name="media_engagement",
    path="/stats/medias/{media_id}/engagement",
    scope="media",
    primary_key=("media_id", "load_date"),
)

STREAMS: Mapping[str, Stream] = MappingProxyType(
    {s.name: s for s in (MEDIAS, MEDIA_STATS, MEDIA_BY_DATE, EVENTS, MEDIA_ENGAGEMENT)}
)
# The slowest (paginated) media streams first so they start while the pool is empty.
MEDIA_STREAMS: tuple[Stream, ...] = (EVENTS, MEDIA_BY_DATE, MEDIA_STATS, MEDIA_ENGAGEMENT)
