"""A client-side rate limit per vendor that holds across pytest-xdist workers (a file lock, not a scheduler)."""

from __future__ import annotations

import time
from pathlib import Path

from conformance import waits

# Calls are spaced a little wider than the rate asks: the vendor counts arrivals, and arrivals jitter.
SAFETY = 1.1


class RateLimiter:
    """Spaces calls to one vendor at least ``1.1/rate`` seconds apart, across every process sharing ``state_dir``.

    The next slot is stamped after the wait, from the moment the call really goes, so a caller that
    woke late never lets the next one follow it closer than the interval.
    """

    def __init__(self, name: str, rate_per_s: float | None, state_dir: Path) -> None:
        self.interval = SAFETY / rate_per_s if rate_per_s else 0.0
        state_dir.mkdir(parents=True, exist_ok=True)
        self.stamp = state_dir / f"{name}.next"
        self.lock_path = state_dir / f"{name}.lock"

    def acquire(self) -> float:
        """Block until a call may go; returns the seconds waited."""
        if not self.interval:
            return 0.0
        from filelock import FileLock  # only a limited vendor needs the lock (a live run), not every run

        with FileLock(str(self.lock_path)):
            try:
                next_at = float(self.stamp.read_text() or 0)
            except (FileNotFoundError, ValueError):
                next_at = 0.0
            wait = max(0.0, next_at - time.time())
            if wait:
                # Holding the lock: the others queue behind this call, in order.
                waits.sleep(f"the client-side rate limit of {self.stamp.stem}", wait)
            self.stamp.write_text(repr(time.time() + self.interval))
        return wait
