"""Aggregating observations into findings: one per difference, with counts, first and last seen, and evidence.

Three categories, each its own section of the report:

- ``behaviour``: the target contradicted a documented claim (on valid traffic, or on fuzzed invalid
  input, told apart by ``fuzzed``); these gate.
- ``question``: the target did something where the documentation is silent (a gap); one question
  per gap and behaviour, however many generated cases showed it; never gating.
- ``conflict``: the documentation contradicts itself (``x-doc-conflict``); reported, gating only when asked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from conformance.drift.judge import Judged, Observation
from conformance.drift.specindex import Note, SpecIndex

EXAMPLES = 5


def finding_id(kind: str, *parts: str) -> str:
    """A stable ID in the rule-ID alphabet, so a baseline can accept a finding as it accepts a rule."""
    digest = hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()[:8].upper()
    return f"DRIFT-{kind.upper()}-{digest}"


@dataclass
class Finding:
    id: str
    category: str  # behaviour | question | conflict
    kind: str
    api: str
    operation: str
    pointer: str
    detail: str
    received: str
    documented: str
    source: dict[str, str]
    fuzzed: bool = False
    rules: list[str] = field(default_factory=list)
    gap: str = ""
    question: str = ""
    count: int = 0
    fuzzed_count: int = 0
    first_seen: str = ""
    last_seen: str = ""
    evidence: list[dict[str, str]] = field(default_factory=list)
    examples: list[dict[str, Any]] = field(default_factory=list)
    rule_sources: list[dict[str, str]] = field(default_factory=list)
    accepted: str = ""  # why the baseline accepts it, when it does

    def add(self, judged: Judged, observation: Observation) -> None:
        interaction = judged.interaction
        self.count += 1
        self.fuzzed_count += int(observation.fuzzed)
        time = interaction.evidence.time
        self.first_seen = min(self.first_seen or time, time)
        self.last_seen = max(self.last_seen or time, time)
        source = {"target": interaction.evidence.target, "host": interaction.evidence.host}
        if source not in self.evidence:
            self.evidence.append(source)
        if len(self.examples) < EXAMPLES:
            self.examples.append(
                {
                    "cassette": interaction.cassette.as_posix(),
                    "interaction": interaction.index,
                    "received": observation.received[:300],
                    "time": time,
                    **({"mutation": interaction.mutation[:200]} if observation.fuzzed and interaction.mutation else {}),
                }
            )

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _category(observation: Observation) -> str:
    return "behaviour" if observation.behavioural else "question"


def _key(observation: Observation) -> tuple[str, ...]:
    base = (observation.kind, observation.api, observation.operation, observation.pointer, observation.detail)
    # A question is one per gap and behaviour, whether generated or scripted traffic showed it.
    return (*base, "fuzzed" if observation.fuzzed and observation.behavioural else "valid")


def aggregate(judged: Iterable[Judged]) -> list[Finding]:
    """Behaviour findings and questions, in a stable order (category, API, operation, kind, pointer)."""
    found: dict[tuple[str, ...], Finding] = {}
    for item in judged:
        for observation in dedupe_questions(item.observations):
            key = _key(observation)
            finding = found.get(key)
            if finding is None:
                finding = found[key] = Finding(
                    id=finding_id(observation.kind, *key),
                    category=_category(observation),
                    kind=observation.kind,
                    api=observation.api,
                    operation=observation.operation,
                    pointer=observation.pointer,
                    detail=observation.detail,
                    received=observation.received[:300],
                    documented=observation.documented[:300],
                    source=observation.citation.as_dict(),
                    fuzzed=observation.fuzzed and observation.behavioural,
                    gap=observation.gap,
                    question=observation.question,
                )
            finding.rules = sorted({*finding.rules, *observation.rules})
            for citation in observation.rule_sources:
                if citation.as_dict() not in finding.rule_sources:
                    finding.rule_sources.append(citation.as_dict())
            finding.add(item, observation)
    return sorted(found.values(), key=lambda f: (f.category, f.api, f.operation, f.fuzzed, f.kind, f.pointer, f.detail))


def dedupe_questions(observations: list[Observation]) -> list[Observation]:
    """On one exchange, a gap is asked about once (the gap a check observed wins over a status or code)."""
    kept: list[Observation] = []
    asked: set[str] = set()
    ordered = sorted(observations, key=lambda o: o.kind != "doc-gap")
    for observation in ordered:
        if not observation.behavioural and observation.gap:
            if observation.gap in asked:
                continue
            asked.add(observation.gap)
        kept.append(observation)
    return kept


def conflicts(index: SpecIndex, judged: Iterable[Judged]) -> list[Finding]:
    """Every ``x-doc-conflict`` of the specs, with how many recorded exchanges of its operation there were."""
    seen: dict[tuple[str, str], int] = {}
    for item in judged:
        if item.operation is not None:
            key = (item.operation.api, item.operation.id)
            seen[key] = seen.get(key, 0) + 1
    out = []
    for note in index.notes("conflict"):
        citation = index.specs[note.api].citation(note.pointer)
        quotes = [q for q in note.quotes if q.get("quote")]
        out.append(
            Finding(
                id=note.id,
                category="conflict",
                kind="doc-conflict",
                api=note.api,
                operation=note.operation,
                pointer=note.pointer,
                detail=note.summary,
                received="",
                documented=" / ".join(f"{q['page'] or citation.page}: \u201c{q['quote']}\u201d" for q in quotes),
                source={**citation.as_dict(), "resolution": note.decision},
                count=seen.get((note.api, note.operation), 0),
            )
        )
    return out


def gaps(index: SpecIndex, findings: Iterable[Finding]) -> list[dict[str, Any]]:
    """Every ``x-doc-gap`` of the specs, and how often the recordings showed behaviour at it."""
    observed: dict[str, int] = {}
    for finding in findings:
        if finding.gap:
            observed[finding.gap] = observed.get(finding.gap, 0) + finding.count
    return [_gap_row(note, observed.get(note.id, 0)) for note in index.notes("gap")]


def _gap_row(note: Note, count: int) -> dict[str, Any]:
    return {
        "id": note.id,
        "api": note.api,
        "operation": note.operation,
        "pointer": note.pointer,
        "summary": note.summary,
        "sandbox_choice": note.decision,
        "observed": count,
    }
