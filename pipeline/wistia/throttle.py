"""Client-side throttle: a sliding-window limiter shared by every worker thread.

Wistia allows 600 requests per rolling minute per account. The server counts arrivals, and a
request started by us arrives a little later, so the limiter keeps a safety margin in time
(`padding_seconds`) and in count (`headroom`) rather than running at exactly the limit.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class SlidingWindowLimiter:
    """At most `limit` acquisitions in any `window_seconds` (+ padding) interval."""

    def __init__(
        self,
        limit: int,
        window_seconds: float = 60.0,
        *,
        headroom: float = 0.02,
        padding_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if limit < 1:
            raise ValueError("rate limit must be at least 1 request per window")
        self.limit = max(1, math.floor(limit * (1 - headroom)))
        self.window = window_seconds + (
            padding_seconds if padding_seconds is not None else min(1.0, window_seconds * 0.02)
        )
        self._starts: deque[float] = deque()
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        self.waited_seconds = 0.0

    def acquire(self) -> None:
        """Block until one more request fits in the window, then record it."""
        while True:
            with self._lock:
                now = self._clock()
                while self._starts and now - self._starts[0] >= self.window:
                    self._starts.popleft()
                if len(self._starts) < self.limit:
                    self._starts.append(now)
                    return
                wait = self.window - (now - self._starts[0])
            self.waited_seconds += wait
            self._sleep(max(wait, 0.001))
