"""JSON shapes of the simulator: event records and media records (modern and v1)."""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from pipeline.simulator.hashing import salt

if TYPE_CHECKING:
    from pipeline.simulator.account import MediaDay, SyntheticAccount
    from pipeline.simulator.catalog import Media

_EPOCH_ORD = date(1970, 1, 1).toordinal()
_DAY_MS = 86_400_000
ACCOUNT_URL = "https://gapmethod.wistia.com"
DELIVERIES = "https://embed-ssl.wistia.com/deliveries"
HEATMAP_BASE = "https://api.wistia.com/v1/stats/events/"


@lru_cache(maxsize=64)
def _public_token(seed: int) -> str:
    return f"{salt(seed, 0x7075):016x}"


def _gather(mi: np.ndarray, ei: np.ndarray, days: dict[int, MediaDay]) -> dict[str, np.ndarray]:
    """Per-event columns for (media index, event index) pairs spread over several medias."""
    n = mi.size
    cols = {
        "ms": np.empty(n, np.int64),
        "visitor": np.empty(n, np.int64),
        "pv": np.empty(n, np.float64),
        "page": np.empty(n, np.int64),
        "digits": np.empty(n, np.int64),
        "conv": np.empty(n, bool),
    }
    for m, md in days.items():
        mask = mi == m
        sub = ei[mask]
        for name, col in cols.items():
            col[mask] = getattr(md, name)[sub]
    return cols


class _MediaJson(NamedTuple):
    """Pre-serialised JSON pieces of one media's events."""

    media: str  # ,"media_id":..,"media_name":..,"media_url":..
    thumbnail: str  # ,"thumbnail":{...}
    pages: list[str]  # embed_url values, JSON-encoded


class _VisitorJson(NamedTuple):
    """Pre-serialised JSON pieces of one visitor's events."""

    key: str  # "visitor_key":".."
    geo: str  # ,"ip":..,"org":..,"country":..,"region":..,"city":..,"lat":..,"lon":..
    email: str  # the identity email, JSON-encoded
    agent: str  # ,"user_agent_details":{...}} (closes the event object)
    known: bool  # the email is known without a conversion
    identity: tuple[str, str, str]  # email, first name, last name: for conversion_data


_ENCODER = json.JSONEncoder(separators=(",", ":"))  # reused: json.dumps(...) builds one per call
_dumps = _ENCODER.encode
_str = json.encoder.encode_basestring_ascii  # a quoted JSON string, as json.dumps writes it


class EventWriter:
    """Writes /stats/events items as JSON text, from cached per-media and per-visitor pieces.

    Building the text directly is several times faster than building dicts and encoding
    them, which matters when a client pulls thousands of pages. The dict form used by the
    Python API is parsed from this text, so the two can never disagree.
    """

    def __init__(self, account: SyntheticAccount, cache_size: int = 50_000) -> None:
        self.account = account
        self._medias = [self._media_json(m) for m in account.medias]
        self._visitors: dict[int, _VisitorJson] = {}
        self._cache_size = cache_size
        self._heatmap = f"/iframe.html?public_token={_public_token(account.seed)}"

    @staticmethod
    def _media_json(media: Media) -> _MediaJson:
        fields = {
            "media_id": media.hashed_id,
            "media_name": media.name,
            "media_url": f"{ACCOUNT_URL}/medias/{media.hashed_id}",
        }
        return _MediaJson(
            media="," + _dumps(fields)[1:-1],
            thumbnail=',"thumbnail":' + _dumps(event_thumbnail(media)),
            pages=[_dumps(url) for url in media.pages],
        )

    def _visitors_json(self, idx: list[int]) -> list[_VisitorJson]:
        cache = self._visitors
        missing = sorted({i for i in idx if i not in cache})
        if missing:
            fresh = self.account.visitors.rows(np.array(missing, dtype=np.int64))
            if len(cache) + len(missing) > self._cache_size:
                cache.clear()  # a crude bound; rebuilding a visitor is cheap
            cache.update(zip(missing, map(_visitor_json, fresh), strict=True))
        return [cache.get(i) or self._visitors_json([i])[0] for i in idx]

    def day(self, o: int, mi: np.ndarray, ei: np.ndarray, days: dict[int, MediaDay]) -> list[str]:
        """JSON text of the events (media index, event index pairs) of day ordinal `o`."""
        cols = _gather(mi, ei, days)
        people = self._visitors_json(cols["visitor"].tolist())
        day_ms = (o - _EPOCH_ORD) * _DAY_MS
        day_str = date.fromordinal(o).isoformat()
        heatmap = self._heatmap
        rows = zip(
            mi.tolist(),
            cols["ms"].tolist(),
            cols["digits"].tolist(),
            cols["pv"].tolist(),
            cols["page"].tolist(),
            cols["conv"].tolist(),
            people,
            strict=True,
        )
        out = []
        for m, ms, digits, pv, page, conv, who in rows:
            media = self._medias[m]
            key = f"{day_ms + ms}e0.{digits:016d}"
            s = ms // 1000
            if conv:
                conversion = ',"conversion_type":"pre-roll email","conversion_data":'
                conversion += _conversion(who)
            else:
                conversion = ',"conversion_type":"","conversion_data":{}'
            out.append(
                f'{{"received_at":"{day_str}T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}Z"'
                f',"event_key":"{key}",{who.key},"embed_url":{media.pages[page]}'
                f',"percent_viewed":{pv!r}{who.geo}'
                f',"email":{who.email if (who.known or conv) else "null"}{media.media}'
                f',"iframe_heatmap_url":"{HEATMAP_BASE}{key}{heatmap}"'
                f"{media.thumbnail}{conversion}{who.agent}"
            )
        return out


def _visitor_json(row: tuple[Any, ...]) -> _VisitorJson:
    (vkey, ip, org, country, region, city, lat, lon, browser, version, platform, mobile,
     email, first, last, known) = row  # fmt: skip
    # f-strings with the C string escaper: several times faster than encoding dicts.
    geo = (
        f',"ip":{_str(ip)},"org":{_str(org)},"country":{_str(country)}'
        f',"region":{_str(region)},"city":{_str(city)},"lat":{lat!r},"lon":{lon!r}'
    )
    agent = (
        f',"user_agent_details":{{"browser":{_str(browser)},"browser_version":{_str(version)}'
        f',"platform":{_str(platform)},"mobile":{"true" if mobile else "false"}}}}}'
    )
    return _VisitorJson(
        key=f'"visitor_key":{_str(vkey)}',
        geo=geo,
        email=_str(email),
        agent=agent,
        known=known,
        identity=(email, first, last),
    )


def _conversion(who: _VisitorJson) -> str:
    email, first, last = who.identity
    data = {
        "email": email,
        "first_name": first.title(),
        "last_name": last.title(),
        "is_new_lead": not who.known,  # a known visitor converting again is not a new lead
    }
    return _dumps(data)


def event_thumbnail(media: Media) -> dict[str, Any]:
    """The camelCase thumbnail object carried by every event."""
    return {
        "url": f"{DELIVERIES}/{media.asset_key}.jpg",
        "width": 1920,
        "height": 1080,
        "fileSize": 40_000 + int(media.asset_key[:4], 16),
        "contentType": "image/jpeg",
        "type": "StillImageFile",
    }


def _assets(media: Media, camel: bool) -> list[dict[str, Any]]:
    size_key, type_key = ("fileSize", "contentType") if camel else ("file_size", "content_type")
    specs = (
        ("OriginalFile", "bin", 1920, 1080, 2_000_000, "video/mp4"),
        ("Mp4VideoFile", "bin", 1280, 720, 700_000, "video/mp4"),
        ("StillImageFile", "jpg", 1920, 1080, 0, "image/jpeg"),
    )
    return [
        {
            "url": f"{DELIVERIES}/{media.asset_key[:20]}{i}.{ext}",
            "width": width,
            "height": height,
            size_key: int(media.duration * per_second) + 40_000,
            type_key: content_type,
            "type": kind,
        }
        for i, (kind, ext, width, height, per_second, content_type) in enumerate(specs)
    ]


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def media_record(
    account: SyntheticAccount,
    media: Media,
    flavor: str,
    folder_key: str = "hashedId",
    show: bool = False,
) -> dict[str, Any]:
    """A media as /medias returns it: modern (`folder`, tags, snake_case assets) or v1
    (`project` with `hashed_id`, camelCase assets, tags on show only)."""
    record: dict[str, Any] = {
        "id": media.id,
        "name": media.name,
        "type": "Video",
        "archived": False,
        "created": _iso(media.created_at),
        "updated": _iso(account.updated_at(media)),
        "duration": media.duration,
        "hashed_id": media.hashed_id,
        "description": media.description,
        "progress": 1.0,
        "status": "ready",
        "thumbnail": {
            "url": f"{DELIVERIES}/{media.asset_key}.jpg?image_crop_resized=200x120",
            "width": 200,
            "height": 120,
        },
    }
    folder = media.folder
    if flavor == "v1":
        record["project"] = {"id": folder.id, "name": folder.name, "hashed_id": folder.hashed_id}
        record["assets"] = _assets(media, camel=True)
    else:
        record["folder"] = {"id": folder.id, "name": folder.name, folder_key: folder.hashed_id}
        record["assets"] = _assets(media, camel=False)
    if flavor != "v1" or show:
        record["tags"] = [{"name": tag} for tag in media.tags]
    return record
