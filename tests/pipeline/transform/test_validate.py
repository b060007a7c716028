"""Validation as pure DataFrame functions: property tests with malformed records.

Each example writes one Bronze page, reads it with the job's reader and splits it with
`validate_*`. Every input record must come out exactly once — valid, or quarantined with the
first failing reason of `EVENT_REASONS` — whatever unknown fields it carries.
"""

from __future__ import annotations

import json
import math
import tempfile
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyspark.sql import functions as F

from pipeline.storage import LocalStorage
from pipeline.transform.bronze_index import PartRef
from pipeline.transform.silver import read_bronze
from pipeline.transform.validate import (
    EVENT_REASONS,
    validate,
    validate_events,
    validate_media_daily,
)

LOAD = date(2026, 5, 2)
MEDIA = "media00001"
MISSING = object()  # "leave the field out"


@pytest.fixture(scope="module", autouse=True)
def pages_dir():
    """One folder for every page this module writes (Spark reads lazily: it must outlive each
    test's DataFrames), removed when the module is done."""
    global PAGES_DIR
    with tempfile.TemporaryDirectory(prefix="wvi-validate-") as folder:
        PAGES_DIR = Path(folder)
        yield PAGES_DIR


PAGES_DIR: Path


def read_page(spark, records, stream: str = "events", media_id: str | None = MEDIA):
    """Write one page the way Bronze stores it and read it back with the job's reader."""
    root = Path(tempfile.mkdtemp(dir=PAGES_DIR))
    key = f"bronze/{stream}/load_date={LOAD}/run_id=r1/part-00001.json"
    (root / key).parent.mkdir(parents=True)
    (root / key).write_text(json.dumps(records))
    ref = PartRef(stream, key, "r1", "2026-05-03T01:00:00+00:00", media_id, True, 1)
    return read_bronze(spark, LocalStorage(root), stream, [ref], LOAD)


# ---------------------------------------------------------------- the oracle
def blank(value) -> bool:
    return value is MISSING or value is None or (isinstance(value, str) and not value.strip(" "))


def is_number(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return math.isfinite(value)
    if isinstance(value, str) and value and (value[0] == "-" or value[0].isdigit()):
        try:
            return value[-1].isdigit() and math.isfinite(float(value))
        except ValueError:
            return False
    return False


def expected_reason(event: dict, good_time: bool) -> str | None:
    """The first failing reason, in `EVENT_REASONS` order (media_id comes from the manifest)."""
    if blank(event.get("event_key", MISSING)):
        return "missing event_key"
    if blank(event.get("visitor_key", MISSING)):
        return "missing visitor_key"
    if not good_time:
        return "unparseable received_at"
    value = event.get("percent_viewed", MISSING)
    if value is MISSING or value is None:
        return "missing percent_viewed"
    if not is_number(value):
        return "percent_viewed not a number"
    if not 0 <= float(value) <= 1:
        return "percent_viewed outside 0-1"
    return None


# ---------------------------------------------------------------- generators
keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.", min_size=1, max_size=12)
blank_values = st.sampled_from([MISSING, None, "", "   "])
moments = st.datetimes(datetime(2020, 1, 1), datetime(2030, 12, 31)).map(
    lambda d: d.replace(tzinfo=UTC)
)


@st.composite
def timestamps(draw) -> tuple[object, bool]:
    """(received_at value, whether Spark must parse it)."""
    if draw(st.booleans()):
        moment = draw(moments)
        style = draw(st.sampled_from(["Z", "offset", "naive", "space", "fraction"]))
        if style == "offset":
            zone = timezone(timedelta(hours=draw(st.integers(-11, 12))))
            shifted = moment.astimezone(zone)
            return shifted.isoformat(timespec="seconds"), True
        if style == "naive":
            return moment.strftime("%Y-%m-%dT%H:%M:%S"), True
        if style == "space":
            return moment.strftime("%Y-%m-%d %H:%M:%S"), True
        if style == "fraction":
            return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), True
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ"), True
    bad = draw(
        st.sampled_from(
            [MISSING, None, "", "yesterday", "2026-13-01T00:00:00Z", "2026-05-01", 1714550400]
        )
    )
    return bad, False


valid_percents = st.one_of(
    st.floats(0, 1, allow_nan=False), st.sampled_from([0, 1]), st.floats(0, 1).map(str)
)
bad_percents = st.one_of(
    st.sampled_from([MISSING, None, "abc", "NaN", "", True, False, [0.5], {"v": 1}, "0.5%"]),
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: not 0 <= x <= 1),
    st.integers(-(10**6), 10**6).filter(lambda x: x not in (0, 1)),
    st.text(alphabet="abcxyz %", min_size=1, max_size=5),
)


@st.composite
def events(draw, probe: int) -> tuple[dict, bool]:
    received, good_time = draw(timestamps())
    fields = {
        "event_key": draw(st.one_of(keys, blank_values) if draw(st.booleans()) else keys),
        "visitor_key": draw(st.one_of(keys, blank_values) if draw(st.booleans()) else keys),
        "received_at": received,
        "percent_viewed": draw(bad_percents if draw(st.booleans()) else valid_percents),
        "org": f"probe-{probe}",
        "embed_url": "https://example.com/?utm_source=youtube",
        "user_agent_details": {"browser": "Chrome", "mobile": draw(st.booleans())},
    }
    if draw(st.booleans()):  # unknown fields are allowed and ignored
        fields.update(draw(st.dictionaries(st.sampled_from(["x_new", "y_extra"]), keys)))
    return {k: v for k, v in fields.items() if v is not MISSING}, good_time


@st.composite
def pages(draw):
    size = draw(st.integers(1, 8))
    return [draw(events(probe)) for probe in range(size)]


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(page=pages())
def test_every_event_is_either_valid_or_quarantined_with_its_reason(spark, page):
    records = [event for event, _ in page]
    valid, quarantine = validate_events(read_page(spark, records))
    outcome = valid.select("org", F.lit(None).cast("string").alias("reason")).unionByName(
        quarantine.select(F.get_json_object("raw", "$.org").alias("org"), "reason")
    )
    rows = outcome.collect()  # one Spark job per example
    valid_probes = {row.org for row in rows if row.reason is None}
    quarantined = {row.org: row.reason for row in rows if row.reason is not None}
    assert len(rows) == len(records)  # nothing lost, nothing twice
    assert len(valid_probes) + len(quarantined) == len(records)
    for event, good_time in page:
        reason = expected_reason(event, good_time)
        if reason is None:
            assert event["org"] in valid_probes, event
        else:
            assert quarantined.get(event["org"]) == reason, event
            assert reason in EVENT_REASONS


def test_valid_events_get_silver_types(spark):
    record = {
        "event_key": "k1",
        "visitor_key": "v1",
        "received_at": "2026-05-01T23:30:00-02:00",
        "percent_viewed": 0.25,
        "lat": 47.6,
        "lon": "not a number",
        "media_id": None,
        "user_agent_details": {"browser": "Firefox", "platform": "linux", "mobile": True},
        "embed_url": "https://WWW.Example.com:8443/p?x=1",
    }
    (row,) = validate_events(read_page(spark, [record]))[0].collect()
    assert row.received_at == datetime(2026, 5, 2, 1, 30)  # UTC
    assert row.date == date(2026, 5, 2)
    assert row.media_id == MEDIA  # not in the record: the manifest's
    assert (row.lat, row.lon) == (47.6, None)
    assert (row.browser, row.platform, row.is_mobile) == ("Firefox", "linux", True)
    assert row.traffic_source == "example.com"


def test_media_daily_reasons(spark):
    rows = [
        {"date": "2026-05-01", "load_count": 4, "play_count": 2, "hours_watched": 0.5},
        {"date": "2026-05-02", "load_count": 1, "play_count": 2, "hours_watched": 0.1},
        {"date": "2026-05-03", "load_count": 3, "play_count": -1, "hours_watched": 0.1},
        {"date": "May 4", "load_count": 3, "play_count": 1, "hours_watched": 0.1},
        {"date": "2026-05-05", "load_count": "x", "play_count": 1, "hours_watched": 0.1},
        {"date": "2026-05-06", "load_count": 3, "play_count": 1, "hours_watched": -2},
    ]
    valid, quarantine = validate_media_daily(read_page(spark, rows, "media_by_date"))
    (ok,) = valid.collect()
    assert (ok.media_id, ok.date, ok.load_count, ok.play_count) == (MEDIA, date(2026, 5, 1), 4, 2)
    assert sorted(r.reason for r in quarantine.collect()) == sorted(
        [
            "plays > loads",
            "negative counts",
            "unparseable date",
            "missing or non-numeric counts",
            "negative counts",
        ]
    )
    _, no_media = validate_media_daily(read_page(spark, rows[:1], "media_by_date", None))
    assert [r.reason for r in no_media.collect()] == ["missing media_id"]


def test_snapshot_streams_reasons(spark):
    stats = {"load_count": 5, "play_count": 2, "play_rate": 1.4, "engagement": 0.5}
    _, quarantine = validate(read_page(spark, stats, "media_stats"), "media_stats")
    assert [r.reason for r in quarantine.collect()] == ["play_rate or engagement outside 0-1"]
    curve = {"engagement": 0.5, "engagement_data": [3, 2], "rewatch_data": "oops"}
    valid, quarantine = validate(read_page(spark, curve, "media_engagement"), "media_engagement")
    (row,) = valid.collect()
    assert (row.engagement_data, row.rewatch_data) == ([3, 2], None)
    assert quarantine.count() == 0
    medias = [{"hashed_id": "abc", "folder": {"id": 3, "name": "F", "hashed_id": "x"}}, {}]
    valid, quarantine = validate(read_page(spark, medias, "medias", None), "medias")
    (row,) = valid.collect()
    assert (row.media_id, row.folder_id, row.folder_name, row.folder_hashed_id) == (
        "abc",
        3,
        "F",
        "x",
    )
    assert [r.reason for r in quarantine.collect()] == ["missing hashed_id"]


@pytest.mark.parametrize("pii", ["masked", "hashed", "raw"])
def test_quarantined_records_keep_no_address_unless_pii_is_raw(spark, pii):
    from pipeline.transform.validate import quarantine_rows, redact_raw, tag

    record = {"visitor_key": "v1", "ip": "203.0.113.7", "email": "ann@example.com"}
    (row,) = quarantine_rows(tag(read_page(spark, [record]), "events"), "events", pii).collect()
    assert row.reason == "missing event_key"
    page = spark.createDataFrame(
        [('[{"ip": "198.51.100.9", "email":"bo@example.com", "x',)], "t string"
    )
    (text,) = page.select(redact_raw(F.col("t"), pii).alias("t")).first()
    for raw, address in ((row.raw, "203.0.113.7"), (text, "198.51.100.9")):
        if pii == "raw":
            assert address in raw and "@example.com" in raw
        else:
            assert address not in raw and "@example.com" not in raw
            assert '"[redacted]"' in raw
