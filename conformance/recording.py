"""Cassettes: record live traffic with vcrpy, redacted before anything is written; replay it offline.

One cassette per test under ``cassettes/<target name>/``, beside it a sidecar (``.meta.json``) with
the fingerprint of what produced it and, per exchange, the operation, phase, rule IDs, the index of
its interaction in the cassette and, for a generated property case, how it was generated.

Scripted tests replay by sending the same requests again, so their source and the seed decide
whether a cassette is stale. Property tests replay by rebuilding each recorded case from the
cassette (``recorded_exchanges``) instead of generating data, so neither the seed nor the test
source (nor a new Hypothesis) can make their cassettes stale.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import vcr
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.request import Request as VcrRequest
from vcr.serialize import deserialize
from vcr.serializers import yamlserializer

from conformance.apis import REPO_ROOT, SPECS_DIR
from conformance.errors import UsageError
from conformance.http.redact import CARD, EMAIL, PHONE, REDACTED, SENSITIVE_HEADERS, Redactor

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
    if settings.cassette_name:
        return settings.cassette_name
    # Replay given the options a recording was made with finds that recording: the same name from the same URL.
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


# Tests whose replay rebuilds the recorded requests rather than generating them again, as
# (resolved module file, function name); filled at import by the property layer's decorator.
_CASE_REPLAY: set[tuple[str, str]] = set()
# The replay key of a test that replays its recorded cases: only a change of this format makes it stale.
CASE_REPLAY_KEY = {"replay": "recorded cases", "format": 1}


def register_case_replay(test: Callable[..., Any]) -> None:
    """Mark ``test`` (every item of it) as replaying its recorded cases instead of regenerating them."""
    _CASE_REPLAY.add((str(Path(inspect.getfile(test)).resolve()), test.__name__))


def replays_recorded_cases(nodeid: str) -> bool:
    module, _, name = nodeid.partition("::")
    return (str((REPO_ROOT / module).resolve()), name.partition("[")[0]) in _CASE_REPLAY


def fingerprint(settings: Settings, nodeid: str) -> dict[str, Any]:
    """What produced a cassette. ``replay_key`` holds the parts that decide which requests a test sends.

    A scripted test sends what its source and the seed make it send; a property test replays the
    cases the cassette holds, so for it only the replay format is part of the key.
    """
    module = REPO_ROOT / nodeid.partition("::")[0]
    scenario = _sha(module) if module.is_file() else "unknown"
    replay_key: dict[str, Any] = (
        dict(CASE_REPLAY_KEY) if replays_recorded_cases(nodeid) else {"seed": settings.seed, "test_source": scenario}
    )
    return {
        "replay_key": replay_key,
        "test_source": scenario,
        "specs": {p.name: _sha(p)[:16] for p in sorted(SPECS_DIR.glob("*.yaml"))},
        "rules": {p.name: _sha(p)[:16] for p in sorted((SPECS_DIR / "rules").glob("*.yaml"))},
        "libraries": {name: version(name) for name in ("schemathesis", "hypothesis", "httpx", "vcrpy")},
        "suite": version("conformance"),
    }


# A number token outside JSON strings that starts with 0 and another digit (strings are matched so they are skipped).
_LEADING_ZERO = re.compile(r'"(?:[^"\\]|\\.)*"|(?<![\w.+-])(-?)0(?=\d)')


def json_safe(masked: str) -> str:
    """``masked`` with every number that masking gave a leading zero starting with 1 instead.

    Masking a phone-like JSON number (an id of 10 to 12 digits) keeps its length but can start it
    with 0, which JSON does not allow: the recording would no longer parse where the original did.
    """
    return _LEADING_ZERO.sub(lambda m: m.group(0) if m.group(0).startswith('"') else f"{m.group(1)}1", masked)


def redact_json_text(redactor: Redactor, text: str) -> str:
    """Redact ``text``; if it was JSON, the redacted text is JSON too."""
    redacted = redactor.text(text)
    if redacted == text:
        return redacted
    try:
        json.loads(text)
    except ValueError:
        return redacted
    try:
        json.loads(redacted)
    except ValueError:
        return json_safe(redacted)
    return redacted


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
            request.body = redact_json_text(self.redactor, body).encode("utf-8")
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
            response["body"]["string"] = redact_json_text(self.redactor, text).encode("utf-8")
        return response


def pii_shape(text: str) -> str:
    """``text`` with every email, card and phone number reduced to its shape (length, domain, card ends).

    Masking is not idempotent: a value a replayed test read from a masked response (a provisioned
    customer's mobile) or rebuilt from a masked request is masked again on its way to the matcher.
    Masking keeps the shape, so comparing shapes matches it with its recording either way. (Ones,
    not zeros, so that a masked JSON number is a JSON number again.)
    """
    text = EMAIL.sub(lambda m: "e" * len(m.group(1)) + "@" + m.group(2), text)
    text = CARD.sub(lambda m: m.group(0)[:6] + "1" * (len(m.group(0)) - 10) + m.group(0)[-4:], text)
    return PHONE.sub(lambda m: ("+" if m.group(0).startswith("+") else "") + "1" * len(m.group(0).lstrip("+")), text)


def _match_path(r1: VcrRequest, r2: VcrRequest) -> None:
    left, right = pii_shape(urlsplit(r1.uri).path), pii_shape(urlsplit(r2.uri).path)
    if left != right:
        raise AssertionError(f"path differs: recorded {urlsplit(r2.uri).path!r}, sent {urlsplit(r1.uri).path!r}")


def _match_query(r1: VcrRequest, r2: VcrRequest) -> None:
    def norm(request: VcrRequest) -> list[tuple[str, str]]:
        return sorted((pii_shape(k), pii_shape(v)) for k, v in parse_qsl(urlsplit(request.uri).query, True))

    if norm(r1) != norm(r2):
        raise AssertionError(f"query differs: recorded {urlsplit(r2.uri).query!r}, sent {urlsplit(r1.uri).query!r}")


# Idempotency keys are unique per run by design (a vendor remembers them), so they never repeat in a replay.
IDEMPOTENCY_FIELDS = frozenset({"requestId", "external_reference_number", "externalReferenceNumber"})


def _without_idempotency_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_idempotency_keys(v) for k, v in value.items() if k not in IDEMPOTENCY_FIELDS}
    if isinstance(value, list):
        return [_without_idempotency_keys(v) for v in value]
    return value


def _match_body(r1: VcrRequest, r2: VcrRequest) -> None:
    def norm(request: VcrRequest) -> Any:
        body = request.body
        if not body:
            return None
        text = pii_shape(body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body))
        try:
            return _without_idempotency_keys(json.loads(text))
        except ValueError:
            form = "x-www-form-urlencoded" in str(request.headers.get("content-type", "")).lower()
            return sorted(parse_qsl(text, keep_blank_values=True)) if form else text

    left, right = norm(r1), norm(r2)
    if left != right:
        raise AssertionError(f"body differs: recorded {r2.body!r}, sent {r1.body!r}")


def build_vcr(redactor: Redactor, mode: str) -> vcr.VCR:
    filters = CassetteFilters(redactor)
    recorder = vcr.VCR(
        record_mode=mode,
        match_on=["method", "pii_path", "pii_query", "json_body"],
        before_record_request=filters.request,
        before_record_response=filters.response,
        decode_compressed_response=True,
    )
    recorder.register_matcher("pii_path", _match_path)
    recorder.register_matcher("pii_query", _match_query)
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
        keys = dict.fromkeys([*current, *recorded])
        changed = ", ".join(k for k in keys if recorded.get(k) != current.get(k))
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
def cassette_for(
    settings: Settings,
    nodeid: str,
    redactor: Redactor,
    exchanges: list[Exchange],
    test_failed: Callable[[], bool] = lambda: False,
) -> Iterator[None]:
    """Record or replay one test's traffic; in replay every recorded interaction must be played.

    A test that already failed (an edited response gave its finding) stopped early on purpose: its
    unplayed interactions are not a second error.
    """
    path = cassette_path(settings, nodeid)
    if settings.target == "replay":
        check_replayable(path, settings, nodeid)
        with sockets_disabled(), build_vcr(redactor, "none").use_cassette(str(path)) as cassette:
            yield
            if not cassette.all_played and not test_failed():
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
    interaction = 0
    rows: list[dict[str, Any]] = []
    for e in exchanges:
        # vcrpy stores one interaction per answered request, in the order they were sent.
        answered = e.response is not None
        row: dict[str, Any] = {
            "operation": e.operation,
            "phase": e.phase,
            "rules": list(e.rule_ids),
            "api": e.api,
            "setup": e.phase in ("setup", "control"),
            "interaction": interaction if answered else None,
        }
        if e.meta:
            row["meta"] = e.meta
        rows.append(row)
        interaction += int(answered)
    sidecar = {"fingerprint": fingerprint(settings, nodeid), "test": nodeid, "exchanges": rows}
    text = json.dumps(sidecar, indent=1, sort_keys=True, default=str)
    path.with_suffix(".meta.json").write_text(redact_json_text(redactor, text) + "\n")


@dataclass(frozen=True)
class RecordedExchange:
    """One exchange of a recorded test: the sidecar's account of it and the request the cassette holds."""

    operation: str | None
    phase: str
    meta: dict[str, Any]
    method: str
    uri: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""


def recorded_exchanges(settings: Settings, nodeid: str) -> list[RecordedExchange]:
    """The answered exchanges of ``nodeid``'s cassette, in recorded order, each with its sidecar entry."""
    path = cassette_path(settings, nodeid)
    check_replayable(path, settings, nodeid)
    rows = json.loads(path.with_suffix(".meta.json").read_text(encoding="utf-8"))["exchanges"]
    requests, _responses = deserialize(path.read_text(encoding="utf-8"), yamlserializer)
    out: list[RecordedExchange] = []
    for row in rows:
        index = row.get("interaction")
        if index is None:
            continue
        if not 0 <= index < len(requests):
            raise UsageError(
                f"stale cassette, re-record with `{RERECORD}`: the sidecar of {path} names interaction {index}, "
                f"but the cassette holds {len(requests)}."
            )
        request = requests[index]
        body = request.body or b""
        out.append(
            RecordedExchange(
                operation=row.get("operation"),
                phase=str(row.get("phase")),
                meta=dict(row.get("meta") or {}),
                method=str(request.method).upper(),
                uri=str(request.uri),
                headers={str(k): str(v) for k, v in request.headers.items()},
                body=body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body),
            )
        )
    return out
