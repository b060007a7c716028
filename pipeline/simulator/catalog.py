"""The synthetic account's medias and folders, derived from the seed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

import numpy as np

# The two media of the original brief are always present, in this order.
BRIEF_MEDIAS = (
    ("gskhw4w4lm", "Chris Face VSL The Gap Method Youtube  Paid Ads", "youtube"),
    ("v08dlrgr7v", "Chris Face VSL The Gap Method Facebook Paid Ads", "facebook"),
)

TOPICS = (
    "Gap Method Webinar Replay",
    "Client Results Breakdown",
    "Founder Story",
    "Offer Walkthrough",
    "Case Study: Dental Practice",
    "Case Study: Roofing Company",
    "Three Mistakes Coaches Make",
    "Pricing Explained",
    "Onboarding Welcome",
    "FAQ: How Fast Are Results",
    "Live Q&A Highlights",
    "Testimonial - Sarah K.",
    "Testimonial - Marcus T.",
    "Behind the Scenes",
    "Sales Call Teardown",
    "Funnel Audit Demo",
    "Ad Creative Masterclass",
    "Retargeting in 10 Minutes",
    "Scaling to 7 Figures",
    "Hiring Your First Closer",
    "Objection Handling Drill",
    "Weekly Coaching Clip",
    "Application Walkthrough",
    "Community Tour",
    "Product Demo",
    "Quarterly Kickoff",
    "Lead Magnet Preview",
    "Email Sequence Breakdown",
)

# Kinds of the non-brief medias, cycled: a title naming the channel, a neutral title whose
# embed pages carry the channel's utm_source, or neither (channel "Other").
KINDS = ("youtube_title", "facebook_title", "youtube_utm", "facebook_utm", "other")

SITE = "https://www.gapmethod.example"
FOLDERS_SPEC = (("Paid Ads", 0), ("Organic Content", 1), ("Sales Enablement", 2))
ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Folder:
    """A Wistia folder (a "project" in v1)."""

    id: int
    name: str
    hashed_id: str


@dataclass(frozen=True)
class Media:
    """One media of the synthetic account; `index` is its position in `SyntheticAccount.medias`."""

    index: int
    id: int
    hashed_id: str
    name: str
    duration: float
    created_at: datetime
    popularity: float
    play_rate: float
    quality: float
    full_watch: float
    rewatch_rate: float
    channel: str
    folder: Folder
    tags: tuple[str, ...]
    description: str
    asset_key: str
    pages: tuple[str, ...]
    page_cum: tuple[int, ...]

    @property
    def created(self) -> date:
        """The UTC day the media was created."""
        return self.created_at.date()

    @property
    def created_ord(self) -> int:
        """`created` as a proleptic ordinal."""
        return self.created_at.date().toordinal()

    @property
    def nonplay_ratio(self) -> float:
        """Expected non-play loads per play."""
        return (1.0 - self.play_rate) / self.play_rate


def _hashed_id(rng: np.random.Generator, taken: set[str]) -> str:
    while True:
        hid = "".join(ALPHABET[i] for i in rng.integers(0, len(ALPHABET), 10))
        # At least one letter, so a hashed id can never be mistaken for a numeric id.
        if hid not in taken and not hid.isdigit():
            taken.add(hid)
            return hid


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _pages(channel: str, hashed_id: str, campaign: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Embed pages of a media and their cumulative weights in percent."""
    other = (
        (f"{SITE}/blog/{campaign}", 4),
        (f"https://fast.wistia.net/embed/iframe/{hashed_id}", 3),
        ("https://partners.example.org/resources?ref=newsletter", 3),
        (f"{SITE}/webinar?utm_source=newsletter&utm_medium=email", 2),
    )
    if channel == "other":
        pages = tuple((url, w * 8 + 2) for url, w in other)
    else:
        medium = "paid" if channel == "youtube" else "paid_social"
        pages = (
            (f"{SITE}/vsl?utm_source={channel}&utm_medium={medium}&utm_campaign={campaign}", 45),
            (f"{SITE}/vsl?utm_source={channel}", 25),
            (f"{SITE}/apply?utm_source={channel}&utm_medium=cpc", 18),
            *other,
        )
    weights = np.array([w for _, w in pages], dtype=float)
    cum = np.round(np.cumsum(weights) / weights.sum() * 100).astype(int)
    return tuple(url for url, _ in pages), tuple(int(c) for c in cum)


def _name(kind: str, topic: str) -> str:
    if kind == "youtube_title":
        return f"{topic} Youtube Ad"
    if kind == "facebook_title":
        return f"{topic} Facebook Ad"
    return topic


def _created_at(
    rng: np.random.Generator, index: int, count: int, start: date, today: date
) -> datetime:
    span = (today - start).days
    if index < 2:
        day = start
    elif index == count - 1:
        day = max(start, today - timedelta(days=1))
    elif index == count - 2 and count >= 5:
        day = max(start, today - timedelta(days=3))
    else:
        day = start + timedelta(days=int(rng.integers(0, max(1, int(span * 0.8)) + 1)))
    seconds = int(rng.integers(6 * 3600, 10 * 3600))
    return datetime.combine(day, time(), UTC) + timedelta(seconds=seconds)


def build_folders(rng: np.random.Generator, taken: set[str]) -> list[Folder]:
    """The account's folders."""
    return [
        Folder(
            id=int(rng.integers(1_000_000, 9_999_999)), name=name, hashed_id=_hashed_id(rng, taken)
        )
        for name, _ in FOLDERS_SPEC
    ]


class _Identity(NamedTuple):
    """Who a media is, before its numbers are drawn."""

    index: int
    id: int
    hashed_id: str
    name: str
    channel: str
    kind: str
    folder: Folder


def build_medias(seed: int, count: int, start: date, today: date) -> list[Media]:
    """`count` medias: the two brief media first, then deterministic others."""
    rng = np.random.default_rng([seed, 0x4D454449])
    taken = {hid for hid, _, _ in BRIEF_MEDIAS}
    folders = build_folders(rng, taken)
    topics = [TOPICS[i] for i in rng.permutation(len(TOPICS))]
    ids = 10_000_000 + rng.choice(90_000_000, size=count, replace=False)
    names: set[str] = set()
    medias = []
    for index in range(count):
        ident = _identity(rng, index, int(ids[index]), topics, folders, taken)
        name = ident.name
        while name in names:
            name += " v2"
        names.add(name)
        medias.append(_media(rng, ident._replace(name=name), count, start, today))
    return medias


def _identity(
    rng: np.random.Generator,
    index: int,
    media_id: int,
    topics: list[str],
    folders: list[Folder],
    taken: set[str],
) -> _Identity:
    if index < 2:
        hashed_id, name, channel = BRIEF_MEDIAS[index]
        return _Identity(index, media_id, hashed_id, name, channel, f"{channel}_title", folders[0])
    kind = KINDS[(index - 2) % len(KINDS)]
    topic = topics[(index - 2) % len(topics)]
    if index - 2 >= len(topics):
        topic = f"{topic} (Part {(index - 2) // len(topics) + 1})"
    folder = folders[0] if kind.endswith("_title") else folders[1 + int(rng.integers(0, 2))]
    hashed_id = _hashed_id(rng, taken)
    return _Identity(
        index, media_id, hashed_id, _name(kind, topic), kind.split("_")[0], kind, folder
    )


def _media(
    rng: np.random.Generator, ident: _Identity, count: int, start: date, today: date
) -> Media:
    index = ident.index
    brief = index < 2
    duration = float(rng.uniform(600, 1500)) if brief else float(np.exp(rng.uniform(3.4, 7.49)))
    pages, cum = _pages(ident.channel, ident.hashed_id, _slug(ident.name)[:40])
    tags = {"youtube_title": ("youtube", "paid"), "facebook_title": ("facebook", "paid")}
    return Media(
        index=index,
        id=ident.id,
        hashed_id=ident.hashed_id,
        name=ident.name,
        duration=round(min(max(duration, 30.0), 1800.0), 3),
        created_at=_created_at(rng, index, count, start, today),
        popularity=(1.6, 1.3)[index] if brief else float(rng.lognormal(0.0, 0.5)),
        play_rate=float(rng.uniform(0.35, 0.75)),
        quality=float(rng.uniform(0.6, 1.6)),
        full_watch=float(rng.uniform(0.04, 0.15)),
        rewatch_rate=float(rng.uniform(0.03, 0.12)),
        channel=ident.channel,
        folder=ident.folder,
        tags=tags.get(ident.kind, ("organic",) if ident.kind.endswith("_utm") else ()),
        description="" if index % 3 else f"<p>{ident.name}</p>",
        asset_key=f"{int(rng.integers(0, 2**63)):016x}{int(rng.integers(0, 2**63)):016x}",
        pages=pages,
        page_cum=cum,
    )
