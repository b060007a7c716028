import pytest

from pipeline.wistia.client import Page
from pipeline.wistia.errors import RepeatedPageError, WistiaError
from pipeline.wistia.paginate import paginate


def pages_of(sizes: list[int], repeat_at: int | None = None):
    requested: list[int] = []

    def fetch(number: int) -> Page:
        requested.append(number)
        size = sizes[number - 1]
        digest = f"page-{number - 1 if number == repeat_at else number}"
        return Page(data=[{"n": i} for i in range(size)], sha256=digest, part="", attempts=1)

    return fetch, requested


def test_stops_on_a_short_page():
    fetch, requested = pages_of([3, 3, 1, 3])
    pages = list(paginate(fetch, per_page=3))
    assert [len(p.data) for p in pages] == [3, 3, 1]
    assert requested == [1, 2, 3]


def test_stops_on_an_empty_page():
    fetch, requested = pages_of([3, 3, 0])
    assert [len(p.data) for p in paginate(fetch, per_page=3)] == [3, 3, 0]
    assert requested == [1, 2, 3]


def test_raises_on_a_repeated_page():
    fetch, _ = pages_of([3, 3, 3, 3], repeat_at=3)
    with pytest.raises(RepeatedPageError, match="page 3 repeats page 2"):
        list(paginate(fetch, per_page=3))


def test_stop_predicate_ends_early():
    fetch, requested = pages_of([3, 3, 3, 3])
    list(paginate(fetch, per_page=3, stop=lambda records: True))
    assert requested == [1]


def test_rejects_a_non_array_body():
    def fetch(number: int) -> Page:
        return Page(data={"error": "x"}, sha256="a", part="", attempts=1)

    with pytest.raises(WistiaError, match="not a JSON array"):
        list(paginate(fetch))
