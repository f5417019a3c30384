"""One HTTP exchange, as the suite saw it, with redacted renderings for reports and reproductions."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

import httpx

from conformance.http.redact import Redactor

Phase = str  # "test" | "setup" | "readback" | "control"


@dataclass
class Exchange:
    api: str
    operation: str | None
    phase: Phase
    request: httpx.Request
    response: httpx.Response | None
    redactor: Redactor
    error: str | None = None
    elapsed_ms: float = 0.0
    rule_ids: tuple[str, ...] = field(default_factory=tuple)
    # How a generated (property) case came to be: generation mode and phase, and what replay needs to
    # judge the recorded request as it was judged when it was sent. Empty for scripted requests.
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> int | None:
        return self.response.status_code if self.response is not None else None

    def json(self) -> Any:
        """The response body as JSON, or None when there is no body or it is not JSON."""
        if self.response is None or not self.response.content:
            return None
        try:
            return self.response.json()
        except (ValueError, UnicodeDecodeError):
            return None

    def request_body_text(self) -> str:
        content = self.request.content
        return content.decode("utf-8", "replace") if content else ""

    def curl(self) -> str:
        """A redacted curl command that replays the request."""
        parts = ["curl", "-X", self.request.method, shlex.quote(self.redactor.text(str(self.request.url)))]
        for name, value in self.redactor.headers(self.request.headers.items()):
            if name.lower() in {"host", "content-length", "accept-encoding", "connection", "user-agent"}:
                continue
            parts += ["-H", shlex.quote(f"{name}: {value}")]
        body = self.request_body_text()
        if body:
            parts += ["--data-raw", shlex.quote(self.redactor.text(body))]
        return " ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        """A redacted, JSON-ready rendering for attachments and cassette sidecars."""
        response: dict[str, Any] | None = None
        if self.response is not None:
            response = {
                "status": self.response.status_code,
                "headers": dict(self.redactor.headers(self.response.headers.items())),
                "body": self.redactor.text(self.response.text) if self.response.content else "",
            }
        return {
            "api": self.api,
            "operation": self.operation,
            "phase": self.phase,
            "rules": list(self.rule_ids),
            "request": {
                "method": self.request.method,
                "url": self.redactor.text(str(self.request.url)),
                "headers": dict(self.redactor.headers(self.request.headers.items())),
                "body": self.redactor.text(self.request_body_text()),
            },
            "response": response,
            "error": self.error,
            "elapsed_ms": round(self.elapsed_ms, 1),
            **({"meta": self.meta} if self.meta else {}),
        }
