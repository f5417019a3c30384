"""Cassettes: record live traffic with vcrpy, redacted before anything is written; replay it offline.

One cassette per test under ``cassettes/<target name>/``, beside it a sidecar (``.meta.json``) with
the fingerprint of what produced it and, per exchange, the operation, phase and rule IDs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import vcr
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.request import Request as VcrRequest

from conformance.apis import REPO_ROOT, SPECS_DIR
from conformance.errors import UsageError
from conformance.http.redact import REDACTED, SENSITIVE_HEADERS, Redactor

if TYPE_CHECKING:
    from conformance.http.exchange import Exchange
    from conformance.settings import Settings

RECORDED_ORIGIN = "http://recorded.target"
SUITE_DIR = Path(__file__).resolve().parent / "suite"
RERECORD = "python3 noxfile.py -s record"
# Headers that only describe the transport or the moment; they are dropped so replays stay byte-stable.
VOLATILE_HEADERS = frozenset(
    {"date", "server", "content-length", "user-agent", "x-sandbox-tenant", "host", "connection", "accept-encoding"}
)


def cassette_target_name(settings: Settings) -> str:
    """``reference`` for recordings of the reference sandbox, else the host of the live target."""
    if settings.target == "replay":
        return settings.cassette_name or "reference"
    if settings.cassette_name:
        return settings.cassette_name
    if settings.base_url is None and not any(v.base_url for v in settings.vendors.values()):
        return "reference"
    host = urlsplit(
        settings.base_url or next(v.base_url for v in settings.vendors.values() if v.base_url) or ""
    ).hostname
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", host or "live")


def cassette_path(settings: Settings, nodeid: str) -> Path:
    module, _, name = nodeid.partition("::")
    stem = Path(module).stem
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "test"
    return settings.cassette_dir / cassette_target_name(settings) / stem / f"{safe}.yaml"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fingerprint(settings: Settings, nodeid: str) -> dict[str, Any]:
    """What produced a cassette. ``replay_key`` holds the parts that decide which requests a test sends."""
    module = REPO_ROOT / nodeid.partition("::")[0]
    scenario = _sha(module) if module.is_file() else "unknown"
    return {
        "replay_key": {"seed": settings.seed, "test_source": scenario},
        "specs": {p.name: _sha(p)[:16] for p in sorted(SPECS_DIR.glob("*.yaml"))},
        "rules": {p.name: _sha(p)[:16] for p in sorted((SPECS_DIR / "rules").glob("*.yaml"))},
        "libraries": {name: version(name) for name in ("schemathesis", "hypothesis", "httpx", "vcrpy")},
        "suite": version("conformance"),
    }


class CassetteFilters:
    """vcrpy hooks that redact secrets and PII and normalise the origin before a request is stored or matched."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor

    def request(self, request: VcrRequest) -> VcrRequest:
        parts = urlsplit(request.uri)
        origin = urlsplit(RECORDED_ORIGIN)
        request.uri = self.redactor.text(urlunsplit((origin.scheme, origin.netloc, parts.path, parts.query, "")))
        for name in list(request.headers):
            if name.lower() in VOLATILE_HEADERS:
                del request.headers[name]
            elif name.lower() in SENSITIVE_HEADERS:
                request.headers[name] = REDACTED
            else:
                request.headers[name] = self.redactor.text(str(request.headers[name]))
        if request.body:
            body = request.body.decode("utf-8", "replace") if isinstance(request.body, bytes) else str(request.body)
            request.body = self.redactor.text(body).encode("utf-8")
        return request

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        headers = {}
        for name, values in response.get("headers", {}).items():
            if name.lower() in VOLATILE_HEADERS:
                continue
            headers[name] = [REDACTED if name.lower() in SENSITIVE_HEADERS else self.redactor.text(v) for v in values]
        response["headers"] = headers
        body = response.get("body", {}).get("string", b"")
        if body:
            text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
            response["body"]["string"] = self.redactor.text(text).encode("utf-8")
        return response


def _match_body(r1: VcrRequest, r2: VcrRequest) -> None:
    def norm(body: Any) -> Any:
        if not body:
            return None
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
        try:
            return json.loads(text)
        except ValueError:
            return text

    left, right = norm(r1.body), norm(r2.body)
    if left != right:
        raise AssertionError(f"body differs: recorded {right!r}, sent {left!r}")


def build_vcr(redactor: Redactor, mode: str) -> vcr.VCR:
    filters = CassetteFilters(redactor)
    recorder = vcr.VCR(
        record_mode=mode,
        match_on=["method", "path", "query", "json_body"],
        before_record_request=filters.request,
        before_record_response=filters.response,
        decode_compressed_response=True,
    )
    recorder.register_matcher("json_body", _match_body)
    return recorder


def check_replayable(path: Path, settings: Settings, nodeid: str) -> None:
    """A missing or stale cassette is a usage error naming the file and how to re-record it."""
    if not path.is_file():
        raise UsageError(
            f"No cassette for {nodeid}: {path} does not exist. Replay needs a recording of every test; "
            f"record one with `{RERECORD}` (or `conformance run --target record`)."
        )
    meta_path = path.with_suffix(".meta.json")
    if not meta_path.is_file():
        raise UsageError(
            f"The cassette {path} has no sidecar {meta_path.name}; stale cassette, re-record with `{RERECORD}`."
        )
    recorded = json.loads(meta_path.read_text())["fingerprint"]["replay_key"]
    current = fingerprint(settings, nodeid)["replay_key"]
    if recorded != current:
        changed = ", ".join(k for k in current if recorded.get(k) != current[k])
        raise UsageError(
            f"stale cassette, re-record with `{RERECORD}`: {path} was recorded with a different {changed} "
            f"(recorded {recorded}, now {current})."
        )


def describe_miss(exc: CannotOverwriteExistingCassetteException) -> str:
    """One paragraph: the cassette, the request that has no recording, the closest one and what differs."""
    failed = exc.failed_request
    text = f"No recorded interaction in {exc.cassette._path} matches {failed.method} {urlsplit(failed.uri).path}"
    if exc.similar_requests:
        closest, _ok, failures = exc.similar_requests[0]
        diffs = "; ".join(f"{name}: {message}" for name, message in failures) or "it was already played"
        text += f". Closest recorded request: {closest.method} {urlsplit(closest.uri).path}; differs in {diffs}"
    return text + f". Re-record with `{RERECORD}` if the suite changed on purpose."


class NetworkDisabled(RuntimeError):
    """A replay tried to open a socket: everything must come from cassettes."""


@contextlib.contextmanager
def sockets_disabled() -> Iterator[None]:
    """Refuse every outgoing connection for the duration of a replay."""
    import socket

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise NetworkDisabled(f"replay is offline: a connection to {args[1] if len(args) > 1 else args} was refused")

    saved = socket.socket.connect, socket.socket.connect_ex, socket.create_connection
    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse  # type: ignore[method-assign]
    socket.create_connection = refuse
    try:
        yield
    finally:
        socket.socket.connect, socket.socket.connect_ex, socket.create_connection = saved  # type: ignore[method-assign]


@contextlib.contextmanager
def cassette_for(settings: Settings, nodeid: str, redactor: Redactor, exchanges: list[Exchange]) -> Iterator[None]:
    """Record or replay one test's traffic; in replay every recorded interaction must be played."""
    path = cassette_path(settings, nodeid)
    if settings.target == "replay":
        check_replayable(path, settings, nodeid)
        with sockets_disabled(), build_vcr(redactor, "none").use_cassette(str(path)) as cassette:
            yield
            if not cassette.all_played:
                unplayed = len(cassette.data) - sum(1 for count in cassette.play_counts.values() if count)
                raise AssertionError(
                    f"The cassette {path} has {unplayed} interaction(s) the test never requested: the suite and "
                    f"the recording disagree. Re-record with `{RERECORD}`."
                )
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in (path, path.with_suffix(".meta.json")):
        stale.unlink(missing_ok=True)
    with build_vcr(redactor, "all").use_cassette(str(path)):
        yield
    sidecar = {
        "fingerprint": fingerprint(settings, nodeid),
        "test": nodeid,
        "exchanges": [
            {
                "operation": e.operation,
                "phase": e.phase,
                "rules": list(e.rule_ids),
                "api": e.api,
                "setup": e.phase in ("setup", "control"),
            }
            for e in exchanges
        ],
    }
    path.with_suffix(".meta.json").write_text(redactor.text(json.dumps(sidecar, indent=1, sort_keys=True)) + "\n")
