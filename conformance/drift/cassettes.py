"""Reading cassettes for the audit: every recorded interaction with its sidecar entry and its evidence source.

The format is the one ``conformance.recording`` writes (vcrpy YAML, a ``.meta.json`` sidecar per
cassette). A cassette without a sidecar (a capture made by another tool) is still read: its
exchanges are matched to operations by method and path alone.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from conformance.errors import UsageError
from conformance.http.exchange import Exchange
from conformance.http.redact import Redactor
from conformance.recording import RECORDED_ORIGIN

CASSETTE_FORMAT = "a vcrpy cassette (YAML with an `interactions` list), as `conformance run --target record` writes"


@dataclass(frozen=True)
class Evidence:
    """Where a recording came from: the target it was recorded against, its host, and when."""

    target: str  # "reference" (our sandbox) or "live"
    host: str
    time: str

    def label(self) -> str:
        return f"{self.target}:{self.host}@{self.time}" if self.target != "reference" else f"reference@{self.time}"


@dataclass(frozen=True)
class Interaction:
    """One recorded request and response, and what the sidecar says about it (empty without a sidecar)."""

    cassette: Path
    index: int
    method: str
    uri: str
    request_headers: dict[str, str]
    request_body: bytes
    status: int
    response_headers: dict[str, str]
    response_body: bytes
    evidence: Evidence
    sidecar: dict[str, Any] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{self.cassette.as_posix()}#{self.index}"

    @property
    def generation_mode(self) -> str | None:
        mode = (self.sidecar.get("meta") or {}).get("generation_mode")
        return str(mode) if mode else None

    @property
    def fuzzed(self) -> bool:
        """A generated invalid request that reached the target as such (not neutralised by the client)."""
        meta = self.sidecar.get("meta") or {}
        return self.generation_mode == "negative" and not meta.get("neutralised")

    @property
    def mutation_kind(self) -> str:
        """How the request was made invalid, without the values: one line per location, ``(was ...)`` dropped."""
        case = (self.sidecar.get("meta") or {}).get("case") or {}
        text = str(((case.get("phase") or {}).get("data") or {}).get("description") or "")
        parts = [re.sub(r"\(was\b.*$", "", line).strip(" -") for line in text.splitlines()]
        return "; ".join(" ".join(part.split()) for part in parts if part) or "a schema-violating request"

    @property
    def mutation(self) -> str:
        """Schemathesis' description of how a fuzzed request was made invalid."""
        case = (self.sidecar.get("meta") or {}).get("case") or {}
        data = (case.get("phase") or {}).get("data") or {}
        return " ".join(str(data.get("description") or "").split())

    def exchange(self, api: str, operation: str | None) -> Exchange:
        """The interaction as the suite's Exchange, so the checks and outcome predicates judge it unchanged."""
        url = self.uri if "://" in self.uri else RECORDED_ORIGIN + self.uri
        request = httpx.Request(self.method, url, headers=self.request_headers, content=self.request_body)
        response = httpx.Response(
            self.status, headers=self.response_headers, content=self.response_body, request=request
        )
        phase = str(self.sidecar.get("phase") or "test")
        return Exchange(api, operation, phase, request, response, Redactor(), meta=dict(self.sidecar.get("meta") or {}))


def _text(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


def _headers(raw: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(raw, dict):
        for name, values in raw.items():
            out[str(name)] = ", ".join(str(v) for v in values) if isinstance(values, list) else str(values)
    return out


def _evidence(path: Path) -> Evidence:
    """``cassettes/<target>/<module>/<test>.yaml``: the target directory names the host (``reference`` is ours)."""
    host = path.resolve().parent.parent.name or "unknown"
    # Recordings drop the volatile Date header, so the cassette file's time is the recording's time.
    time = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Evidence("reference" if host == "reference" else "live", host, time)


def _problem(path: Path, what: str) -> UsageError:
    return UsageError(f"{path} is not a cassette: {what}. `conformance drift` reads {CASSETTE_FORMAT}.")


def read_cassette(path: Path) -> list[Interaction]:
    """The interactions of one cassette, each paired with its sidecar entry; any defect is a UsageError."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise _problem(path, f"its YAML is corrupt{at} ({problem})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _problem(path, f"it cannot be read ({exc})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("interactions"), list):
        raise _problem(path, "it has no `interactions` list")
    rows = _sidecar_rows(path)
    evidence = _evidence(path)
    out: list[Interaction] = []
    for index, item in enumerate(raw["interactions"]):
        request, response = (item or {}).get("request"), (item or {}).get("response")
        if not isinstance(request, dict) or not isinstance(response, dict):
            raise _problem(path, f"interaction {index} lacks a request or a response mapping")
        status = (response.get("status") or {}).get("code")
        if not isinstance(status, int):
            raise _problem(path, f"interaction {index} has no integer response status code")
        body = response.get("body")
        out.append(
            Interaction(
                cassette=path,
                index=index,
                method=str(request.get("method", "GET")).upper(),
                uri=str(request.get("uri", "")),
                request_headers=_headers(request.get("headers")),
                request_body=_text(request.get("body")),
                status=status,
                response_headers=_headers(response.get("headers")),
                response_body=_text(body.get("string") if isinstance(body, dict) else body),
                evidence=evidence,
                sidecar=rows.get(index, {}),
            )
        )
    return out


def _sidecar_rows(path: Path) -> dict[int, dict[str, Any]]:
    meta = path.with_suffix(".meta.json")
    if not meta.is_file():
        return {}
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise UsageError(
            f"The sidecar {meta} of the cassette {path} is not valid JSON ({exc}); it is the `.meta.json` "
            "`conformance run --target record` writes beside each cassette (delete it to audit the cassette without it)."
        ) from None
    rows = data.get("exchanges") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise UsageError(f"The sidecar {meta} of the cassette {path} has no `exchanges` list.")
    return {
        row["interaction"]: row for row in rows if isinstance(row, dict) and isinstance(row.get("interaction"), int)
    }


def cassette_files(paths: Iterable[Path]) -> list[Path]:
    """Every cassette under ``paths``: a file as given, a directory by every ``*.yaml`` below it."""
    found: list[Path] = []
    for path in paths:
        if not path.exists():
            raise UsageError(
                f"{path} does not exist; `conformance drift` takes cassette files or directories of them "
                "(for example cassettes/ or cassettes/reference/)."
            )
        if path.is_dir():
            # Hidden directories (a run's own reports, version control) hold no recordings.
            files = sorted(
                p
                for p in path.rglob("*.yaml")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts[:-1])
            )
            if not files:
                raise UsageError(f"{path} holds no cassette (*.yaml) below it; pass a directory of recordings.")
            found += files
        else:
            found.append(path)
    # A cassette named twice (a directory and a file in it) is judged once.
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


def read_all(paths: Iterable[Path]) -> list[Interaction]:
    """Every interaction of every cassette under ``paths``, all read (and checked) before any is judged."""
    out: list[Interaction] = []
    for cassette in cassette_files(paths):
        out += read_cassette(cassette)
    return out
