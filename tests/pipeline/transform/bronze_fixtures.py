"""Small Bronze fixtures written through the real bronze writer (`pipeline.bronze.BronzeRun`).

`BronzeBuilder` writes part files and a manifest exactly as the ingestion does, so tests see
the real layout. `sample_load` writes a hand-computable day that several tests share.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pipeline.bronze import BronzeRun
from pipeline.storage import LocalStorage

YT, FB, WEB = "gskhw4w4lm", "v08dlrgr7v", "webinar001"


class BronzeBuilder:
    """One ingestion run: add pages, then `complete()`, `fail()` or nothing (killed)."""

    def __init__(
        self, root, load_date: date, run_id: str, started_at: datetime | None = None
    ) -> None:
        self.storage = LocalStorage(root)
        self.run = BronzeRun(self.storage, run_id, load_date)
        self.run.started_at = started_at or datetime(2026, 1, 1, tzinfo=UTC)

    def page(
        self,
        stream: str,
        body: Any,
        *,
        media_id: str | None = None,
        raw: str | None = None,
    ) -> str:
        """Store one response body; `raw` stores text as is (a truncated/malformed body)."""
        text = raw if raw is not None else json.dumps(body)
        data = text.encode()
        try:
            json.loads(text)
            valid = True
        except ValueError:
            valid = False
        key, handle = self.run.open_part(stream)
        with handle as out:
            out.write(data)
        entry: dict[str, Any] = {
            "stream": stream,
            "url": f"http://sim/{stream}",
            "params": {},
            "attempt": 1,
            "started_at": (
                self.run.started_at + timedelta(seconds=len(self.run.entries))
            ).isoformat(timespec="milliseconds"),
            "status": 200,
            "request_id": f"req-{len(self.run.entries)}",
            "part": key,
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "valid": valid,
            "outcome": "ok" if valid else "retry",
            "elapsed_ms": 1.0,
        }
        if media_id:
            entry["media_id"] = media_id
        if valid:
            entry["records"] = len(body) if isinstance(body, list) else 1
        else:
            entry["error"] = "malformed JSON body"
        self.run.record(entry)
        return key

    def complete(self) -> str:
        return self.run.write_manifest("complete", windows={}, media_ids=[])

    def fail(self) -> str:
        return self.run.write_manifest("failed", error="boom", windows={})


def media(hashed_id: str, name: str, duration: float, folder: str = "Marketing") -> dict:
    return {
        "id": zlib.crc32(hashed_id.encode()) % 10**8,
        "hashed_id": hashed_id,
        "name": name,
        "type": "Video",
        "created": "2025-12-01T10:00:00+00:00",
        "updated": "2025-12-02T10:00:00+00:00",
        "duration": duration,
        "description": "",
        "folder": {"id": 7, "name": folder, "hashedId": "fold000001"},
        "status": "ready",
        "archived": False,
    }


def event(
    key: str,
    media_id: str,
    visitor: str,
    received_at: str,
    percent: Any,
    *,
    ip: str = "203.0.113.7",
    source: str = "youtube",
    **extra: Any,
) -> dict:
    body = {
        "received_at": received_at,
        "event_key": key,
        "visitor_key": visitor,
        "embed_url": f"https://www.example.com/landing?utm_source={source}&utm_medium=paid",
        "percent_viewed": percent,
        "ip": ip,
        "org": "Example ISP",
        "country": "US",
        "region": "WA",
        "city": "Seattle",
        "lat": 47.61,
        "lon": -122.33,
        "email": None,
        "media_id": media_id,
        "media_name": f"name of {media_id}",
        "media_url": f"https://acme.wistia.com/medias/{media_id}",
        "user_agent_details": {
            "browser": "Chrome",
            "browser_version": "124",
            "platform": "mac",
            "mobile": False,
        },
        "conversion_type": "",
        "conversion_data": {},
    }
    body.update(extra)
    return body


D1, D2 = date(2026, 5, 1), date(2026, 5, 2)
LOAD = D2


def sample_load(
    root,
    *,
    run_id: str = "20260503T010000Z-aaaaaa",
    load_date: date = LOAD,
    complete: bool = True,
) -> BronzeBuilder:
    """A complete run of load `load_date` covering D1 and D2 (numbers in test_gold.py).

    YT: D1 2 events (v1 0.5, v2 1.0), D2 1 event (v1 0.25); by_date D1 10/2, D2 4/1.
    FB: D1 1 event (v3 0.2, from facebook); by_date D1 5/1, D2 0/0.
    WEB (not in /medias, title from events): D2 1 event (v2 0.1, newsletter, an IPv6 viewer);
    by_date D2 3/1.
    """
    b = BronzeBuilder(root, load_date, run_id, datetime(2026, 5, 3, 1, tzinfo=UTC))
    b.page(
        "medias",
        [
            media(YT, "Chris Face VSL The Gap Method Youtube  Paid Ads", 100.0),
            media(FB, "Chris Face VSL The Gap Method Facebook Paid Ads", 200.0, folder="Ads"),
        ],
    )
    b.page(
        "events",
        [
            event("e1", YT, "v1", "2026-05-01T08:00:00Z", 0.5),
            event("e2", YT, "v2", "2026-05-01T09:00:00Z", 1.0, ip="198.51.100.23"),
        ],
        media_id=YT,
    )
    b.page("events", [event("e3", YT, "v1", "2026-05-02T10:00:00Z", 0.25)], media_id=YT)
    b.page(
        "events",
        [event("e4", FB, "v3", "2026-05-01T23:59:59Z", 0.2, source="facebook")],
        media_id=FB,
    )
    ipv6 = "2001:db8:85a3::8a2e:370:7334"
    b.page(
        "events",
        [event("e5", WEB, "v2", "2026-05-02T00:00:01Z", 0.1, ip=ipv6, source="newsletter")],
        media_id=WEB,
    )
    by_date = {
        YT: [(D1, 10, 2), (D2, 4, 1)],
        FB: [(D1, 5, 1), (D2, 0, 0)],
        WEB: [(D2, 3, 1)],
    }
    for media_id, rows in by_date.items():
        b.page(
            "media_by_date",
            [
                {
                    "date": d.isoformat(),
                    "load_count": loads,
                    "play_count": plays,
                    "hours_watched": plays * 0.01,
                }
                for d, loads, plays in rows
            ],
            media_id=media_id,
        )
    stats = {YT: (100, 40, 0.4, 0.61, 80), FB: (50, 10, 0.2, 0.33, 45), WEB: (3, 1, 0.33, 0.1, 3)}
    for media_id, (loads, plays, rate, engagement, visitors) in stats.items():
        b.page(
            "media_stats",
            {
                "load_count": loads,
                "play_count": plays,
                "play_rate": rate,
                "hours_watched": 1.5,
                "engagement": engagement,
                "visitors": visitors,
                "actions": [],
            },
            media_id=media_id,
        )
        b.page(
            "media_engagement",
            {"engagement": engagement, "engagement_data": [5, 4, 3], "rewatch_data": [0, 1, 0]},
            media_id=media_id,
        )
    if complete:
        b.complete()
    return b
