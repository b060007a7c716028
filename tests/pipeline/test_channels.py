"""Channel rules (ARCHITECTURE §10): explicit map, then title, then majority source."""

from __future__ import annotations

from collections import Counter

import pytest
import yaml

from pipeline.channels import (
    DEFAULT_RULES,
    REPO_FILE,
    ChannelRules,
    load_rules,
    majority_source,
    traffic_source,
)

RULES = ChannelRules.from_dict(DEFAULT_RULES)


def test_the_committed_file_and_the_builtin_copy_agree():
    assert yaml.safe_load(REPO_FILE.read_text()) == DEFAULT_RULES
    assert load_rules(REPO_FILE) == RULES


def test_explicit_map_wins_over_everything():
    youtube_sources = Counter({"youtube": 10})
    assert RULES.classify("v08dlrgr7v", "A YouTube title", youtube_sources) == "Facebook"
    assert RULES.classify("gskhw4w4lm", "Facebook Paid Ads", Counter({"fb": 9})) == "YouTube"


@pytest.mark.parametrize(
    ("title", "channel"),
    [
        ("Chris Face VSL The Gap Method Youtube  Paid Ads", "YouTube"),
        ("Chris Face VSL The Gap Method Facebook Paid Ads", "Facebook"),
        ("Spring promo (FB)", "Facebook"),
        ("Instagram reel cut", "Facebook"),
        ("Feedback session", "Other"),  # "fb" only as a word
        ("Webinar recording", "Other"),
    ],
)
def test_title_patterns_are_case_insensitive(title, channel):
    assert RULES.classify("other00001", title) == channel


@pytest.mark.parametrize(
    ("sources", "channel"),
    [
        ({"youtube": 3, "facebook": 1}, "YouTube"),
        ({"youtu.be": 2}, "YouTube"),
        ({"m.facebook.com": 2, "youtube": 1}, "Facebook"),
        ({"fb": 1}, "Facebook"),
        ({"ig": 4, "yt": 1}, "Facebook"),
        ({"newsletter": 5, "youtube": 4}, "Other"),  # the majority is not a known channel
        ({"facebook": 2, "youtube": 2}, "Facebook"),  # a tie goes to the first alphabetically
        ({}, "Other"),
    ],
)
def test_majority_source_decides_when_no_rule_matched(sources, channel):
    assert RULES.classify("other00001", "Product demo", Counter(sources)) == channel


@pytest.mark.parametrize(
    ("url", "source"),
    [
        ("https://www.example.com/landing?utm_source=YouTube&utm_medium=paid", "youtube"),
        ("https://example.com/?a=1&utm_source=fb#top", "fb"),
        ("https://www.Facebook.com/watch/?v=1", "facebook.com"),
        ("https://user@m.youtube.com:443/x", "m.youtube.com"),
        ("https://example.com/?utm_source=&x=1", "example.com"),
        ("https://example.com/?xutm_source=zz", "example.com"),
        ("not a url", None),
        (None, None),
    ],
)
def test_traffic_source_of_an_embed_url(url, source):
    assert traffic_source(url) == source


def test_majority_source_ties_and_empties():
    assert majority_source({"b": 2, "a": 2, "c": 1}) == "a"
    assert majority_source({None: 5, "x": 0}) is None


def test_rules_file_from_environment(tmp_path, monkeypatch):
    path = tmp_path / "rules.yml"
    path.write_text("media: {abc: Vimeo}\ndefault: Unknown\n")
    monkeypatch.setenv("WVI_CHANNELS_FILE", str(path))
    rules = load_rules()
    assert rules.classify("abc") == "Vimeo" and rules.classify("zzz") == "Unknown"
    monkeypatch.setenv("WVI_CHANNELS_FILE", str(tmp_path / "missing.yml"))
    with pytest.raises(FileNotFoundError):
        load_rules()
