"""Long waits announced: what the suite waits for, for how long, and until when.

The HTTP layer (client-side rate limit, ``Retry-After``) and the context's polling call these; the progress
plugin (:mod:`conformance.reporting.progress`) subscribes and prints one line per wait longer than
:data:`THRESHOLD_S`. This module imports nothing of the project, so every layer may use it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

THRESHOLD_S = 3.0


@dataclass(frozen=True)
class Wait:
    what: str
    seconds: float  # how long (a sleep) or at most how long (a poll, ``upto``)
    until: datetime
    upto: bool = False
    elapsed: float = 0.0  # a poll is announced once it has lasted THRESHOLD_S

    def line(self) -> str:
        clock = self.until.strftime("%H:%M:%S UTC")
        if self.upto:
            return (
                f"waiting for {self.what}: {self.elapsed:.0f} s so far, at most {self.seconds:.0f} s more "
                f"(until {clock})"
            )
        return f"waiting {self.seconds:.0f} s for {self.what} (until {clock})"


Listener = Callable[[Wait], None]
_listeners: list[Listener] = []
_lock = threading.Lock()


def subscribe(listener: Listener) -> Callable[[], None]:
    """Call ``listener`` for every long wait; returns the function that unsubscribes it."""
    with _lock:
        _listeners.append(listener)

    def unsubscribe() -> None:
        with _lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return unsubscribe


def announce(wait: Wait) -> None:
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        listener(wait)


def sleep(what: str, seconds: float) -> None:
    """``time.sleep(seconds)``, announced first when it is longer than :data:`THRESHOLD_S`."""
    if seconds >= THRESHOLD_S:
        announce(Wait(what, seconds, datetime.now(UTC) + timedelta(seconds=seconds)))
    if seconds > 0:
        time.sleep(seconds)


class Poll:
    """A poll up to ``deadline_s``: :meth:`tick` announces it once, when it has lasted :data:`THRESHOLD_S`."""

    def __init__(self, what: str, deadline_s: float) -> None:
        self.what = what
        self.deadline_s = deadline_s
        self.announced = False

    def tick(self, elapsed: float) -> None:
        if self.announced or elapsed < THRESHOLD_S:
            return
        self.announced = True
        left = max(0.0, self.deadline_s - elapsed)
        announce(Wait(self.what, left, datetime.now(UTC) + timedelta(seconds=left), upto=True, elapsed=elapsed))
