"""A client-side rate limit per vendor that holds across pytest-xdist workers (a file lock, not a scheduler)."""

from __future__ import annotations

import time
from pathlib import Path

from filelock import FileLock

from conformance import waits


class RateLimiter:
    """Spaces calls to one vendor at least ``1/rate`` seconds apart, across every process sharing ``state_dir``."""

    def __init__(self, name: str, rate_per_s: float | None, state_dir: Path) -> None:
        self.interval = 1.0 / rate_per_s if rate_per_s else 0.0
        state_dir.mkdir(parents=True, exist_ok=True)
        self.stamp = state_dir / f"{name}.next"
        self.lock = FileLock(str(state_dir / f"{name}.lock"))

    def acquire(self) -> float:
        """Block until a call may go; returns the seconds waited."""
        if not self.interval:
            return 0.0
        with self.lock:
            now = time.time()
            try:
                next_at = float(self.stamp.read_text() or 0)
            except (FileNotFoundError, ValueError):
                next_at = 0.0
            wait = max(0.0, next_at - now)
            self.stamp.write_text(repr(max(now, next_at) + self.interval))
        if wait:
            waits.sleep(f"the client-side rate limit of {self.stamp.stem}", wait)
        return wait
