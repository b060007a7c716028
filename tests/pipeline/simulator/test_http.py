"""The simulator over real HTTP: routes, consistency, pagination, errors, determinism."""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from datetime import timedelta

import pytest
import requests

from pipeline.simulator import SimulatorServer

from .conftest import TODAY, fetch_all_events, session_for, small_config

WINDOW = {"start_date": (TODAY - timedelta(days=9)).isoformat(), "end_date": TODAY.isoformat()}


def _get(http: requests.Session, url: str, **params: object) -> requests.Response:
    response = http.get(url, params=params)
    assert response.status_code == 200, response.text
    return response


def test_every_response_carries_a_request_id(sim: SimulatorServer, http: requests.Session) -> None:
    for url in (f"{sim.base_url}/medias", f"{sim.base_url}/stats/medias/nope", f"{sim.root_url}/x"):
        uuid.UUID(http.get(url).headers["x-request-id"])
    uuid.UUID(requests.get(f"{sim.base_url}/medias").headers["x-request-id"])


def test_same_seed_same_bytes(sim: SimulatorServer, http: requests.Session) -> None:
    paths = [
        "/medias",
        "/medias/gskhw4w4lm",
        "/stats/medias/gskhw4w4lm",
        "/stats/medias/v08dlrgr7v/by_date?start_date=2026-05-01&end_date=2026-05-20",
        "/stats/medias/gskhw4w4lm/engagement",
        "/stats/events?page=3&per_page=100",
    ]
    with SimulatorServer(small_config()) as twin:
        for path in paths:
            assert http.get(sim.base_url + path).content == http.get(twin.base_url + path).content


def test_medias_list_paging_and_sorting(sim: SimulatorServer, http: requests.Session) -> None:
    medias = _get(http, f"{sim.base_url}/medias").json()
    assert isinstance(medias, list) and len(medias) == 5
    assert [m["created"] for m in medias] == sorted(m["created"] for m in medias)
    by_updated = _get(http, f"{sim.base_url}/medias", sort_by="updated", sort_direction=0).json()
    assert [m["updated"] for m in by_updated] == sorted(
        (m["updated"] for m in medias), reverse=True
    )
    assert all(m["updated"] >= m["created"] and m["updated"][:10] <= str(TODAY) for m in medias)
    pages = [_get(http, f"{sim.base_url}/medias", page=p, per_page=2).json() for p in (1, 2, 3, 4)]
    assert [len(p) for p in pages] == [2, 2, 1, 0]
    assert [m["hashed_id"] for p in pages for m in p] == [m["hashed_id"] for m in medias]
    assert http.get(f"{sim.base_url}/medias", params={"sort_by": "bogus"}).status_code == 400


def test_modern_and_v1_media_shapes(sim: SimulatorServer, http: requests.Session) -> None:
    modern = _get(http, f"{sim.base_url}/medias/gskhw4w4lm").json()
    v1 = _get(http, f"{sim.root_url}/v1/medias/gskhw4w4lm.json").json()
    assert modern["name"] == v1["name"] == "Chris Face VSL The Gap Method Youtube  Paid Ads"
    assert set(modern["folder"]) == {"id", "name", "hashedId"} and "project" not in modern
    assert set(v1["project"]) == {"id", "name", "hashed_id"} and "folder" not in v1
    assert {"file_size", "content_type"} <= set(modern["assets"][0])
    assert {"fileSize", "contentType"} <= set(v1["assets"][0])
    assert "tags" in modern and "tags" in v1
    assert "tags" not in _get(http, f"{sim.root_url}/v1/medias.json").json()[0]
    assert "section" not in modern
    with SimulatorServer(small_config(folder_key="hashed_id")) as other:
        folder = _get(http, f"{other.base_url}/medias").json()[0]["folder"]
        assert set(folder) == {"id", "name", "hashed_id"}


def test_v1_routes_match_modern_stats(sim: SimulatorServer, http: requests.Session) -> None:
    for path in ("/stats/medias/gskhw4w4lm", "/stats/medias/gskhw4w4lm/by_date"):
        modern = _get(http, sim.base_url + path).content
        assert _get(http, f"{sim.root_url}/v1{path}.json").content == modern
        assert _get(http, f"{sim.root_url}/v1{path}").content == modern
    events = _get(http, f"{sim.root_url}/v1/stats/events.json", per_page=5).json()
    assert events == _get(http, f"{sim.base_url}/stats/events", per_page=5).json()


def test_media_ids_accept_numeric_ids(sim: SimulatorServer, http: requests.Session) -> None:
    numeric = sim.account.medias[0].id
    assert (
        _get(http, f"{sim.base_url}/stats/medias/{numeric}").content
        == _get(http, f"{sim.base_url}/stats/medias/gskhw4w4lm").content
    )


def test_unknown_media_is_404(sim: SimulatorServer, http: requests.Session) -> None:
    for path in ("/medias/zzzzzzzzzz", "/stats/medias/zzzzzzzzzz", "/stats/medias/1/by_date",
                 "/stats/medias/zzzzzzzzzz/engagement"):  # fmt: skip
        response = http.get(sim.base_url + path)
        assert response.status_code == 404
        assert response.json() == {"error": "Media not found"}
    assert http.get(f"{sim.base_url}/no/such/route").status_code == 404


def test_bad_event_dates_are_422(sim: SimulatorServer, http: requests.Session) -> None:
    for params in ({"start_date": "yesterday"}, {"end_date": "2026-13-01"}, {"page": "x"}):
        response = http.get(f"{sim.base_url}/stats/events", params=params)
        assert response.status_code == 422
        assert set(response.json()) == {"error"}


def test_by_date_defaults_to_yesterday_and_today(
    sim: SimulatorServer, http: requests.Session
) -> None:
    rows = _get(http, f"{sim.base_url}/stats/medias/gskhw4w4lm/by_date").json()
    assert [r["date"] for r in rows] == [str(TODAY - timedelta(days=1)), str(TODAY)]
    assert set(rows[0]) == {"date", "load_count", "play_count", "hours_watched"}


def test_by_date_zero_fills_and_is_ascending(sim: SimulatorServer, http: requests.Session) -> None:
    newest = sim.account.medias[-1]  # created yesterday
    rows = _get(
        http,
        f"{sim.base_url}/stats/medias/{newest.hashed_id}/by_date",
        start_date=str(TODAY - timedelta(days=6)),
        end_date=str(TODAY),
    ).json()
    assert [r["date"] for r in rows] == [str(TODAY - timedelta(days=6 - i)) for i in range(7)]
    assert rows[0] == {
        "date": rows[0]["date"],
        "load_count": 0,
        "play_count": 0,
        "hours_watched": 0.0,
    }
    assert rows[-1]["play_count"] > 0


def test_by_date_play_count_equals_events_per_day(
    sim: SimulatorServer, http: requests.Session
) -> None:
    for media in sim.account.medias:
        rows = _get(http, f"{sim.base_url}/stats/medias/{media.hashed_id}/by_date", **WINDOW).json()
        pages = fetch_all_events(http, sim.base_url, media_id=media.hashed_id, **WINDOW)
        events = [e for page in pages for e in page]
        per_day = Counter(
            e["received_at"][:10] for e in {e["event_key"]: e for e in events}.values()
        )
        for row in rows:
            assert row["play_count"] == per_day.get(row["date"], 0)
            assert row["play_count"] <= row["load_count"]


def test_lifetime_stats_are_sums_of_days(sim: SimulatorServer, http: requests.Session) -> None:
    media = sim.account.medias[0]
    stats = _get(http, f"{sim.base_url}/stats/medias/{media.hashed_id}").json()
    rows = _get(
        http,
        f"{sim.base_url}/stats/medias/{media.hashed_id}/by_date",
        start_date=str(media.created),
        end_date=str(TODAY),
    ).json()
    hours = 0.0
    for row in rows:
        hours += row["hours_watched"]
    assert stats["play_count"] == sum(r["play_count"] for r in rows)
    assert stats["load_count"] == sum(r["load_count"] for r in rows)
    assert stats["hours_watched"] == hours
    assert stats["play_rate"] == round(stats["play_count"] / stats["load_count"], 2)
    assert 0 <= stats["engagement"] <= 1 and stats["actions"] == []
    assert stats["visitors"] <= stats["play_count"]


def test_engagement_curve(sim: SimulatorServer, http: requests.Session) -> None:
    for media in sim.account.medias:
        body = _get(http, f"{sim.base_url}/stats/medias/{media.hashed_id}/engagement").json()
        stats = _get(http, f"{sim.base_url}/stats/medias/{media.hashed_id}").json()
        curve = body["engagement_data"]
        assert len(curve) == len(body["rewatch_data"]) == min(-int(-media.duration // 1), 1000)
        assert curve[0] == stats["play_count"]
        assert all(a >= b for a, b in itertools.pairwise(curve))
        assert all(isinstance(x, int) and x >= 0 for x in curve + body["rewatch_data"])
        assert body["engagement"] == stats["engagement"]


def test_truth_equals_what_the_endpoints_return(
    sim: SimulatorServer, http: requests.Session
) -> None:
    truth = sim.account.truth()
    assert truth["params"]["today"] == str(TODAY)
    daily = {(r["media_id"], r["date"]): r for r in truth["media_daily"]}
    for media in truth["medias"]:
        mid = media["media_id"]
        rows = _get(
            http,
            f"{sim.base_url}/stats/medias/{mid}/by_date",
            start_date=media["created"][:10],
            end_date=str(TODAY),
        ).json()
        for row in rows:
            expected = daily[(mid, row["date"])]
            assert row["hours_watched"] == expected["hours_watched"]  # bit for bit
            assert (row["load_count"], row["play_count"]) == (
                expected["load_count"],
                expected["play_count"],
            )
    for life in truth["media_lifetime"]:
        stats = _get(http, f"{sim.base_url}/stats/medias/{life['media_id']}").json()
        assert stats["hours_watched"] == life["hours_watched"]
        assert stats["visitors"] == life["unique_visitors"]
        assert (stats["load_count"], stats["play_count"]) == (
            life["load_count"],
            life["play_count"],
        )


def test_events_pagination(sim: SimulatorServer, http: requests.Session) -> None:
    pages = fetch_all_events(http, sim.base_url, **WINDOW)
    assert all(len(p) == 100 for p in pages[:-1]) and 0 < len(pages[-1]) <= 100
    events = [e for page in pages for e in page]
    expected = list(sim.account.iter_events(None, TODAY - timedelta(days=9), TODAY))
    assert [e["event_key"] for e in events] == [e["event_key"] for e in expected]
    assert events == expected
    stamps = [e["received_at"] for e in events]
    assert stamps == sorted(stamps, reverse=True)
    past_end = _get(http, f"{sim.base_url}/stats/events", page=len(pages) + 5, **WINDOW)
    assert past_end.json() == []


def test_per_page_is_clamped_to_100(sim: SimulatorServer, http: requests.Session) -> None:
    assert len(_get(http, f"{sim.base_url}/stats/events", per_page=500).json()) == 100
    assert len(_get(http, f"{sim.base_url}/stats/events").json()) == 100
    assert len(_get(http, f"{sim.base_url}/stats/events", per_page=7).json()) == 7


def test_small_pages_see_the_same_list(sim: SimulatorServer, http: requests.Session) -> None:
    day = {"start_date": str(TODAY - timedelta(days=2)), "end_date": str(TODAY - timedelta(days=1))}
    big = [e for p in fetch_all_events(http, sim.base_url, **day) for e in p]
    small = [e for p in fetch_all_events(http, sim.base_url, per_page=13, **day) for e in p]
    assert [e["event_key"] for e in small] == [e["event_key"] for e in big]
    assert {e["received_at"][:10] for e in big} == {day["start_date"], day["end_date"]}


def test_event_filters(sim: SimulatorServer, http: requests.Session) -> None:
    media = sim.account.medias[1]
    events = _get(http, f"{sim.base_url}/stats/events", media_id=media.hashed_id, **WINDOW).json()
    assert {e["media_id"] for e in events} == {media.hashed_id}
    visitor = Counter(
        e["visitor_key"] for p in fetch_all_events(http, sim.base_url, **WINDOW) for e in p
    ).most_common(1)[0]
    mine = _get(http, f"{sim.base_url}/stats/events", visitor_key=visitor[0], **WINDOW).json()
    assert len(mine) == min(visitor[1], 100) and {e["visitor_key"] for e in mine} == {visitor[0]}
    assert _get(http, f"{sim.base_url}/stats/events", visitor_key="ABC").json() == []
    assert _get(http, f"{sim.base_url}/stats/events", media_id="zzzzzzzzzz").json() == []
    key = events[3]["event_key"]
    assert _get(http, f"{sim.base_url}/stats/events/{key}").json() == events[3]
    assert http.get(f"{sim.base_url}/stats/events/{key[:-1]}9").status_code in (200, 404)


def test_account_stats_sum_the_medias(sim: SimulatorServer, http: requests.Session) -> None:
    total = _get(http, f"{sim.base_url}/stats/account").json()
    plays = sum(
        _get(http, f"{sim.base_url}/stats/medias/{m.hashed_id}").json()["play_count"]
        for m in sim.account.medias
    )
    assert total["play_count"] == plays
    rows = _get(http, f"{sim.base_url}/stats/account/by_date", **WINDOW).json()
    assert len(rows) == 10


def test_auth_is_required(sim: SimulatorServer) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic demo-token"}):
        response = requests.get(f"{sim.base_url}/stats/events", headers=headers)
        assert response.status_code == 401
        assert response.json() == {
            "code": "unauthorized_credentials",
            "error": "Invalid credentials.",
        }
    with session_for("other") as wrong:
        assert wrong.get(f"{sim.root_url}/v1/medias.json").status_code == 401


@pytest.mark.parametrize(
    ("version", "status"),
    [("2026-03", 200), ("2031-12", 200), ("2026-3", 400), ("latest", 400), ("2026-13", 400)],
)
def test_version_header(
    sim: SimulatorServer, http: requests.Session, version: str, status: int
) -> None:
    response = http.get(f"{sim.base_url}/medias", headers={"X-Wistia-Api-Version": version})
    assert response.status_code == status


def test_connections_are_kept_alive_and_dropped_on_stop(http: requests.Session) -> None:
    with SimulatorServer(small_config()) as sim:
        first = http.get(f"{sim.base_url}/medias")
        assert first.headers.get("Connection", "").lower() != "close"
        # A request with a body must not confuse the next request on the same connection.
        moved = http.post(f"{sim.root_url}/__sim/clock", json={"today": str(TODAY)})
        assert moved.status_code == 200
        assert http.get(f"{sim.base_url}/medias").json() == first.json()
        url = sim.base_url
    with pytest.raises(requests.ConnectionError):
        http.get(f"{url}/medias", timeout=2)
