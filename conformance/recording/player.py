"""Replay from an in-memory index of the cassette: a dictionary lookup per request, no vcrpy.

A cassette is parsed once per content (``yamlcache``: the input check's parse is reused, and later runs
read it from the cache), and its recorded requests and responses pass the same redaction filter vcrpy
ran on them when it loaded a cassette. Each recorded request is filed under its method, path and query
as the matchers compare them, with the shape of its body. A sent request is filtered the same way and
answered by the first unplayed recording under its key whose body matches: what vcrpy's scan of the
whole cassette with the same matchers found. Unplayed interactions, requests without a recording and
stale or missing cassettes fail as before; sockets stay refused.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from conformance import yamlcache
from conformance.errors import UsageError
from conformance.http.redact import Redactor
from conformance.http.replay import REPLAYED
from conformance.recording.filters import MATCHERS, CassetteFilters, body_shape, route_key

RERECORD = "python3 noxfile.py -s record"


class ReplayMiss(Exception):
    """A replayed test sent a request its cassette holds no unplayed recording of."""


class Headers(MutableMapping[str, Any]):
    """Header names matched case-insensitively, each name kept as first set; a list keeps its first value."""

    def __init__(self, items: Mapping[str, Any] | None = None) -> None:
        self._store: dict[str, tuple[str, Any]] = {}
        for name, value in (items or {}).items():
            self[name] = value

    def __setitem__(self, name: str, value: Any) -> None:
        if isinstance(value, list | tuple):
            value = value[0]
        old = self._store.get(name.lower())
        self._store[name.lower()] = (old[0] if old else name, value)

    def __getitem__(self, name: str) -> Any:
        return self._store[name.lower()][1]

    def __delitem__(self, name: str) -> None:
        del self._store[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return (name for name, _value in self._store.values())

    def __len__(self) -> int:
        return len(self._store)


@dataclass
class Request:
    """A request as the matchers see it (the shape of vcrpy's ``Request``)."""

    method: str
    uri: str
    body: bytes | None
    headers: MutableMapping[str, Any] = field(default_factory=Headers)

    @classmethod
    def recorded(cls, data: Mapping[str, Any]) -> Request:
        body = data.get("body")
        return cls(
            str(data["method"]),
            str(data["uri"]),
            body.encode("utf-8") if isinstance(body, str) else body,
            Headers(data.get("headers") or {}),
        )

    @classmethod
    def sent(cls, request: httpx.Request) -> Request:
        return cls(request.method, str(request.url), request.read(), Headers(request.headers))


def parse_cassette(path: Path) -> Any:
    """The cassette's YAML, parsed once per content (the input check's parse serves the replay too)."""
    return yamlcache.load_path(path)


def load_interactions(path: Path) -> list[dict[str, Any]]:
    """The cassette's interactions as parsed, a fresh copy per call."""
    data = parse_cassette(path)
    interactions = data.get("interactions") if isinstance(data, dict) else None
    if not isinstance(interactions, list) or not all(
        isinstance(i, dict) and isinstance(i.get("request"), dict) and isinstance(i.get("response"), dict)
        for i in interactions
    ):
        raise UsageError(f"The cassette {path} is not in vcrpy's format; re-record it with `{RERECORD}`.")
    return interactions


def _response_bytes(response: dict[str, Any]) -> dict[str, Any]:
    """vcrpy's loading of a stored response: the body as bytes, a compressed body decoded."""
    body = response.get("body")
    if isinstance(body, dict) and isinstance(body.get("string"), str):
        body["string"] = body["string"].encode("utf-8")
    encoded = {k.lower(): v for k, v in (response.get("headers") or {}).items()}.get("content-encoding")
    if encoded:
        from vcr.filters import decode_response  # only a hand-made cassette stores a compressed body

        response = decode_response(response)
    return response


def _as_httpx(response: Mapping[str, Any]) -> httpx.Response:
    """The stored response as vcrpy's httpx stub built it, marked as replayed."""
    extensions: dict[str, Any] = {REPLAYED: True}
    if "status_code" in response:  # the layout of cassettes recorded by vcrpy's older httpx stub
        status, headers, content = response["status_code"], response["headers"], response["content"]
    else:
        status, headers, content = response["status"]["code"], response["headers"], response["body"]["string"]
        if message := response["status"].get("message"):
            extensions["reason_phrase"] = message.encode("ascii")
    if isinstance(content, str):
        content = content.encode("utf-8")
    items = [(name, value) for name, values in headers.items() for value in values]
    return httpx.Response(status, headers=items, stream=httpx.ByteStream(content or b""), extensions=extensions)


class CassettePlayer:
    """One test's cassette, indexed; answers each sent request with its recorded response, each once."""

    def __init__(self, path: Path, redactor: Redactor) -> None:
        self.path = path
        self.filters = CassetteFilters(redactor)
        self.requests: list[Request] = []
        self.responses: list[dict[str, Any]] = []
        # Per method, path and query, the unplayed interactions in recorded order with their body shapes: a
        # request takes the first whose body matches, as vcrpy's scan over the whole cassette did.
        self.index: dict[tuple[Any, ...], list[tuple[int, Any]]] = {}
        self.played: set[int] = set()
        self.lock = threading.Lock()  # concurrent requests of one test (ctx.concurrently) share the cassette
        for interaction in load_interactions(path):
            # As vcrpy loaded a cassette: each stored request and response through the record filters again.
            request = self.filters.request(Request.recorded(interaction["request"]))
            response = self.filters.response(_response_bytes(interaction["response"]))
            self.index.setdefault(route_key(request), []).append((len(self.requests), body_shape(request)))
            self.requests.append(request)
            self.responses.append(response)

    def respond(self, request: httpx.Request) -> httpx.Response:
        sent = self.filters.request(Request.sent(request))
        route, body = route_key(sent), body_shape(sent)
        with self.lock:
            waiting = self.index.get(route, [])
            found = next((n for n, (_number, shape) in enumerate(waiting) if shape == body), None)
            if found is None:
                raise ReplayMiss(self.describe_miss(sent))
            number, _shape = waiting.pop(found)
            self.played.add(number)
        return _as_httpx(self.responses[number])

    @property
    def unplayed(self) -> int:
        return len(self.requests) - len(self.played)

    def describe_miss(self, sent: Request) -> str:
        """One paragraph: the cassette, the request that has no recording, the closest one and what differs."""
        text = f"No recorded interaction in {self.path} matches {sent.method} {urlsplit(sent.uri).path}"
        best: tuple[int, Request, list[str]] | None = None
        for stored in self.requests:
            failures: list[str] = []
            for name, matcher in MATCHERS.items():
                try:
                    matcher(sent, stored)
                except AssertionError as exc:
                    failures.append(f"{name}: {exc}")
            passed = len(MATCHERS) - len(failures)
            if passed >= 1 and (best is None or passed > best[0]):
                best = (passed, stored, failures)
        if best is not None:
            _passed, closest, failures = best
            diffs = "; ".join(failures) or "it was already played"
            text += f". Closest recorded request: {closest.method} {urlsplit(closest.uri).path}; differs in {diffs}"
        return text + f". Re-record with `{RERECORD}` if the suite changed on purpose."
