"""Verdicts are recorded, never inferred: a check calls ``verdict()`` as it runs.

A rule is ``verified`` only because some check recorded it so; a test that passes without
recording anything proves nothing, and the plugin turns that into an error.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from conformance.errors import InternalError
from conformance.findings import Finding, InferredFinding, show

if TYPE_CHECKING:
    from conformance.http.exchange import Exchange
    from conformance.rules import Rule

Status = Literal[
    "verified", "violated", "violated-inferred", "undocumented-behaviour", "skipped", "untested", "hygiene"
]
STATUSES: tuple[Status, ...] = (
    "verified",
    "violated",
    "violated-inferred",
    "undocumented-behaviour",
    "skipped",
    "untested",
    "hygiene",
)
# A failed rule the page states (``documented``) is ``violated``; one the suite inferred or assumed from the
# page is ``violated-inferred``: shown and explained, gating only under --strict.
VIOLATED: tuple[Status, ...] = ("violated", "violated-inferred")


def failed_status(confidence: str) -> Status:
    return "violated" if confidence == "documented" else "violated-inferred"


class VerdictRecord(BaseModel):
    rule_id: str
    status: Status
    received: str = ""
    documented: str = ""
    evidence: str = "reference"
    test: str = ""
    curl: str | None = None
    detail: str | None = None


class Recorder:
    """Collects the verdicts of one test. The plugin creates one per test and flushes it afterwards."""

    def __init__(
        self,
        test_id: str,
        catalogue: dict[str, Rule],
        evidence: Callable[[Exchange | None], str],
        redact: Callable[[str], str] = str,
    ) -> None:
        self.test_id = test_id
        self.catalogue = catalogue
        self.evidence = evidence
        # Received values can quote a request (an Authorization header, a form body): redact before keeping.
        self.redact = redact
        self.records: list[VerdictRecord] = []
        self.last_exchange: Exchange | None = None
        # rule ID -> the registered check that alone may judge it (set by the test's context).
        self.owners: dict[str, str] = {}
        self._judges: dict[str, str] = {}
        self._lock = threading.Lock()

    def claim(self, rule_id: str, judge: str | None = None) -> None:
        """Refuse a second judge: a rule owned by a check is judged by that check, and by nothing else."""
        judge = judge or "the test itself"
        owner = self.owners.get(rule_id)
        if owner is not None and judge != owner:
            raise InternalError(
                f"{judge} judged {rule_id}, which the check {owner} owns; a scenario relies on the observer for it "
                "(or asks for it with ScenarioContext.judged), it never records a second verdict."
            )
        with self._lock:
            first = self._judges.setdefault(rule_id, judge)
        if first != judge:
            raise InternalError(f"{rule_id} was judged by {first} and again by {judge}; a rule has one judge.")

    def verdicts_of(self, rule_id: str) -> list[VerdictRecord]:
        return [r for r in self.records if r.rule_id == rule_id]

    def add(self, record: VerdictRecord) -> None:
        with self._lock:
            self.records.append(record)

    def rule(self, rule_id: str) -> Rule:
        try:
            return self.catalogue[rule_id]
        except KeyError:
            raise InternalError(f"The suite recorded a verdict for {rule_id}, which is not in specs/rules/.") from None


_current: Recorder | None = None


def current() -> Recorder:
    if _current is None:
        raise InternalError("verdict() was called outside a conformance test; no recorder is active.")
    return _current


@contextmanager
def recording(recorder: Recorder) -> Iterator[Recorder]:
    """Make ``recorder`` the target of ``verdict()`` calls for the duration of one test."""
    global _current
    previous, _current = _current, recorder
    try:
        yield recorder
    finally:
        _current = previous


def note_exchange(exchange: Exchange) -> None:
    """Remember the latest exchange so a verdict without one still carries a reproduction."""
    if _current is not None:
        _current.last_exchange = exchange


def verdict(
    rule_id: str,
    *,
    ok: bool,
    received: Any,
    documented: Any,
    exchange: Exchange | None = None,
    recorder: Recorder | None = None,
    judge: str | None = None,
) -> None:
    """Record one verdict for ``rule_id``; raise a Finding when the target broke the rule.

    Checks pass their ``recorder`` and name (``judge``) explicitly; a scenario's verdict goes to its test's.
    """
    recorder = recorder or current()
    rule = recorder.rule(rule_id)
    source = exchange or recorder.last_exchange
    curl = source.curl() if source is not None else None
    recorder.claim(rule_id, judge)
    record = VerdictRecord(
        rule_id=rule_id,
        status="verified" if ok else failed_status(rule.confidence),
        received=recorder.redact(show(received)),
        documented=recorder.redact(show(documented)),
        evidence=recorder.evidence(source),
        test=recorder.test_id,
        curl=curl,
    )
    recorder.add(record)
    if not ok:
        kind = Finding if record.status == "violated" else InferredFinding
        raise kind(rule_id=rule_id, claim=rule.claim, received=record.received, documented=record.documented, curl=curl)


def expect_equal(rule_id: str, received: Any, documented: Any, exchange: Exchange | None = None) -> None:
    """The commonest verdict: the received value must equal the documented one."""
    verdict(rule_id, ok=received == documented, received=received, documented=documented, exchange=exchange)


def observe(
    gap_id: str, *, received: Any, note: str, exchange: Exchange | None = None, recorder: Recorder | None = None
) -> None:
    """Record what the target did where the docs are silent: reported, never failing."""
    recorder = recorder or current()
    source = exchange or recorder.last_exchange
    recorder.add(
        VerdictRecord(
            rule_id=gap_id,
            status="undocumented-behaviour",
            received=recorder.redact(show(received)),
            documented="(the documentation is silent)",
            evidence=recorder.evidence(source),
            test=recorder.test_id,
            curl=source.curl() if source is not None else None,
            detail=recorder.redact(note),
        )
    )


def hygiene(rule_id: str, *, check: str, message: str, exchange: Exchange | None = None) -> None:
    """Record a generic HTTP finding that no vendor page promises; it never gates."""
    recorder = current()
    source = exchange or recorder.last_exchange
    recorder.add(
        VerdictRecord(
            rule_id=rule_id,
            status="hygiene",
            received=recorder.redact(message),
            documented=f"(no vendor page promises {check})",
            evidence=recorder.evidence(source),
            test=recorder.test_id,
            curl=source.curl() if source is not None else None,
            detail=check,
        )
    )
