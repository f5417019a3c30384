"""One request a client sent and the answer it got (or did not get), as the gate saw it on the wire."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

DEFAULT_TENANT = "default"


@dataclass(frozen=True)
class Seen:
    """A request and its response; ``delivered`` is False when the client hung up before the answer."""

    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    status: int | None
    response_headers: tuple[tuple[str, str], ...]
    response_body: bytes
    delivered: bool
    started: float
    finished: float

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def response_header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.response_headers if key.lower() == wanted), None)

    @property
    def tenant(self) -> str:
        return self.header("x-sandbox-tenant") or DEFAULT_TENANT

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()

    def json(self) -> Any:
        """The request body as JSON, or None when it is not JSON."""
        return _json(self.body)

    def response_json(self) -> Any:
        return _json(self.response_body)

    def form(self) -> dict[str, str] | None:
        """The request body as form fields, or None when it is JSON or not a form."""
        text = self.body.decode("utf-8", "replace").strip()
        if not text or text.startswith(("{", "[")):
            return None if text else {}
        try:
            return dict(parse_qsl(text, keep_blank_values=True, strict_parsing=True))
        except ValueError:
            return None

    def query_params(self) -> dict[str, str]:
        return dict(parse_qsl(self.query, keep_blank_values=True))


def _json(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
