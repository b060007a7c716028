"""The run lock: one holder at a time, and a momentary status probe is not a holder."""

from __future__ import annotations

import fcntl
import os
import threading

import pytest

from pipeline.lock import RunInProgress, RunLock


def hold(path, seconds: float) -> threading.Thread:
    """Hold the lock from another open file description for `seconds` (like `is_held`)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    timer = threading.Timer(seconds, lambda: os.close(fd))
    timer.start()
    return timer


def test_a_brief_probe_does_not_make_a_starting_run_fail(tmp_path):
    path = tmp_path / "runs" / ".lock"
    path.parent.mkdir()
    probe = hold(path, 0.2)
    with RunLock(path, "run-1"):
        assert RunLock.is_held(path)
    probe.join()
    assert not RunLock.is_held(path)


def test_a_second_run_is_refused_while_the_first_holds_the_lock(tmp_path):
    path = tmp_path / ".lock"
    with RunLock(path, "run-1"), pytest.raises(RunInProgress, match="run-1"):
        RunLock(path, "run-2").__enter__()
