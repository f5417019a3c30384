"""The gate as ASGI middleware: wraps any app (the sandbox, or the proxy) and shows each exchange to a judge.

The request body is read first and replayed to the app, so the app answers exactly as it would
alone. While the app works, the gate listens for the client hanging up: an answer the client never
received is what a client that timed out saw, and judging its next move depends on knowing that.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from conformance.clientgate.judge import Judge
from conformance.clientgate.operations import GATE_PREFIX
from conformance.clientgate.traffic import Seen

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]
Observer = Callable[[Seen], None]
PART_WAIT_S = 30.0


class GateMiddleware:
    """``GET /_clientgate/part`` answers what the judge saw so far, for a test session pointed at a server."""

    def __init__(self, app: ASGIApp, judge: Judge, observers: Iterable[Observer] = ()) -> None:
        self.app = app
        self.judge = judge
        self.observers = (judge.observe, *observers)
        self.in_flight = 0

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == f"{GATE_PREFIX}/part":
            # A revoke the client gave up on is still being answered: its outcome belongs in the part.
            deadline = time.monotonic() + PART_WAIT_S
            while self.in_flight and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            await _json(send, self.judge.part())
            return
        self.in_flight += 1
        try:
            await self._gate(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _gate(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        started = time.monotonic()
        body = await _read_body(receive)
        state: dict[str, Any] = {"sent": False, "lost": False, "status": None, "headers": [], "body": []}

        async def watch() -> Message:
            message = await receive()
            if message["type"] == "http.disconnect" and not state["sent"]:
                state["lost"] = True
            return message

        watcher = asyncio.ensure_future(watch())
        replayed = False

        async def app_receive() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await asyncio.shield(watcher)

        async def app_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                state["headers"] = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])]
            elif message["type"] == "http.response.body":
                state["body"].append(message.get("body", b""))
                if not message.get("more_body", False):
                    state["sent"] = True
            await send(message)

        try:
            await self.app(scope, app_receive, app_send)
        finally:
            await asyncio.sleep(0)
            if not watcher.done():
                watcher.cancel()
            seen = _seen(scope, body, state, started)
            for observe in self.observers:
                observe(seen)


def _seen(scope: MutableMapping[str, Any], body: bytes, state: dict[str, Any], started: float) -> Seen:
    headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", []))
    return Seen(
        method=scope["method"],
        path=scope["path"],
        query=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        body=body,
        status=state["status"],
        response_headers=tuple(state["headers"]),
        response_body=b"".join(state["body"]),
        delivered=state["sent"] and not state["lost"],
        started=started,
        finished=time.monotonic(),
    )


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _json(send: Send, payload: object) -> None:
    raw = json.dumps(payload, sort_keys=True).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": raw})
