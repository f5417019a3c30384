"""Serve the sandbox over real sockets: in a background thread for tests, or in the foreground for a CLI."""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette

from conformance.sandbox import create_app
from conformance.sandbox.auth import SandboxCredentials
from conformance.sandbox.web import dumps

STARTUP_TIMEOUT_S = 10.0


def _bound_port(server: uvicorn.Server) -> int:
    for listener in server.servers:
        for sock in listener.sockets:
            return int(sock.getsockname()[1])
    raise RuntimeError("uvicorn reported started without a listening socket")


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


@contextmanager
def run_in_thread(
    app: Starlette | Callable[..., Awaitable[None]], host: str = "127.0.0.1", port: int = 0, *, join: bool = True
) -> Iterator[str]:
    """Run ``app`` under uvicorn in a daemon thread; yield its base URL once it accepts connections.

    On exit the server is told to stop; ``join=False`` does not wait for it (uvicorn's shutdown sleeps a
    fixed 0.2 s), for a caller whose process ends with it anyway.
    """
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="sandbox-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"sandbox server did not start on {host}:{port}")
        time.sleep(0.01)
    bound = _bound_port(server)
    while not _accepts(host, bound):
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"sandbox server on {host}:{bound} does not accept connections")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        if join:
            thread.join(timeout=STARTUP_TIMEOUT_S)


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    apis: Iterable[str] | None = None,
    seed: int = 0,
    deviation: str | None = None,
    credentials: SandboxCredentials | None = None,
    wrap: Callable[[Starlette], Any] | None = None,
    gap_profile: str = "faithful",
    vendor_setup: bool = True,
) -> None:
    """Serve in the foreground until Ctrl-C or SIGTERM, logging one line per request.

    ``wrap`` may put ASGI middleware around the app (the client gate does); the sandbox knows nothing of it.
    """
    creds = credentials or SandboxCredentials()
    app = create_app(
        seed=seed, apis=apis, deviation=deviation, credentials=creds, gap_profile=gap_profile, vendor_setup=vendor_setup
    )
    state = app.state.sandbox
    # Bind first, so the banner names the real port even when asked for any free one (--port 0).
    # proto IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on such sockets' connections, and without it
    # Nagle's algorithm holds each response body for the client's delayed ACK (about 40 ms a request).
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound = sock.getsockname()[1]
    setup = "" if vendor_setup else ", vendor setup endpoints off"
    sys.stdout.write(
        f"sandbox listening on http://{host}:{bound} (seed {seed}, deviation {deviation}, gap profile {gap_profile}{setup})\n"
    )
    sys.stdout.write(f"apis: {', '.join(state.apis)}\n")
    sys.stdout.write("credentials: " + dumps(creds.describe(state.apis)).decode() + "\n")
    sys.stdout.flush()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    # uvicorn's access log is exactly one line per request; it handles SIGINT/SIGTERM itself.
    config = uvicorn.Config(wrap(app) if wrap else app, log_level="info", access_log=True, lifespan="off")
    # uvicorn re-raises the Ctrl-C it handled; stopping on it is the normal way out.
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run(sockets=[sock])
    sys.stdout.write("sandbox stopped\n")
    sys.stdout.flush()
