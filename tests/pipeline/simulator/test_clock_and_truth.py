"""Moving the clock (late events, new medias), 2-year retention, and the truth file."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import requests

from pipeline.simulator import RETENTION_DAYS, SimulatorServer, SyntheticAccount, write_truth

from .conftest import SMALL, TODAY, fetch_all_events, session_for, small_config


def _by_date(http: requests.Session, sim: SimulatorServer, media: str, day: date) -> dict:
    url = f"{sim.base_url}/stats/medias/{media}/by_date"
    (row,) = http.get(url, params={"start_date": str(day), "end_date": str(day)}).json()
    return row


def test_moving_the_clock_brings_late_events() -> None:
    yesterday = TODAY - timedelta(days=1)
    window = {"start_date": str(yesterday), "end_date": str(yesterday)}
    with SimulatorServer(small_config(daily_plays=60.0)) as sim, session_for() as http:
        before = _by_date(http, sim, "gskhw4w4lm", yesterday)
        keys_before = {
            e["event_key"] for p in fetch_all_events(http, sim.base_url, **window) for e in p
        }
        truth_before = sim.account.truth(yesterday, yesterday)
        later = str(TODAY + timedelta(days=2))
        moved = requests.post(f"{sim.root_url}/__sim/clock", json={"today": later})
        assert moved.json() == {"today": later}
        after = _by_date(http, sim, "gskhw4w4lm", yesterday)
        keys_after = {
            e["event_key"] for p in fetch_all_events(http, sim.base_url, **window) for e in p
        }
        assert keys_before < keys_after
        assert after["play_count"] > before["play_count"]
        assert after["play_count"] <= after["load_count"]
        truth_after = sim.account.truth(yesterday, yesterday)
        rows = {r["media_id"]: r for r in truth_after["media_daily"]}
        assert rows["gskhw4w4lm"]["play_count"] == after["play_count"]
        assert rows["gskhw4w4lm"]["hours_watched"] == after["hours_watched"]
        assert sum(r["play_count"] for r in truth_after["media_daily"]) == len(keys_after)
        assert sum(r["play_count"] for r in truth_before["media_daily"]) == len(keys_before)
        # The new days exist now, and the default by_date window follows the clock.
        default = http.get(f"{sim.base_url}/stats/medias/gskhw4w4lm/by_date").json()
        assert [r["date"] for r in default] == [str(TODAY + timedelta(days=1)), later]
        sim.set_today(TODAY)
        assert _by_date(http, sim, "gskhw4w4lm", yesterday) == before


def test_medias_appear_when_their_creation_day_comes() -> None:
    with SimulatorServer(small_config()) as sim, session_for() as http:
        newest = sim.account.medias[-1]
        assert newest.created == TODAY - timedelta(days=1)
        sim.set_today(TODAY - timedelta(days=2))
        ids = {m["hashed_id"] for m in http.get(f"{sim.base_url}/medias").json()}
        assert newest.hashed_id not in ids and "gskhw4w4lm" in ids
        assert http.get(f"{sim.base_url}/medias/{newest.hashed_id}").status_code == 404
        sim.set_today(TODAY)
        ids = {m["hashed_id"] for m in http.get(f"{sim.base_url}/medias").json()}
        assert newest.hashed_id in ids


def test_bad_clock_request_is_400(sim: SimulatorServer) -> None:
    assert requests.post(f"{sim.root_url}/__sim/clock", json={"today": "soon"}).status_code == 400
    assert requests.get(f"{sim.root_url}/__sim/clock").json() == {"today": str(TODAY)}


def test_events_older_than_two_years_are_never_returned() -> None:
    config = small_config(medias=2, days=760, daily_plays=1.0)
    oldest_allowed = TODAY - timedelta(days=RETENTION_DAYS)
    with SimulatorServer(config) as sim, session_for() as http:
        old = {"start_date": str(TODAY - timedelta(days=759)), "end_date": str(oldest_allowed)}
        events = [e for p in fetch_all_events(http, sim.base_url, **old) for e in p]
        assert events and min(e["received_at"][:10] for e in events) == str(oldest_allowed)
        # Aggregates have no such cap: by_date still reports the older days.
        rows = http.get(
            f"{sim.base_url}/stats/medias/gskhw4w4lm/by_date",
            params={"start_date": old["start_date"], "end_date": str(oldest_allowed)},
        ).json()
        assert sum(r["play_count"] for r in rows) > sum(
            e["media_id"] == "gskhw4w4lm" for e in events
        )
        ancient = events[-1]["event_key"]
        sim.set_today(TODAY + timedelta(days=1))  # that day just fell out of retention
        assert http.get(f"{sim.base_url}/stats/events/{ancient}").status_code == 404


def test_write_truth_streams_the_same_document(tmp_path: Path) -> None:
    account = SyntheticAccount(**SMALL)
    start, end = TODAY - timedelta(days=6), TODAY - timedelta(days=2)
    path = write_truth(account, tmp_path / "deep" / "truth.json", start, end)
    written = json.loads(path.read_text())
    assert written == json.loads(json.dumps(account.truth(start, end)))
    assert written["params"] == {
        "seed": 7, "medias": 5, "days": 30, "today": str(TODAY), "daily_plays": 12.0,
    }  # fmt: skip
    assert set(written) == {"params", "medias", "media_daily", "media_lifetime"}
    assert {r["date"] for r in written["media_daily"]} == {
        str(start + timedelta(days=i)) for i in range(5)
    }
    assert set(written["media_daily"][0]) == {
        "media_id", "date", "load_count", "play_count", "hours_watched", "unique_visitors",
        "sum_percent_viewed", "count_percent_viewed",
    }  # fmt: skip
    assert [m["media_id"] for m in written["medias"]][:2] == ["gskhw4w4lm", "v08dlrgr7v"]


def test_truth_covers_each_media_from_its_creation() -> None:
    account = SyntheticAccount(**SMALL)
    truth = account.truth()
    for media in account.medias:
        rows = [r for r in truth["media_daily"] if r["media_id"] == media.hashed_id]
        assert rows[0]["date"] == str(media.created) and rows[-1]["date"] == str(TODAY)
        life = next(r for r in truth["media_lifetime"] if r["media_id"] == media.hashed_id)
        assert life["play_count"] == sum(r["play_count"] for r in rows)
        assert life["count_percent_viewed"] == life["play_count"]
