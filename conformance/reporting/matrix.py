"""The conformance matrix: one row per documented rule, with an honest verdict and its evidence.

The JSON shape (``conformance.json``, ``version`` 1) is documented in ``conformance/reporting/README.md``;
any incompatible change bumps :data:`MATRIX_VERSION`.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from conformance.apis import APIS
from conformance.files import write_text_atomic
from conformance.rules import SEVERITY_BY_KIND, Rule
from conformance.verdicts import VIOLATED, Status, VerdictRecord

MATRIX_VERSION = 1
# A rule's verdict is its worst recorded one: one violation outweighs any number of passes.
PRECEDENCE: tuple[Status, ...] = ("violated", "violated-inferred", "verified", "skipped", "untested")
INFERRED_NOTE = (
    "`violated` means a claim the vendor page states was broken. `violated-inferred` means a rule the suite "
    "inferred or assumed from the page (confidence `inferred`/`assumed`) was not honoured: the target may have "
    "read the page otherwise. It is reported and explained but gates the run only under --strict."
)
EVIDENCE_NOTE = (
    "Evidence `reference` means the verdict was won on the project's reference sandbox (the documentation made "
    "executable), not on the vendor; only `live:<host>@<time>` and `replay:<cassette>` verdicts speak for the vendor."
)
# A Finding's message: "[module.Finding: ]RULE-ID: claim\nReceived: ...".
FINDING_RE = re.compile(r"(?:^|\s|: )[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+: [\s\S]*Received:")
Outcome = Literal["passed", "failed", "skipped", "error"]


class RuleInfo(BaseModel):
    """What the matrix needs of a rule; carried in every row so shard matrices can be merged without specs/."""

    api: str
    rule_id: str
    claim: str
    kind: str
    operation: str
    severity: str
    source: str
    confidence: str

    @classmethod
    def of(cls, rule: Rule) -> RuleInfo:
        return cls(
            api=rule.api,
            rule_id=rule.id,
            claim=rule.claim,
            kind=rule.kind,
            operation=rule.operation,
            severity=SEVERITY_BY_KIND.get(rule.kind, "normal"),
            source=f"{rule.source.page} § {rule.source.section}",
            confidence=rule.confidence,
        )


class Row(RuleInfo):
    verdict: Status
    evidence: list[str] = Field(default_factory=list)
    tests: list[str] = Field(default_factory=list)
    received: str | None = None
    documented: str | None = None
    curl: str | None = None
    detail: str | None = None

    def info(self) -> RuleInfo:
        return RuleInfo.model_validate(self.model_dump(include=set(RuleInfo.model_fields)))


class Totals(BaseModel):
    rules: int = 0
    verified: int = 0
    violated: int = 0
    violated_inferred: int = 0
    skipped: int = 0
    untested: int = 0
    undocumented: int = 0
    hygiene: int = 0
    # index: share of rules this target could test (verified + violated + violated_inferred) / rules.
    index: float = 0.0
    # score: share of the tested rules the target honours, verified / (verified + both violated).
    score: float = 0.0


class Question(BaseModel):
    """Undocumented behaviour: the docs are silent and the target did something. A question for the vendor."""

    api: str
    gap_id: str
    received: str
    note: str
    evidence: str
    tests: list[str]
    curl: str | None = None


class CaseOutcome(BaseModel):
    outcome: Outcome
    reason: str | None = None
    finding: bool = False


class CaseTotals(BaseModel):
    total: int = 0
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    error: int = 0
    # Failures that are not Findings: a defect in the suite, never a vendor deviation.
    defects: list[str] = Field(default_factory=list)


class Matrix(BaseModel):
    version: int = MATRIX_VERSION
    generated_at: str
    suite_version: str
    target: str
    seed: int
    apis: list[str]
    evidence_note: str = EVIDENCE_NOTE
    inferred_note: str = INFERRED_NOTE
    # --strict: violated-inferred rules gate the run too.
    strict: bool = False
    rows: list[Row]
    totals: dict[str, Totals]
    tests: CaseTotals = Field(default_factory=CaseTotals)
    undocumented: list[Question] = Field(default_factory=list)
    hygiene: list[VerdictRecord] = Field(default_factory=list)
    # "complete", "interrupted (SIGINT)", "nothing tested: ..." or "aborted: ...": a gate reads this first.
    outcome: str = "complete"

    @property
    def gating(self) -> list[str]:
        """The rules whose violation decides the exit code: violated, and violated-inferred under --strict."""
        gates = VIOLATED if self.strict else ("violated",)
        return [row.rule_id for row in self.rows if row.verdict in gates]


class RunData(BaseModel):
    """Everything the workers of a run (or several shards) left in ``<report-dir>/verdicts/``."""

    records: list[VerdictRecord] = Field(default_factory=list)
    bindings: dict[str, list[str]] = Field(default_factory=dict)
    outcomes: dict[str, CaseOutcome] = Field(default_factory=dict)


def load_run(directory: Path) -> RunData:
    """Read every ``*.jsonl`` (verdicts), ``*.bindings.json`` and ``*.outcomes.json`` in ``directory``."""
    data = RunData()
    if not directory.is_dir():
        return data
    for path in sorted(directory.glob("*.jsonl")):
        if path.name.endswith(".errors.jsonl"):
            continue  # run-level errors, read by the runner
        lines = path.read_text(encoding="utf-8").split("\n")  # not splitlines: U+2028 and NEL may sit in a value
        data.records += [VerdictRecord.model_validate_json(line) for line in lines if line.strip()]
    for path in sorted(directory.glob("*.bindings.json")):
        data.bindings.update(json.loads(path.read_text(encoding="utf-8")))
    for path in sorted(directory.glob("*.outcomes.json")):
        raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        data.outcomes.update({k: CaseOutcome.model_validate(v) for k, v in raw.items()})
    return data


def load_records(directory: Path) -> tuple[list[VerdictRecord], dict[str, list[str]]]:
    """Verdict records and test→rules bindings of a run (kept for callers of the first version)."""
    data = load_run(directory)
    return data.records, data.bindings


def is_finding(message: str) -> bool:
    return bool(FINDING_RE.search(message)) and "Received:" in message


def _api_order(api: str) -> int:
    return list(APIS).index(api) if api in APIS else len(APIS)


def _gap_api(gap_id: str, test: str, infos: dict[str, RuleInfo], bindings: dict[str, list[str]]) -> str:
    prefix = gap_id.split("-", 1)[0]
    by_prefix = {info.api for info in infos.values() if info.rule_id.split("-", 1)[0] == prefix}
    if len(by_prefix) == 1:
        return by_prefix.pop()
    bound = {infos[r].api for r in bindings.get(test, []) if r in infos}
    if len(bound) == 1:
        return bound.pop()
    # A test bound to no rule (a property test) is named after its API: test_capillary_points.py.
    module = test.partition("::")[0].rsplit("/", 1)[-1].removesuffix(".py").removeprefix("test_").replace("_", "-")
    return module if module in APIS else "unknown"


def _row(info: RuleInfo, records: list[VerdictRecord], tests: list[str], outcomes: dict[str, CaseOutcome]) -> Row:
    decisive_statuses = {r.status for r in records}
    verdict: Status = next((s for s in PRECEDENCE if s in decisive_statuses), "untested")
    decisive = [r for r in records if r.status == verdict]
    first = min(decisive, key=lambda r: (r.test, r.received)) if decisive else None
    all_tests = sorted(set(tests) | {r.test for r in records if r.test})
    detail = first.detail if first is not None and verdict == "skipped" else None
    evidence = sorted({r.evidence for r in decisive})
    if verdict == "untested":
        ran = [outcomes[t] for t in all_tests if t in outcomes]
        skips = sorted({o.reason or "skipped" for o in ran if o.outcome == "skipped"})
        if ran and all(o.outcome == "skipped" for o in ran):
            verdict, detail = "skipped", "; ".join(skips)
        elif not all_tests:
            detail = "no test of this run is bound to this rule"
        elif any(o.outcome in ("failed", "error") and not o.finding for o in ran):
            detail = "its tests failed before recording a verdict (a defect in the suite)"
        elif any(o.outcome == "failed" for o in ran):
            detail = "its tests stopped at an earlier violation before judging it"
        elif not ran:
            detail = "its tests did not run"
        else:
            detail = "its tests recorded no verdict for it"
    return Row(
        **info.model_dump(),
        verdict=verdict,
        evidence=evidence,
        tests=all_tests,
        received=first.received if first and verdict in VIOLATED else None,
        documented=first.documented if first and verdict in VIOLATED else None,
        curl=first.curl if first and verdict in VIOLATED else None,
        detail=detail,
    )


def totals_of(rows: list[Row], questions: int = 0, hygiene: int = 0) -> Totals:
    t = Totals(rules=len(rows), undocumented=questions, hygiene=hygiene)
    for row in rows:
        if row.verdict in PRECEDENCE:
            name = row.verdict.replace("-", "_")
            setattr(t, name, getattr(t, name) + 1)
    tested = t.verified + t.violated + t.violated_inferred
    if t.rules:
        t.index = round(tested / t.rules, 4)
    if tested:
        t.score = round(t.verified / tested, 4)
    return t


def case_totals(outcomes: dict[str, CaseOutcome]) -> CaseTotals:
    totals = CaseTotals(total=len(outcomes))
    for nodeid, outcome in sorted(outcomes.items()):
        setattr(totals, outcome.outcome, getattr(totals, outcome.outcome) + 1)
        if outcome.outcome in ("failed", "error") and not outcome.finding:
            totals.defects.append(nodeid)
    return totals


def _questions(
    records: Iterable[VerdictRecord], infos: dict[str, RuleInfo], bindings: dict[str, list[str]]
) -> list[Question]:
    grouped: dict[tuple[str, str, str], list[VerdictRecord]] = defaultdict(list)
    for r in records:
        grouped[(r.rule_id, r.received, r.evidence)].append(r)
    questions = []
    for (gap, received, evidence), group in grouped.items():
        head = min(group, key=lambda r: r.test)
        questions.append(
            Question(
                api=_gap_api(gap, head.test, infos, bindings),
                gap_id=gap,
                received=received,
                note=head.detail or "",
                evidence=evidence,
                tests=sorted({r.test for r in group}),
                curl=head.curl,
            )
        )
    questions.sort(key=lambda q: (_api_order(q.api), q.gap_id, q.received))
    return questions


def build_matrix(
    catalogue: dict[str, Rule] | Iterable[RuleInfo],
    records: list[VerdictRecord],
    bindings: dict[str, list[str]],
    *,
    target: str,
    seed: int,
    outcomes: dict[str, CaseOutcome] | None = None,
    apis: list[str] | None = None,
    generated_at: str = "",
    suite_version: str = "",
    strict: bool = False,
) -> Matrix:
    """One row per rule of ``apis`` (default: every API in the catalogue), verdicts from ``records``."""
    outcomes = outcomes or {}
    infos_all = (
        {rid: RuleInfo.of(rule) for rid, rule in catalogue.items()}
        if isinstance(catalogue, dict)
        else {info.rule_id: info for info in catalogue}
    )
    chosen = apis or sorted({i.api for i in infos_all.values()}, key=_api_order)
    infos = {rid: info for rid, info in infos_all.items() if info.api in chosen}
    by_rule: dict[str, list[VerdictRecord]] = defaultdict(list)
    for record in records:
        by_rule[record.rule_id].append(record)
    tests_of: dict[str, list[str]] = defaultdict(list)
    for test, rules in bindings.items():
        for rid in rules:
            tests_of[rid].append(test)
    rows = [_row(info, by_rule.get(rid, []), tests_of.get(rid, []), outcomes) for rid, info in infos.items()]
    rows.sort(key=lambda r: (_api_order(r.api), r.rule_id))
    # Only catalogued rules are judged; a gap ID or a hygiene check is reported, never scored.
    undocumented = _questions((r for r in records if r.status == "undocumented-behaviour"), infos_all, bindings)
    undocumented = [q for q in undocumented if q.api in chosen or q.api == "unknown"]
    hygiene = sorted((r for r in records if r.status == "hygiene"), key=lambda r: (r.rule_id, r.test, r.received))
    totals: dict[str, Totals] = {}
    for api in chosen:
        hyg = sum(1 for r in hygiene if _gap_api(r.rule_id, r.test, infos_all, bindings) == api)
        totals[api] = totals_of([r for r in rows if r.api == api], sum(1 for q in undocumented if q.api == api), hyg)
    totals["all"] = totals_of(rows, len(undocumented), len(hygiene))
    return Matrix(
        generated_at=generated_at,
        suite_version=suite_version,
        target=target,
        seed=seed,
        apis=list(chosen),
        strict=strict,
        rows=rows,
        totals=totals,
        tests=case_totals(outcomes),
        undocumented=undocumented,
        hygiene=hygiene,
    )


def write_json(matrix: Matrix, path: Path) -> None:
    payload: dict[str, Any] = matrix.model_dump(mode="json")
    write_text_atomic(path, json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def load_matrix(path: Path) -> Matrix:
    """Read a ``conformance.json``; a missing, foreign or newer file is a usage error."""
    from conformance.errors import UsageError

    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"The matrix {path} does not exist; give the conformance.json a run wrote.") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"The matrix {path} is not readable JSON ({exc}).") from None
    if not isinstance(raw, dict) or raw.get("version") != MATRIX_VERSION:
        found = raw.get("version") if isinstance(raw, dict) else None
        raise UsageError(
            f"{path} is not a conformance matrix of version {MATRIX_VERSION} (found version {found!r}); "
            "pass the conformance.json written by `conformance run`."
        )
    try:
        return Matrix.model_validate(raw)
    except ValueError as exc:
        raise UsageError(f"The matrix {path} does not have the documented shape: {str(exc).splitlines()[0]}.") from None
