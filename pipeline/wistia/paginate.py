"""Page-number pagination over Wistia's bare-array lists.

Wistia sends no total and no next link: the list ends at an empty page or one shorter than
`per_page`. A page identical to the one before it means the server is not advancing (a bug or
a proxy cache), and would loop forever, so it is an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from pipeline.wistia.client import Page
from pipeline.wistia.errors import RepeatedPageError, WistiaError
from pipeline.wistia.streams import PER_PAGE


def paginate(
    fetch: Callable[[int], Page],
    *,
    per_page: int = PER_PAGE,
    stop: Callable[[list[Any]], bool] | None = None,
    max_pages: int = 1_000_000,
) -> Iterator[Page]:
    """Yield pages 1, 2, … until a short or empty page, or until `stop(records)` is true."""
    previous: str | None = None
    for number in range(1, max_pages + 1):
        page = fetch(number)
        if not isinstance(page.data, list):
            raise WistiaError(f"page {number} is not a JSON array (got {type(page.data).__name__})")
        if previous is not None and page.data and page.sha256 == previous:
            raise RepeatedPageError(f"page {number} repeats page {number - 1}; stopping")
        previous = page.sha256
        yield page
        if len(page.data) < per_page or (stop is not None and stop(page.data)):
            return
    raise WistiaError(f"more than {max_pages} pages; refusing to continue")
