"""Channel of a media (ARCHITECTURE §10): the rules of `channels.yml`, as pure functions.

Order: the explicit media → channel map, then title patterns, then the majority traffic source
of the media's events (`utm_source` of `embed_url`, else its host), else the default. Gold
applies the same rules as Spark expressions (`pipeline.transform.gold.channel_col`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

FILE_NAME = "channels.yml"
REPO_FILE = Path(__file__).resolve().parents[1] / FILE_NAME

# The rules of the committed channels.yml, for deployments that ship only the package.
DEFAULT_RULES: dict[str, Any] = {
    "media": {"gskhw4w4lm": "YouTube", "v08dlrgr7v": "Facebook"},
    "title_patterns": [
        {"pattern": r"youtube|youtu\.be", "channel": "YouTube"},
        {"pattern": r"facebook|\bfb\b|instagram", "channel": "Facebook"},
    ],
    "source_patterns": [
        {"pattern": r"youtube|youtu\.be|^yt$", "channel": "YouTube"},
        {
            "pattern": r"facebook|^fb$|(^|\.)fb\.(com|me|watch)$|instagram|^ig$",
            "channel": "Facebook",
        },
    ],
    "default": "Other",
}


@dataclass(frozen=True)
class Pattern:
    pattern: str
    channel: str
    regex: re.Pattern[str] = field(compare=False, repr=False)

    @classmethod
    def of(cls, spec: Mapping[str, str]) -> Pattern:
        return cls(spec["pattern"], spec["channel"], re.compile(spec["pattern"], re.IGNORECASE))

    def matches(self, text: str | None) -> bool:
        return bool(text) and self.regex.search(text) is not None


@dataclass(frozen=True)
class ChannelRules:
    media: Mapping[str, str]
    title_patterns: tuple[Pattern, ...]
    source_patterns: tuple[Pattern, ...]
    default: str = "Other"

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> ChannelRules:
        return cls(
            media=dict(body.get("media") or {}),
            title_patterns=tuple(Pattern.of(p) for p in body.get("title_patterns") or ()),
            source_patterns=tuple(Pattern.of(p) for p in body.get("source_patterns") or ()),
            default=str(body.get("default") or "Other"),
        )

    def channel_for_title(self, title: str | None) -> str | None:
        return next((p.channel for p in self.title_patterns if p.matches(title)), None)

    def channel_for_source(self, source: str | None) -> str | None:
        return next((p.channel for p in self.source_patterns if p.matches(source)), None)

    def classify(
        self,
        media_id: str | None,
        title: str | None = None,
        source_counts: Mapping[str, int] | None = None,
    ) -> str:
        """The channel of one media."""
        if media_id in self.media:
            return self.media[media_id]
        by_title = self.channel_for_title(title)
        if by_title:
            return by_title
        by_source = self.channel_for_source(majority_source(source_counts or {}))
        return by_source or self.default


def load_rules(path: str | os.PathLike[str] | None = None) -> ChannelRules:
    """Rules from `path`, else `WVI_CHANNELS_FILE`, else ./channels.yml, else the repo's file,
    else the built-in copy of the committed file."""
    explicit = path or os.environ.get("WVI_CHANNELS_FILE")
    if explicit:
        if not Path(explicit).is_file():
            raise FileNotFoundError(f"channel rules not found: {explicit}")
        return _read(Path(explicit))
    for candidate in (Path.cwd() / FILE_NAME, REPO_FILE):
        if candidate.is_file():
            return _read(candidate)
    return ChannelRules.from_dict(DEFAULT_RULES)


def _read(path: Path) -> ChannelRules:
    return ChannelRules.from_dict(yaml.safe_load(path.read_text()) or {})


_UTM_SOURCE = re.compile(r"[?&]utm_source=([^&#]*)")
_HOST = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^/?#:]*)")


def traffic_source(embed_url: str | None) -> str | None:
    """`utm_source` of the URL, else its host without `www.`; lowercase; None if neither.

    No percent-decoding, exactly like the Spark expression that Silver uses.
    """
    if not embed_url:
        return None
    utm = _UTM_SOURCE.search(embed_url)
    if utm and utm.group(1).strip(" "):
        return utm.group(1).strip(" ").lower()
    host = _HOST.match(embed_url)
    name = host.group(1).lower() if host else ""
    name = name[4:] if name.startswith("www.") else name
    return name or None


def majority_source(counts: Mapping[str | None, int]) -> str | None:
    """The most frequent source; ties go to the alphabetically first one."""
    ranked = sorted(((-n, s) for s, n in counts.items() if s and n > 0))
    return ranked[0][1] if ranked else None


__all__ = [
    "DEFAULT_RULES",
    "ChannelRules",
    "load_rules",
    "majority_source",
    "traffic_source",
]
