"""Terminal output: rich progress on stderr, one-line errors, quiet mode for CI."""

from __future__ import annotations

import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

stderr = Console(stderr=True, highlight=False)
stdout = Console(highlight=False, soft_wrap=True)


def fail(message: str) -> None:
    """The one-line reason for a failed command, on stderr."""
    print(f"error: {' '.join(message.split())}", file=sys.stderr)


class StreamProgress:
    """Live per-stream counters of requests and records."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._tasks: dict[str, int] = {}
        self._counts: dict[str, Counter[str]] = {}
        self._lock = threading.Lock()

    def __call__(self, stream: str, requests: int, records: int) -> None:
        with self._lock:
            counts = self._counts.setdefault(stream, Counter())
            counts["requests"] += requests
            counts["records"] += records
            if self._progress is None:
                return
            if stream not in self._tasks:
                self._tasks[stream] = self._progress.add_task(stream, total=None)
            self._progress.update(
                self._tasks[stream],
                description=f"{stream:<17} {counts['requests']:>6} requests "
                f"{counts['records']:>9} records",
            )


@contextmanager
def stream_progress(quiet: bool) -> Iterator[StreamProgress]:
    if quiet or not stderr.is_terminal:
        yield StreamProgress(None)
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=stderr, transient=False) as progress:
        yield StreamProgress(progress)
