"""The synthetic account without HTTP: determinism, invariants, clock, scale."""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from datetime import timedelta

import numpy as np
import pytest

from pipeline.simulator import BRIEF_MEDIAS, SyntheticAccount
from pipeline.simulator.visitors import VisitorPool

from .conftest import SMALL, TODAY

HASHED = re.compile(r"^[0-9a-z]{10}$")


@pytest.fixture(scope="module")
def account() -> SyntheticAccount:
    return SyntheticAccount(**SMALL)


def test_brief_medias_come_first_with_exact_names() -> None:
    medias = SyntheticAccount(seed=3, medias=20, days=60, today=TODAY).medias
    assert [(m.hashed_id, m.name) for m in medias[:2]] == [(h, n) for h, n, _ in BRIEF_MEDIAS]
    assert "Youtube  Paid" in medias[0].name  # the double space is part of the real title
    assert all(m.created == TODAY - timedelta(days=59) for m in medias[:2])


def test_media_catalogue_is_varied_and_well_formed() -> None:
    medias = SyntheticAccount(seed=7, medias=20, days=90, today=TODAY).medias
    assert len(medias) == 20
    assert len({m.hashed_id for m in medias}) == 20
    assert len({m.id for m in medias}) == 20
    assert all(HASHED.match(m.hashed_id) and not m.hashed_id.isdigit() for m in medias)
    assert all(30 <= m.duration <= 1800 for m in medias)
    names = [m.name for m in medias]
    assert sum("Youtube" in n for n in names) >= 3
    assert sum("Facebook" in n for n in names) >= 3
    neutral_utm = [
        m
        for m in medias
        if "utm_source=" in m.pages[0] and not re.search("Youtube|Facebook", m.name)
    ]
    assert {m.channel for m in neutral_utm} == {"youtube", "facebook"}
    assert any(
        m.channel == "other" and "utm_source=youtube" not in "".join(m.pages) for m in medias
    )
    # One or two medias were created in the last few days, so new ones appear as time passes.
    assert any(TODAY - m.created <= timedelta(days=3) for m in medias[2:])


def test_same_seed_same_events_other_seed_other_events() -> None:
    a = list(SyntheticAccount(**SMALL).iter_events())
    b = list(SyntheticAccount(**SMALL).iter_events())
    c = list(SyntheticAccount(**(SMALL | {"seed": 8})).iter_events())
    assert a == b
    assert [e["event_key"] for e in a] != [e["event_key"] for e in c]


def test_events_do_not_depend_on_generation_order() -> None:
    first = SyntheticAccount(**SMALL)
    second = SyntheticAccount(**SMALL)
    day = TODAY - timedelta(days=3)
    second.media_day_totals("gskhw4w4lm", TODAY)  # warm caches in a different order
    assert list(first.iter_events(["v08dlrgr7v"], day, day)) == list(
        second.iter_events(["v08dlrgr7v"], day, day)
    )


def test_visitors_are_a_pure_function_of_seed_and_index() -> None:
    idx = np.array([0, 1, 2, 12345, 999])
    a, b = VisitorPool(7, 100_000), VisitorPool(7, 100_000)
    assert a.columns(idx) == b.columns(idx)
    assert a.keys(idx) != VisitorPool(8, 100_000).keys(idx)
    for i, key in zip(idx.tolist(), a.keys(idx), strict=True):
        assert re.fullmatch(r"[0-9A-F]{40}", key)
        assert a.index_of(key) == i
    assert a.index_of("F" * 40) is None


def test_event_record_fields(account: SyntheticAccount) -> None:
    event = next(account.iter_events())
    assert set(event) == {
        "received_at", "event_key", "visitor_key", "embed_url", "percent_viewed", "ip", "org",
        "country", "region", "city", "lat", "lon", "email", "media_id", "media_name",
        "media_url", "iframe_heatmap_url", "thumbnail", "conversion_type", "conversion_data",
        "user_agent_details",
    }  # fmt: skip
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["received_at"])
    assert re.fullmatch(r"\d{13}e0\.\d{16}", event["event_key"])
    assert 0 < event["percent_viewed"] <= 1
    assert set(event["user_agent_details"]) == {"browser", "browser_version", "platform", "mobile"}
    assert set(event["thumbnail"]) == {"url", "width", "height", "fileSize", "contentType", "type"}


def test_events_have_repeat_visitors_and_mostly_null_email(account: SyntheticAccount) -> None:
    events = list(account.iter_events())
    visitors = Counter(e["visitor_key"] for e in events)
    assert visitors.most_common(1)[0][1] >= 3
    assert len(visitors) < len(events)
    assert sum(e["email"] is None for e in events) > 0.8 * len(events)
    assert any(e["ip"].count(":") == 7 for e in events)  # some IPv6


def test_day_totals_are_the_visible_events(account: SyntheticAccount) -> None:
    events = list(account.iter_events())
    by_day: dict[tuple[str, str], list[dict]] = {}
    for e in events:
        by_day.setdefault((e["media_id"], e["received_at"][:10]), []).append(e)
    for media in account.medias:
        for offset in range(account.days):
            day = TODAY - timedelta(days=offset)
            tot = account.media_day_totals(media.hashed_id, day)
            mine = by_day.get((media.hashed_id, day.isoformat()), [])
            assert tot["play_count"] == len(mine) == tot["count_percent_viewed"]
            assert tot["play_count"] <= tot["load_count"]
            assert tot["unique_visitors"] == len({e["visitor_key"] for e in mine})
            pv = sum(e["percent_viewed"] for e in mine)
            assert math.isclose(tot["sum_percent_viewed"], pv, rel_tol=1e-12, abs_tol=1e-12)
            hours = pv * media.duration / 3600
            assert math.isclose(tot["hours_watched"], hours, rel_tol=1e-12, abs_tol=1e-12)


def test_lifetime_is_the_sum_of_days(account: SyntheticAccount) -> None:
    for media in account.medias:
        life = account.lifetime(media.index)
        days = [
            account.day_totals(media.index, o)
            for o in range(media.created_ord, TODAY.toordinal() + 1)
        ]
        hours = 0.0
        for d in days:
            hours += d.hours_watched
        assert life.play_count == sum(d.play_count for d in days)
        assert life.load_count == sum(d.load_count for d in days)
        assert life.hours_watched == hours
        assert life.unique_visitors == account.unique_visitors([media.hashed_id])


def test_unique_visitors_is_distinct_across_days(account: SyntheticAccount) -> None:
    start = TODAY - timedelta(days=13)
    events = list(account.iter_events(None, start, TODAY))
    assert account.unique_visitors(None, start, TODAY) == len({e["visitor_key"] for e in events})
    daily_sum = sum(
        account.media_day_totals(m.hashed_id, start + timedelta(days=i))["unique_visitors"]
        for m in account.medias
        for i in range(14)
    )
    assert account.unique_visitors(None, start, TODAY) < daily_sum


def test_late_events_arrive_when_the_clock_moves() -> None:
    acc = SyntheticAccount(**(SMALL | {"daily_plays": 80.0}))
    yesterday = TODAY - timedelta(days=1)
    before = {m.hashed_id: acc.media_day_totals(m.hashed_id, yesterday) for m in acc.medias}
    keys_before = {e["event_key"] for e in acc.iter_events(None, yesterday, yesterday)}
    assert acc.media_day_totals("gskhw4w4lm", TODAY + timedelta(days=1))["play_count"] == 0
    acc.set_today(TODAY + timedelta(days=2))
    after = {m.hashed_id: acc.media_day_totals(m.hashed_id, yesterday) for m in acc.medias}
    keys_after = {e["event_key"] for e in acc.iter_events(None, yesterday, yesterday)}
    assert keys_before < keys_after
    assert sum(a["play_count"] for a in after.values()) > sum(
        b["play_count"] for b in before.values()
    )
    assert all(after[k]["play_count"] >= before[k]["play_count"] for k in before)
    # Non-play loads never arrive late, so loads grow exactly by the late plays.
    for k in before:
        grown = after[k]["play_count"] - before[k]["play_count"]
        assert after[k]["load_count"] - before[k]["load_count"] == grown
    acc.set_today(TODAY)
    assert {e["event_key"] for e in acc.iter_events(None, yesterday, yesterday)} == keys_before


def test_events_are_newest_first_and_keys_unique(account: SyntheticAccount) -> None:
    events = list(account.iter_events())
    stamps = [e["received_at"] for e in events]
    assert stamps == sorted(stamps, reverse=True)
    assert len({e["event_key"] for e in events}) == len(events)


def test_event_lookup_by_key(account: SyntheticAccount) -> None:
    event = list(account.iter_events())[17]
    assert account.event_by_key(event["event_key"]) == event
    assert account.event_by_key("1779321069859e0.0668570000350004") is None
    assert account.event_by_key("nonsense") is None


def test_unknown_media_raises(account: SyntheticAccount) -> None:
    with pytest.raises(KeyError):
        account.media_day_totals("nope000000", TODAY)
    assert account.media_day_totals(str(account.medias[1].id), TODAY) == account.media_day_totals(
        account.medias[1].hashed_id, TODAY
    )


def test_ten_million_events_without_generating_them() -> None:
    started = time.perf_counter()
    big = SyntheticAccount(seed=1, medias=200, days=730, today=TODAY, daily_plays=120.0)
    sel = list(range(200))
    total = int(
        big._visible_plays(
            sel, big.history_start.toordinal(), TODAY.toordinal(), TODAY.toordinal()
        ).sum()
    )
    assert total > 10_000_000
    page = big.event_page(sel, None, None, page=50_000, per_page=100)
    assert len(page) == 100
    assert big._days_cache._data.__len__() <= 256
    assert time.perf_counter() - started < 15
