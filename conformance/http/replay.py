"""The replay transport: every answer comes from the cassette being played; no socket is ever opened.

The HTTP layer knows nothing of cassettes: the recording layer installs a player for the duration of a
test (``playing``) and this transport hands it each request. One player at a time, visible to every
thread of the test (its concurrent requests), as vcrpy's patch was.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Protocol

import httpx

# The extension a replayed response carries: the waits it asks for (Retry-After) passed when it was recorded.
REPLAYED = "conformance.replayed"


class Player(Protocol):
    def respond(self, request: httpx.Request) -> httpx.Response: ...


_lock = threading.Lock()
_playing: list[Player] = []


def is_replayed(response: httpx.Response) -> bool:
    return bool(response.extensions.get(REPLAYED))


@contextlib.contextmanager
def playing(player: Player) -> Iterator[None]:
    """Answer the replay transport's requests from ``player`` until the block ends."""
    with _lock:
        _playing.append(player)
    try:
        yield
    finally:
        with _lock:
            _playing.remove(player)


class ReplayTransport(httpx.BaseTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with _lock:
            player = _playing[-1] if _playing else None
        if player is None:
            raise httpx.ConnectError("replay is offline: no cassette is being played", request=request)
        return player.respond(request)
