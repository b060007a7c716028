"""One run at a time: an exclusive, non-blocking file lock.

`flock` is released by the kernel when the holder dies, even by SIGKILL, so a killed run never
leaves a stale lock behind; the lock file's text only says who holds it, for the error message.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from pathlib import Path
from types import TracebackType

# `is_held` probes by taking the lock for an instant: a run starting at that instant retries
# for a moment instead of taking the probe for another run.
LOCK_ATTEMPTS, LOCK_PAUSE_SECONDS = 20, 0.05


def _try_lock(fd: int) -> bool:
    """Take the exclusive lock on `fd`, retrying briefly; False if another process holds it."""
    for attempt in range(LOCK_ATTEMPTS):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if attempt + 1 < LOCK_ATTEMPTS:
                time.sleep(LOCK_PAUSE_SECONDS)
    return False


class RunInProgress(RuntimeError):
    """Another run holds the lock."""


def lock_path(data_root: str) -> Path:
    """`<root>/runs/.lock` for a local root; a per-root file in ~/.cache for s3:// roots."""
    if "://" in data_root:
        digest = hashlib.sha256(data_root.encode()).hexdigest()[:16]
        return Path.home() / ".cache" / "wvi" / f"run-{digest}.lock"
    return Path(data_root).expanduser().resolve() / "runs" / ".lock"


class RunLock:
    """`with RunLock(path, run_id):` — raises `RunInProgress` if another process holds it."""

    def __init__(self, path: Path, run_id: str) -> None:
        self.path = path
        self.run_id = run_id
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_lock(fd):
            holder = os.read(fd, 200).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise RunInProgress(
                f"another pipeline run is in progress ({holder}); wait for it to finish"
            )
        os.ftruncate(fd, 0)
        os.write(fd, f"run {self.run_id}, pid {os.getpid()}".encode())
        self._fd = fd
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @staticmethod
    def is_held(path: Path) -> bool:
        """True while some process holds the lock (used to spot runs that were killed)."""
        if not path.exists():
            return False
        fd = os.open(path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # closing releases a lock we may have just taken
        return False
