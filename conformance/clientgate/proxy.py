"""``conformance proxy``: forward a client's traffic to a vendor sandbox, judge both directions, record it.

The requests are judged by the same gate as the sandbox's (so the same traffic gives the same
verdict); the answers are run through the suite's registered response checks, whose violations
are reported beside the client's breaches; cassettes are vcrpy YAML, redacted before writing.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import httpx

from conformance.clientgate.middleware import Message, Receive, Send
from conformance.clientgate.operations import identify
from conformance.clientgate.traffic import Seen
from conformance.http.redact import Redactor

# Hop-by-hop and framing headers are the proxy's own business on each leg.
HOP_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "keep-alive", "content-encoding", "accept-encoding"}
)


class ForwardApp:
    """An ASGI app that sends each request on to ``upstream`` and answers with what came back."""

    def __init__(self, upstream: str, *, timeout: float = 60.0) -> None:
        self.upstream = upstream.rstrip("/")
        self.timeout = timeout

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message: Message = await receive()
            if message["type"] != "http.request":
                return
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        headers = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in scope.get("headers", [])
            if k.decode("latin-1").lower() not in HOP_HEADERS
        ]
        query = scope.get("query_string", b"").decode("latin-1")
        url = self.upstream + scope["path"] + (f"?{query}" if query else "")
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            try:
                response = await client.request(scope["method"], url, headers=headers, content=body)
                status, content = response.status_code, response.content
                out = [(k, v) for k, v in response.headers.items() if k.lower() not in HOP_HEADERS]
            except httpx.HTTPError as exc:
                status, content, out = 502, f"proxy: upstream {self.upstream} failed: {exc}".encode(), []
        raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in out]
        raw.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": content})


class ResponseJudge:
    """Runs the suite's response checks on each vendor answer; violations and verified rules are kept."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self.records: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def observe(self, seen: Seen, upstream: str) -> None:
        from conformance.checks.registry import run_checks
        from conformance.http.exchange import Exchange
        from conformance.rules import load_catalogue
        from conformance.verdicts import Recorder, recording

        operation = identify(seen)
        if operation is None or seen.status is None:
            return
        request = httpx.Request(seen.method, upstream + seen.path + (f"?{seen.query}" if seen.query else ""))
        request.headers.update(dict(seen.headers))
        request._content = seen.body
        response = httpx.Response(seen.status, headers=list(seen.response_headers), content=seen.response_body)
        exchange = Exchange(operation.api, operation.name, "test", request, response, self.redactor)
        recorder = Recorder("proxy", load_catalogue(), lambda _: f"live:{upstream}", self.redactor.text)
        # A violation is recorded before it raises; the proxy keeps answering.
        with recording(recorder), contextlib.suppress(AssertionError):
            run_checks(exchange, recorder)
        with self._lock:
            self.records.extend(record.model_dump() for record in recorder.records)

    def summary(self) -> dict[str, Any]:
        with self._lock:
            violated = [r for r in self.records if r["status"] == "violated"]
            verified = sorted({r["rule_id"] for r in self.records if r["status"] == "verified"})
        return {"violations": violated, "verified_rules": verified}


class CassetteRecorder:
    """Every exchange through the proxy, redacted, as one vcrpy cassette written when the proxy stops."""

    def __init__(self, path: Path, redactor: Redactor, upstream: str) -> None:
        self.path, self.redactor, self.upstream = path, redactor, upstream.rstrip("/")
        self.interactions: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def observe(self, seen: Seen) -> None:
        from vcr.request import Request as VcrRequest

        from conformance.recording import CassetteFilters

        filters = CassetteFilters(self.redactor)
        uri = self.upstream + seen.path + (f"?{seen.query}" if seen.query else "")
        request = filters.request(VcrRequest(seen.method, uri, seen.body, dict(seen.headers)))
        headers: dict[str, list[str]] = {}
        for name, value in seen.response_headers:
            headers.setdefault(name, []).append(value)
        response = filters.response(
            {
                "status": {"code": seen.status or 0, "message": ""},
                "headers": headers,
                "body": {"string": seen.response_body},
            }
        )
        with self._lock:
            self.interactions.append({"request": request._to_dict(), "response": response})

    def write(self) -> None:
        from vcr.serializers import yamlserializer

        from conformance.clientgate.verdict import atomic_write

        with self._lock:
            data = yamlserializer.serialize({"interactions": list(self.interactions), "version": 1})
        atomic_write(self.path, data.encode())
