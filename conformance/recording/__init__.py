"""Cassettes: record live traffic with vcrpy, redacted before anything is written; replay it offline.

Replay does not go through vcrpy: ``player`` indexes a test's cassette in memory and the HTTP layer's
replay transport asks it for each answer (``filters`` holds the redaction and the matchers both share).

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
import functools
import hashlib
import inspect
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from conformance.apis import REPO_ROOT, SPECS_DIR
from conformance.errors import UsageError
from conformance.http.redact import Redactor
from conformance.http.replay import playing
from conformance.recording.filters import (
    IDEMPOTENCY_FIELDS,
    RECORDED_ORIGIN,
    VOLATILE_HEADERS,
    CassetteFilters,
    _match_body,
    _match_path,
    _match_query,
    json_safe,
    pii_shape,
    redact_json_text,
)
from conformance.recording.player import (
    RERECORD,
    CassettePlayer,
    ReplayMiss,
    Request,
    load_interactions,
    parse_cassette,
)

if TYPE_CHECKING:
    import vcr

    from conformance.http.exchange import Exchange
    from conformance.settings import Settings

__all__ = [
    "IDEMPOTENCY_FIELDS",
    "RECORDED_ORIGIN",
    "RERECORD",
    "VOLATILE_HEADERS",
    "CassetteFilters",
    "ReplayMiss",
    "json_safe",
    "parse_cassette",
    "pii_shape",
    "redact_json_text",
]
SUITE_DIR = Path(__file__).resolve().parent.parent / "suite"


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
    """The SHA-256 of ``path``, computed once per version of the file (every test of a module asks for it)."""
    info = path.stat()
    return _sha_of(path, info.st_mtime_ns, info.st_size)


@functools.cache
def _sha_of(path: Path, _mtime_ns: int, _size: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@functools.cache
def _libraries() -> dict[str, str]:
    return {name: version(name) for name in ("schemathesis", "hypothesis", "httpx", "vcrpy")}


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


def replay_key(settings: Settings, nodeid: str) -> dict[str, Any]:
    """The parts of a fingerprint that decide which requests a test sends (all that staleness compares).

    A scripted test sends what its source and the seed make it send; a property test replays the
    cases the cassette holds, so for it only the replay format is part of the key.
    """
    if replays_recorded_cases(nodeid):
        return dict(CASE_REPLAY_KEY)
    return {"seed": settings.seed, "test_source": _test_source(nodeid)}


def _test_source(nodeid: str) -> str:
    module = REPO_ROOT / nodeid.partition("::")[0]
    return _sha(module) if module.is_file() else "unknown"


def fingerprint(settings: Settings, nodeid: str) -> dict[str, Any]:
    """What produced a cassette: its ``replay_key``, and the specs, rules and libraries of the recording."""
    return {
        "replay_key": replay_key(settings, nodeid),
        "test_source": _test_source(nodeid),
        "specs": {p.name: _sha(p)[:16] for p in sorted(SPECS_DIR.glob("*.yaml"))},
        "rules": {p.name: _sha(p)[:16] for p in sorted((SPECS_DIR / "rules").glob("*.yaml"))},
        "libraries": dict(_libraries()),
        "suite": version("conformance"),
    }


def build_vcr(redactor: Redactor, mode: str) -> vcr.VCR:
    """The recorder (replay plays cassettes itself: ``player``); vcrpy is imported only to record."""
    import vcr

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
    current = replay_key(settings, nodeid)
    if recorded != current:
        keys = dict.fromkeys([*current, *recorded])
        changed = ", ".join(k for k in keys if recorded.get(k) != current.get(k))
        raise UsageError(
            f"stale cassette, re-record with `{RERECORD}`: {path} was recorded with a different {changed} "
            f"(recorded {recorded}, now {current})."
        )


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
        player = CassettePlayer(path, redactor)
        with sockets_disabled(), playing(player):
            yield
        if player.unplayed and not test_failed():
            raise AssertionError(
                f"The cassette {path} has {player.unplayed} interaction(s) the test never requested: the suite and "
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
    requests = [Request.recorded(interaction["request"]) for interaction in load_interactions(path)]
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
