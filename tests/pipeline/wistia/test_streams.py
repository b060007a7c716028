from datetime import date

from pipeline.wistia.streams import EVENTS, MEDIA_BY_DATE, MEDIA_STATS, MEDIAS, STREAMS


def test_the_five_streams_are_declared():
    assert set(STREAMS) == {"medias", "media_stats", "media_by_date", "events", "media_engagement"}


def test_events_request_carries_media_window_and_paging():
    params = EVENTS.request_params("abc", (date(2026, 5, 1), date(2026, 5, 3)), 2)
    assert params == {
        "media_id": "abc",
        "start_date": "2026-05-01",
        "end_date": "2026-05-03",
        "page": 2,
        "per_page": 100,
    }
    assert EVENTS.request_path("abc") == "/stats/events"


def test_media_paths_and_list_sorting():
    assert MEDIA_STATS.request_path("abc") == "/stats/medias/abc"
    assert MEDIA_BY_DATE.request_params("abc", (date(2026, 5, 1), date(2026, 5, 1))) == {
        "start_date": "2026-05-01",
        "end_date": "2026-05-01",
    }
    assert MEDIAS.request_params(page=1) == {
        "sort_by": "updated",
        "sort_direction": "0",
        "page": 1,
        "per_page": 100,
    }
