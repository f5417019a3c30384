"""The conformance matrix: one row per documented rule, with an honest verdict and its evidence."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from conformance.apis import APIS
from conformance.rules import Rule
from conformance.verdicts import Status, VerdictRecord

MATRIX_VERSION = 1
# A rule's verdict is its worst recorded one: one violation outweighs any number of passes.
PRECEDENCE: list[Status] = ["violated", "verified", "skipped", "untested"]


class Row(BaseModel):
    api: str
    rule_id: str
    claim: str
    kind: str
    source: str
    confidence: str
    verdict: Status
    evidence: list[str] = Field(default_factory=list)
    tests: list[str] = Field(default_factory=list)
    received: str | None = None
    documented: str | None = None
    curl: str | None = None
    detail: str | None = None


class Totals(BaseModel):
    rules: int = 0
    verified: int = 0
    violated: int = 0
    skipped: int = 0
    untested: int = 0
    index: float = 0.0
    score: float = 0.0


class Matrix(BaseModel):
    version: int = MATRIX_VERSION
    target: str
    seed: int
    rows: list[Row]
    totals: dict[str, Totals]
    undocumented: list[VerdictRecord] = Field(default_factory=list)
    hygiene: list[VerdictRecord] = Field(default_factory=list)


def load_records(directory: Path) -> tuple[list[VerdictRecord], dict[str, list[str]]]:
    records: list[VerdictRecord] = []
    bindings: dict[str, list[str]] = {}
    for path in sorted(directory.glob("*.jsonl")):
        records += [VerdictRecord.model_validate_json(line) for line in path.read_text().splitlines() if line.strip()]
    for path in sorted(directory.glob("*.bindings.json")):
        bindings.update(json.loads(path.read_text()))
    return records, bindings


def _row(rule: Rule, records: list[VerdictRecord], tests: list[str]) -> Row:
    statuses = {r.status for r in records}
    verdict: Status = next((s for s in PRECEDENCE if s in statuses), "untested")
    decisive = [r for r in records if r.status == verdict]
    first = decisive[0] if decisive else None
    return Row(
        api=rule.api,
        rule_id=rule.id,
        claim=rule.claim,
        kind=rule.kind,
        source=f"{rule.source.page} § {rule.source.section}",
        confidence=rule.confidence,
        verdict=verdict,
        evidence=sorted({r.evidence for r in decisive}),
        tests=sorted(set(tests) | {r.test for r in records}),
        received=first.received if first and verdict == "violated" else None,
        documented=first.documented if first and verdict == "violated" else None,
        curl=first.curl if first and verdict == "violated" else None,
        detail=first.detail if first and verdict == "skipped" else None,
    )


def totals_of(rows: list[Row]) -> Totals:
    t = Totals(rules=len(rows))
    for row in rows:
        if row.verdict in ("verified", "violated", "skipped", "untested"):
            setattr(t, row.verdict, getattr(t, row.verdict) + 1)
    if t.rules:
        t.index = round((t.verified + t.violated) / t.rules, 4)
        t.score = round(t.verified / t.rules, 4)
    return t


def build_matrix(
    catalogue: dict[str, Rule], records: list[VerdictRecord], bindings: dict[str, list[str]], *, target: str, seed: int
) -> Matrix:
    by_rule: dict[str, list[VerdictRecord]] = defaultdict(list)
    for record in records:
        by_rule[record.rule_id].append(record)
    tests_of: dict[str, list[str]] = defaultdict(list)
    for test, rules in bindings.items():
        for rid in rules:
            tests_of[rid].append(test)
    rows = [_row(rule, by_rule.get(rid, []), tests_of.get(rid, [])) for rid, rule in sorted(catalogue.items())]
    rows.sort(key=lambda r: (list(APIS).index(r.api) if r.api in APIS else 99, r.rule_id))
    totals = {api: totals_of([r for r in rows if r.api == api]) for api in APIS}
    totals["all"] = totals_of(rows)
    return Matrix(
        target=target,
        seed=seed,
        rows=rows,
        totals=totals,
        undocumented=[r for r in records if r.status == "undocumented-behaviour"],
        hygiene=[r for r in records if r.status == "hygiene"],
    )


def write_json(matrix: Matrix, path: Path) -> None:
    payload: dict[str, Any] = matrix.model_dump(mode="json")
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
