from pipeline.wistia.throttle import SlidingWindowLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_no_window_ever_holds_more_than_the_limit():
    clock = FakeClock()
    limiter = SlidingWindowLimiter(
        10, 1.0, headroom=0, padding_seconds=0, clock=clock, sleep=clock.sleep
    )
    starts = []
    for _ in range(35):
        limiter.acquire()
        starts.append(clock.now)
    for i, t in enumerate(starts):
        in_window = [s for s in starts[i:] if s - t < 1.0]
        assert len(in_window) <= 10
    # It waited rather than refusing: 35 requests at 10/s need at least 3 full windows.
    assert starts[-1] >= 3.0


def test_headroom_and_padding_keep_a_margin_below_the_server_limit():
    limiter = SlidingWindowLimiter(600, 60.0)
    assert limiter.limit == 588
    assert limiter.window == 61.0


def test_rejects_a_zero_limit():
    try:
        SlidingWindowLimiter(0)
    except ValueError as exc:
        assert "at least 1" in str(exc)
    else:
        raise AssertionError("expected ValueError")
