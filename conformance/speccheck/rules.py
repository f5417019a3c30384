"""The rule catalogues (``specs/rules/*.yaml``): format, operations, sources, quotes, unique IDs."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from conformance.speccheck.load import Spec, display, load_yaml
from conformance.speccheck.text import SourcePages
from conformance.speccheck.walk import iter_operations

RULE_ID = r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$"
Kind = Literal[
    "precondition", "transition", "async", "status-envelope", "money", "auth", "validation", "client-request"
]
Confidence = Literal["documented", "inferred", "assumed"]


class RuleSource(BaseModel):
    model_config = ConfigDict(extra="forbid")
    page: str = Field(min_length=1)
    section: str = Field(min_length=1)


class RuleModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=RULE_ID)
    claim: str = Field(min_length=1)
    kind: Kind
    confidence: Confidence
    operation: str = Field(min_length=1)
    source: RuleSource
    quote: str = Field(min_length=1)
    withdrawn: str | None = None


class RuleFileModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    api: str = Field(min_length=1)
    spec: str = Field(min_length=1)
    rules: list[RuleModel]


@dataclass
class RulesResult:
    """Per API key: the confidence counts of live rules; problems per API and across files."""

    by_confidence: dict[str, Counter[str]] = field(default_factory=dict)
    withdrawn: Counter[str] = field(default_factory=Counter)
    problems: dict[str, list[str]] = field(default_factory=dict)
    global_problems: list[str] = field(default_factory=list)
    files: dict[str, RuleFileModel] = field(default_factory=dict)

    def add(self, key: str, problem: str) -> None:
        self.problems.setdefault(key, []).append(problem)


def _format_errors(error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "(top level)"
        problems.append(f"{location}: {item['msg']}")
    return problems


def check_rules(rules_dir: Path, specs: dict[str, Spec], pages: SourcePages) -> RulesResult:
    """Load every rule file and check it; a YAML syntax error raises ``SpecError`` (a malformed file)."""
    result = RulesResult()
    seen: dict[str, str] = {}
    for path in sorted(rules_dir.glob("*.yaml")) if rules_dir.is_dir() else []:
        key, shown = path.stem, display(path)
        raw = load_yaml(path)
        try:
            parsed = RuleFileModel.model_validate(raw)
        except ValidationError as exc:
            for problem in _format_errors(exc):
                result.add(key, f"{shown}: {problem}")
            result.by_confidence.setdefault(key, Counter())
            continue
        result.files[key] = parsed
        if parsed.api != key:
            result.add(key, f"{shown}: api is {parsed.api!r}, but the file is named for {key!r}")
        spec = specs.get(Path(parsed.spec).stem)
        if spec is None or spec.path.name != parsed.spec:
            result.add(key, f"{shown}: spec {parsed.spec!r} is not a spec in {rules_dir.parent.name}/")
        operations = {str(op.get("operationId")) for _p, _path, _m, op in iter_operations(spec.doc)} if spec else set()
        counts: Counter[str] = Counter()
        for index, rule in enumerate(parsed.rules):
            where = f"{shown}: rules[{index}] {rule.id}"
            if rule.id in seen:
                result.global_problems.append(f"{where}: duplicate rule id (first used in {seen[rule.id]})")
            else:
                seen[rule.id] = shown
            if rule.withdrawn is not None:
                result.withdrawn[key] += 1
            else:
                counts[rule.confidence] += 1
            if spec is not None and rule.operation not in operations:
                result.add(
                    key,
                    f"{where}: operation {rule.operation!r} is not an operationId in {spec.path.name}"
                    f" (it has: {', '.join(sorted(operations)) or 'none'})",
                )
            if not pages.exists(rule.source.page):
                result.add(key, f"{where}: source.page {rule.source.page!r} is not a file in sources/")
            elif not pages.contains(rule.source.page, rule.quote):
                result.add(
                    key, f"{where}: quote not found in {rule.source.page}: {' '.join(rule.quote.split())[:100]!r}"
                )
        result.by_confidence[key] = counts
    return result
