"""A deterministic synthetic Wistia account that scales to millions of events.

Nothing per event is stored. Each media-day has a cheap *header* (plays split by arrival lag,
and non-play loads) drawn from a generator seeded by (seed, media, block of days); its events
are generated on demand, vectorised, from a generator seeded by (seed, media, day) and kept
in a small LRU cache. Every number the API reports is computed from those events, so the
invariants hold by construction:

- a day's play_count is the number of its events visible at the clock;
- load_count = visible plays + non-play loads, so plays <= loads;
- hours_watched = sum(percent_viewed * duration) / 3600 over the same events;
- lifetime numbers are sums over days.

An event of day d with arrival lag L (0, 1 or 2 days) is visible once d + L <= today, so
moving the clock forward makes late events appear and restates recent days.
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

import numpy as np

from pipeline.simulator.catalog import Media, build_medias
from pipeline.simulator.hashing import mix64, salt
from pipeline.simulator.records import EventWriter
from pipeline.simulator.visitors import VisitorPool

BLOCK = 32  # days per header block
LAG_P = (0.85, 0.10, 0.05)  # arrival lag of a play: 0, 1 or 2 days
MAX_LAG = len(LAG_P) - 1
RETENTION_DAYS = 730  # /stats/events never returns events older than today - 730 days
EPOCH_ORD = date(1970, 1, 1).toordinal()
DAY_MS = 86_400_000
MAX_MEDIAS = 9_999  # the media index is encoded in 4 digits of the event key
MAX_EVENTS_PER_DAY = 999_999  # the event index is encoded in 6 digits of the event key
LOYAL_SHARE = 0.35  # share of plays by the "loyal" visitors, who come back again and again
LOYAL_POOL = 0.03  # the loyal visitors: the first 3 % of the pool
CONVERSION_P = 0.015
DUPLICATE_EVERY = 50  # duplicates chaos: one event in 50 (2 %) appears twice
WEEKDAY = np.array([1.06, 1.10, 1.08, 1.02, 0.96, 0.80, 0.78])  # Monday .. Sunday
_HOURS = np.array([5, 4, 3, 2, 2, 2, 3, 4, 5, 6, 6, 6, 6, 6, 7, 8, 8, 8, 8, 8, 8, 8, 7, 6], float)
HOUR_P = _HOURS / _HOURS.sum()
_TAG_HEADER = 0x48454144
_TAG_EVENTS = 0x45564E54


def utc_today() -> date:
    """Today's date in UTC."""
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class MediaDay:
    """The events of one media-day in generation order (parallel arrays)."""

    ms: np.ndarray  # milliseconds after midnight UTC
    visitor: np.ndarray  # visitor index in the pool
    pv: np.ndarray  # percent_viewed in (0, 1]
    lag: np.ndarray  # arrival lag in days
    page: np.ndarray  # index into Media.pages
    digits: np.ndarray  # the 16 digits after "e0." in the event key
    conv: np.ndarray  # a conversion happened in this session


@dataclass(frozen=True)
class DayTotals:
    """What one media-day looks like at a given clock."""

    load_count: int
    play_count: int
    hours_watched: float
    unique_visitors: int
    sum_percent_viewed: float
    count_percent_viewed: int

    def as_dict(self) -> dict[str, Any]:
        """The totals as a plain dict."""
        return dict(self.__dict__)


ZERO = DayTotals(0, 0, 0.0, 0, 0.0, 0)


@dataclass(frozen=True)
class Lifetime:
    """Lifetime totals of one media at a given clock, plus its retention histogram."""

    load_count: int
    play_count: int
    hours_watched: float
    unique_visitors: int
    sum_percent_viewed: float
    count_percent_viewed: int
    watched_buckets: np.ndarray  # sessions by number of engagement buckets watched


class DayList(NamedTuple):
    """One day's event list for a selection: parallel arrays in list order."""

    media: np.ndarray  # media index
    event: np.ndarray  # event index within the media-day
    copy: np.ndarray  # True where the entry is a duplicate copy (duplicates chaos)


class _Cursor(NamedTuple):
    """What an event list is drawn from: medias, day range, clock and filters."""

    sel: tuple[int, ...]
    lo: int
    hi: int
    today: int
    visitor: int | None
    duplicates: bool


class _LRU:
    """A small thread-safe LRU mapping."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._size:
                self._data.popitem(last=False)


class SyntheticAccount:
    """A deterministic fake Wistia account: medias, loads, plays and viewing sessions.

    `today` is the simulator's clock (default: the real UTC today); the history covers `days`
    days up to the initial clock. `set_today` moves the clock (forward to let late events
    arrive and new days happen).
    """

    def __init__(
        self,
        seed: int = 7,
        medias: int = 20,
        days: int = 90,
        today: date | None = None,
        daily_plays: float = 40.0,
    ) -> None:
        if not 2 <= medias <= MAX_MEDIAS:
            raise ValueError(f"medias must be between 2 and {MAX_MEDIAS}")
        if days < 1:
            raise ValueError("days must be at least 1")
        if not 0 <= daily_plays <= 100_000:
            raise ValueError("daily_plays must be between 0 and 100000")
        self.seed = int(seed) % (1 << 63)
        self.media_count = medias
        self.days = days
        self.daily_plays = float(daily_plays)
        self._today = today or utc_today()
        self.history_start = self._today - timedelta(days=days - 1)
        self.medias: list[Media] = build_medias(self.seed, medias, self.history_start, self._today)
        self._by_key = {m.hashed_id: m for m in self.medias} | {str(m.id): m for m in self.medias}
        self.visitors = VisitorPool(self.seed, self._pool_size())
        self._base = (self.history_start.toordinal() // BLOCK) * BLOCK
        self._hdr = np.zeros((medias, 4, 0), dtype=np.int64)  # n_lag0, n_lag1, n_lag2, nonplay
        self._lock = threading.RLock()
        self._days_cache = _LRU(256)
        self._lists_cache = _LRU(128)
        self._totals: dict[tuple[int, int, int], DayTotals] = {}
        self._lifetimes: dict[tuple[int, int], Lifetime] = {}
        self._updated: dict[tuple[int, int], datetime] = {}
        self._writer = EventWriter(self)

    def _pool_size(self) -> int:
        # Enough visitors that most are seen a few times over the history, whatever the volume.
        expected = self.daily_plays * self.media_count * max(self.days, 30)
        return max(1_000, int(expected * 0.4))

    # ----------------------------------------------------------------------------- the clock

    @property
    def today(self) -> date:
        """The simulator's clock."""
        return self._today

    def set_today(self, today: date) -> None:
        """Move the clock. Data is a pure function of the clock, so any date is allowed."""
        with self._lock:
            self._today = today
            if len(self._lifetimes) > 512:
                self._lifetimes.clear()

    # ----------------------------------------------------------------------------- medias

    def media(self, media_id: str | int) -> Media | None:
        """The media with this hashed id or numeric id, if any (regardless of the clock)."""
        return self._by_key.get(str(media_id))

    def visible_medias(self, today: date | None = None) -> list[Media]:
        """Medias that exist at the clock (created on or before today)."""
        today = today or self.today
        return [m for m in self.medias if m.created <= today]

    def updated_at(self, media: Media, today: date | None = None) -> datetime:
        """When the media was last changed as seen at `today`: a few edits after creation."""
        t = (today or self.today).toordinal()
        key = (media.index, t)
        cached = self._updated.get(key)
        if cached is None:
            cached = self._last_edit(media, t)
            if len(self._updated) > 4096:
                self._updated.clear()
            self._updated[key] = cached
        return cached

    def _last_edit(self, media: Media, today: int) -> datetime:
        # Each day after creation is an edit day with probability 1/17 (hash-decided), so
        # `updated` moves forward now and then as the clock advances.
        ords = np.arange(today, max(media.created_ord, today - 120), -1).astype(np.uint64)
        h = mix64(ords ^ np.uint64(salt(self.seed, 0x55000 + media.index)))
        hits = np.flatnonzero(h % np.uint64(17) == 0)
        if not hits.size:
            return media.created_at + timedelta(minutes=7 + media.index % 50)
        o, secs = int(ords[hits[0]]), int(h[hits[0]] >> np.uint64(20)) % 86_400
        return datetime.fromordinal(o).replace(tzinfo=UTC) + timedelta(seconds=secs)

    def _resolve(self, media_ids: Iterable[str | int] | None) -> list[int]:
        if media_ids is None:
            return [m.index for m in self.medias]
        out = []
        for mid in media_ids:
            media = self.media(mid)
            if media is None:
                raise KeyError(f"unknown media {mid!r}")
            out.append(media.index)
        return out

    # ----------------------------------------------------------------------------- headers

    def _headers(self, hi_ord: int) -> np.ndarray:
        """Header array covering ordinals [_base, hi_ord], extended on demand."""
        hdr = self._hdr
        if self._base + hdr.shape[2] > hi_ord:
            return hdr
        with self._lock:
            hdr = self._hdr
            blocks = []
            b = (self._base + hdr.shape[2]) // BLOCK
            while (b + len(blocks)) * BLOCK <= hi_ord:
                bb = b + len(blocks)
                blocks.append(np.stack([self._header_block(m, bb) for m in self.medias]))
            if blocks:
                hdr = np.concatenate([hdr, *blocks], axis=2)
                self._hdr = hdr
            return hdr

    def _header_block(self, media: Media, block: int) -> np.ndarray:
        o = np.arange(block * BLOCK, (block + 1) * BLOCK)
        age = o - media.created_ord
        novelty = 1.0 + 0.8 * np.exp(-np.maximum(age, 0) / 10.0)  # new videos get a launch bump
        wave = 1.0 + 0.1 * np.sin(o / 58.0 + media.index)  # slow campaign cycles
        mean = self.daily_plays * media.popularity * WEEKDAY[(o - 1) % 7] * novelty * wave
        mean = np.where(age < 0, 0.0, mean)
        rng = np.random.default_rng([self.seed, media.index, block, _TAG_HEADER])
        plays = np.minimum(rng.poisson(mean), MAX_EVENTS_PER_DAY)
        lags = rng.multinomial(plays, LAG_P)
        nonplay = rng.poisson(plays * media.nonplay_ratio)
        return np.vstack([lags.T, nonplay]).astype(np.int64)

    def _header(self, m: int, o: int) -> np.ndarray:
        return self._headers(o)[m, :, o - self._base]

    def _visible_plays(self, sel: Sequence[int], lo: int, hi: int, today: int) -> np.ndarray:
        """Visible plays per day for days lo..hi (ascending), summed over the medias `sel`."""
        if hi < lo or not sel:
            return np.zeros(max(hi - lo + 1, 0), dtype=np.int64)
        part = self._headers(hi)[list(sel), :, lo - self._base : hi - self._base + 1].sum(axis=0)
        o = np.arange(lo, hi + 1)
        return part[0] + part[1] * (o + 1 <= today) + part[2] * (o + 2 <= today)

    # ----------------------------------------------------------------------------- events

    def media_day(self, m: int, o: int) -> MediaDay:
        """All events of media index `m` on day ordinal `o` (visible or not), cached."""
        key = (m, o)
        md = self._days_cache.get(key)
        if md is None:
            md = self._generate(self.medias[m], o)
            self._days_cache.put(key, md)
        return md

    def _generate(self, media: Media, o: int) -> MediaDay:
        n0, n1, n2 = (int(x) for x in self._header(media.index, o)[:3])
        n = n0 + n1 + n2
        rng = np.random.default_rng([self.seed, media.index, o, _TAG_EVENTS])
        hours = rng.choice(24, size=n, p=HOUR_P)
        ms = hours * 3_600_000 + rng.integers(0, 3_600_000, size=n)
        pool = self.visitors.size
        # A few loyal visitors return often; the rest mostly come once or twice.
        span = np.where(rng.random(n) < LOYAL_SHARE, max(1, int(pool * LOYAL_POOL)), pool)
        visitor = np.minimum((rng.random(n) * span).astype(np.int64), pool - 1)
        partial = np.clip(rng.beta(media.quality, 1.6, size=n), 1e-3, 1.0)
        pv = np.where(rng.random(n) < media.full_watch, 1.0, partial)
        lag = rng.permutation(np.repeat(np.arange(3, dtype=np.int8), [n0, n1, n2]))
        page = np.searchsorted(np.array(media.page_cum), rng.integers(0, 100, size=n), "right")
        rand6 = rng.integers(0, 1_000_000, size=n)
        conv = rng.random(n) < CONVERSION_P
        # The key's digits embed the media and event index, so keys are unique and invertible.
        digits = rand6 * 10**10 + np.arange(n, dtype=np.int64) * 10**4 + media.index
        return MediaDay(ms, visitor, pv, lag, page, digits, conv)

    def _visible_idx(self, m: int, o: int, today: int, visitor: int | None) -> np.ndarray:
        if o > today or o < self.medias[m].created_ord:
            return np.zeros(0, dtype=np.int64)
        md = self.media_day(m, o)
        idx = np.flatnonzero(md.lag <= today - o)
        if visitor is not None:
            idx = idx[md.visitor[idx] == visitor]
        return idx

    def day_list(
        self,
        sel: tuple[int, ...],
        o: int,
        today: int,
        visitor: int | None = None,
        duplicates: bool = False,
    ) -> DayList:
        """(media index, event index) of the visible events of one day, newest first.

        Events are ordered by received time descending, then event key descending. With
        `duplicates`, one event in 50 appears a second time a few dozen positions later.
        """
        level = min(today - o, MAX_LAG)
        key = (sel, o, level, visitor, duplicates)
        cached = self._lists_cache.get(key)
        if cached is not None:
            return cached
        mi, ei, ms, dg = [], [], [], []
        for m in sel:
            idx = self._visible_idx(m, o, today, visitor)
            md = self.media_day(m, o) if idx.size else None
            if md is not None:
                mi.append(np.full(idx.size, m, dtype=np.int64))
                ei.append(idx)
                ms.append(md.ms[idx])
                dg.append(md.digits[idx])
        if not mi:
            empty = np.zeros(0, np.int64)
            result = DayList(empty, empty, np.zeros(0, bool))
        else:
            order = np.lexsort((np.concatenate(dg), np.concatenate(ms)))[::-1]
            media, event = np.concatenate(mi)[order], np.concatenate(ei)[order]
            result = DayList(media, event, np.zeros(media.size, bool))
            if duplicates:
                result = _with_duplicates(result, o)
        self._lists_cache.put(key, result)
        return result

    def _window(self, start: date | None, end: date | None, today: int) -> tuple[int, int]:
        """Ordinal range of days that /stats/events may return (retention and clock applied)."""
        lo = max(self.history_start.toordinal(), today - RETENTION_DAYS)
        hi = today
        if start is not None:
            lo = max(lo, start.toordinal())
        if end is not None:
            hi = min(hi, end.toordinal())
        return lo, hi

    def event_page(
        self,
        sel: Sequence[int],
        start: date | None,
        end: date | None,
        page: int,
        per_page: int,
        visitor_key: str | None = None,
        duplicates: bool = False,
        today: date | None = None,
    ) -> list[dict[str, Any]]:
        """One page of /stats/events: the selection's visible events, newest first."""
        args = (sel, start, end, page, per_page, visitor_key, duplicates, today)
        return [json.loads(text) for text in self.event_page_json(*args)[0]]

    def event_page_json(
        self,
        sel: Sequence[int],
        start: date | None,
        end: date | None,
        page: int,
        per_page: int,
        visitor_key: str | None = None,
        duplicates: bool = False,
        today: date | None = None,
    ) -> tuple[list[str], int]:
        """`event_page` as JSON texts, plus how many of them are duplicate copies."""
        t = (today or self.today).toordinal()
        lo, hi = self._window(start, end, t)
        visitor = None
        if visitor_key is not None:
            visitor = self.visitors.index_of(visitor_key)
            if visitor is None:
                return [], 0
        out: list[str] = []
        copies = 0
        cursor = _Cursor(tuple(sel), lo, hi, t, visitor, duplicates)
        for o, lst, take in self._page_slices(cursor, (page - 1) * per_page, per_page):
            out.extend(self.event_json(o, lst.media[take], lst.event[take]))
            copies += int(lst.copy[take].sum())
        return out, copies

    def _page_slices(
        self, c: _Cursor, offset: int, limit: int
    ) -> Iterator[tuple[int, DayList, slice]]:
        """The (day, day list, slice) pieces that make up one page, newest day first.

        Without a visitor filter the header counts say which day the page starts on, so a
        page costs O(page), not O(all events); a visitor filter has no counts and scans days.
        """
        o = c.hi
        if c.visitor is None:
            counts = self._visible_plays(c.sel, c.lo, c.hi, c.today)[::-1]  # newest day first
            if c.duplicates:
                counts = counts + _duplicate_counts(counts, np.arange(c.hi, c.lo - 1, -1))
            ends = np.cumsum(counts)
            skip = int(np.searchsorted(ends, offset, side="right"))
            offset -= int(ends[skip - 1]) if skip > 0 else 0
            o -= skip
        while limit > 0 and o >= c.lo:
            lst = self.day_list(c.sel, o, c.today, c.visitor, c.duplicates)
            size = lst.media.size
            if offset < size:
                take = slice(offset, offset + limit)
                yield o, lst, take
                limit -= len(range(size)[take])
                offset = 0
            else:
                offset -= size
            o -= 1

    def event_json(self, o: int, mi: np.ndarray, ei: np.ndarray) -> list[str]:
        """JSON texts of the events (media index, event index pairs) of day ordinal `o`."""
        if mi.size == 0:
            return []
        days = {int(m): self.media_day(int(m), o) for m in np.unique(mi)}
        return self._writer.day(o, mi, ei, days)

    def records(self, o: int, mi: np.ndarray, ei: np.ndarray) -> list[dict[str, Any]]:
        """API event records (dicts) for the given (media index, event index) pairs of day `o`."""
        return [json.loads(text) for text in self.event_json(o, mi, ei)]

    def iter_events(
        self,
        media_ids: Sequence[str | int] | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Visible events of the medias (all when None), newest first, as /stats/events serves
        them (2-year retention applied, no duplicates). Dates are inclusive UTC days."""
        sel = tuple(self._resolve(media_ids))
        t = self.today.toordinal()
        lo, hi = self._window(start, end, t)
        for o in range(hi, lo - 1, -1):
            lst = self.day_list(sel, o, t)
            yield from self.records(o, lst.media, lst.event)

    def event_by_key(self, event_key: str) -> dict[str, Any] | None:
        """The visible, retained event with this key, or None."""
        head, sep, tail = event_key.partition("e0.")
        if not (sep and head.isdigit() and tail.isdigit() and len(tail) == 16):
            return None
        epoch_ms, digits = int(head), int(tail)
        o, msd = EPOCH_ORD + epoch_ms // DAY_MS, epoch_ms % DAY_MS
        m, e = digits % 10**4, (digits // 10**4) % 10**6
        t = self.today.toordinal()
        lo, hi = self._window(None, None, t)
        if m >= len(self.medias) or not lo <= o <= hi:
            return None
        if not np.any(self._visible_idx(m, o, t, None) == e):
            return None
        md = self.media_day(m, o)
        if md.digits[e] != digits or md.ms[e] != msd:
            return None  # a well-formed key that this account never issued
        return self.records(o, np.array([m]), np.array([e]))[0]

    # ----------------------------------------------------------------------------- totals

    def day_totals(self, m: int, o: int, today: int | None = None) -> DayTotals:
        """Totals of media index `m` on day ordinal `o` as visible at `today` (an ordinal)."""
        t = self.today.toordinal() if today is None else today
        media = self.medias[m]
        if o > t or o < media.created_ord:
            return ZERO
        key = (m, o, min(t - o, MAX_LAG))
        tot = self._totals.get(key)
        if tot is None:
            tot = self._compute_totals(media, o, t)
            self._totals[key] = tot
        return tot

    def _compute_totals(self, media: Media, o: int, today: int) -> DayTotals:
        md = self.media_day(media.index, o)
        vis = md.lag <= today - o
        pv = md.pv[vis]
        nonplay = int(self._header(media.index, o)[3])
        # The one place where watch time is computed: by_date and the truth both use it.
        hours = float((pv * media.duration).sum() / 3600.0)
        return DayTotals(
            load_count=int(pv.size) + nonplay,
            play_count=int(pv.size),
            hours_watched=hours,
            unique_visitors=int(np.unique(md.visitor[vis]).size),
            sum_percent_viewed=float(pv.sum()),
            count_percent_viewed=int(pv.size),
        )

    def media_day_totals(self, media_id: str | int, day: date) -> dict[str, Any]:
        """load_count, play_count, hours_watched, unique_visitors, sum_percent_viewed and
        count_percent_viewed of one media-day, as visible at the current clock."""
        (m,) = self._resolve([media_id])
        return self.day_totals(m, day.toordinal()).as_dict()

    def lifetime(self, m: int, today: int | None = None) -> Lifetime:
        """Lifetime totals of media index `m` at the clock (sums over its days), cached."""
        t = self.today.toordinal() if today is None else today
        cached = self._lifetimes.get((m, t))
        if cached is None:
            cached = self._compute_lifetime(self.medias[m], t)
            self._lifetimes[(m, t)] = cached
        return cached

    def _compute_lifetime(self, media: Media, today: int) -> Lifetime:
        buckets = engagement_buckets(media.duration)
        hist = np.zeros(buckets + 1, dtype=np.int64)
        seen = np.zeros(self.visitors.size, dtype=bool)
        loads = plays = count = 0
        hours = sum_pv = 0.0
        for o in range(media.created_ord, today + 1):
            tot = self.day_totals(media.index, o, today)
            loads += tot.load_count
            plays += tot.play_count
            count += tot.count_percent_viewed
            hours += tot.hours_watched  # plain left-to-right float sum, in date order
            sum_pv += tot.sum_percent_viewed
            if tot.play_count:
                md = self.media_day(media.index, o)
                vis = md.lag <= today - o
                seen[md.visitor[vis]] = True
                watched = np.clip(np.ceil(md.pv[vis] * buckets), 1, buckets).astype(np.int64)
                hist += np.bincount(watched, minlength=buckets + 1)
        return Lifetime(loads, plays, hours, int(seen.sum()), sum_pv, count, hist)

    def unique_visitors(
        self,
        media_ids: Sequence[str | int] | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> int:
        """Distinct visitors over the visible events of the medias and days (inclusive).

        This is an account fact: no retention cut (history is at most `days` long anyway).
        """
        t = self.today.toordinal()
        lo = self.history_start.toordinal() if start is None else start.toordinal()
        hi = t if end is None else min(end.toordinal(), t)
        seen = np.zeros(self.visitors.size, dtype=bool)
        for m in self._resolve(media_ids):
            for o in range(max(lo, self.medias[m].created_ord), hi + 1):
                md = self.media_day(m, o)
                seen[md.visitor[md.lag <= t - o]] = True
        return int(seen.sum())

    def truth(self, start: date | None = None, end: date | None = None) -> dict[str, Any]:
        """The exact expected totals at the clock (see `pipeline.simulator.truth`)."""
        from pipeline.simulator.truth import build_truth

        return build_truth(self, start, end)


def engagement_buckets(duration: float) -> int:
    """Length of engagement_data: one bucket per second, at most 1000."""
    return max(1, min(math.ceil(duration), 1000))


def _duplicate_counts(counts: np.ndarray, ords: np.ndarray) -> np.ndarray:
    """How many duplicate copies each day's list gets (positions j ≡ r_day mod 50)."""
    r = ords % DUPLICATE_EVERY
    return np.where(counts > r, (counts - 1 - r) // DUPLICATE_EVERY + 1, 0)


def _with_duplicates(lst: DayList, o: int) -> DayList:
    """Insert the duplicate copies of one day's list: position j is repeated 24-71 later."""
    n = lst.media.size
    js = np.arange(o % DUPLICATE_EVERY, n, DUPLICATE_EVERY)
    target = np.minimum(js + 24 + (js * 13 + o) % 48, n - 1)
    keys = np.concatenate([np.arange(n) * 2, target * 2 + 1])
    order = np.argsort(keys, kind="stable")
    src = np.concatenate([np.arange(n), js])[order]
    copy = np.concatenate([np.zeros(n, bool), np.ones(js.size, bool)])[order]
    return DayList(lst.media[src], lst.event[src], copy)
