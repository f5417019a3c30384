"""The rule catalogue: every documented behavioural claim, with a stable ID, read from ``specs/rules/``."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from conformance.apis import APIS, SPECS_DIR
from conformance.errors import UsageError

RuleKind = Literal[
    "precondition", "transition", "async", "status-envelope", "money", "auth", "validation", "client-request"
]
Confidence = Literal["documented", "inferred", "assumed"]

# Money and state come first: a QA lead reads the blockers before anything else.
SEVERITY_BY_KIND: dict[str, str] = {
    "money": "blocker",
    "transition": "critical",
    "async": "critical",
    "precondition": "critical",
    "status-envelope": "normal",
    "auth": "normal",
    "validation": "minor",
    "client-request": "minor",
}


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")
    page: str
    section: str


class Rule(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str = Field(pattern=r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")
    claim: str
    kind: RuleKind
    confidence: Confidence
    operation: str
    source: Source
    quote: str
    withdrawn: str | None = None
    api: str = ""

    @property
    def severity(self) -> str:
        return SEVERITY_BY_KIND[self.kind]


class RuleFile(BaseModel):
    model_config = ConfigDict(extra="allow")
    api: str
    spec: str
    rules: list[Rule]


def load_rule_file(path: Path) -> RuleFile:
    """Parse one rule file, turning YAML and schema errors into one-paragraph usage errors."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        parsed = RuleFile.model_validate(raw)
    except FileNotFoundError:
        raise UsageError(
            f"Rule file {path} does not exist; every API in specs/ needs specs/rules/<api>.yaml."
        ) from None
    except yaml.YAMLError as exc:
        raise UsageError(f"Rule file {path} is not valid YAML: {exc}".replace("\n", " ")) from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
        raise UsageError(
            f"Rule file {path} does not match the rule format (see specs/README.md): {problems}."
        ) from None
    for rule in parsed.rules:
        rule.api = parsed.api
    return parsed


@cache
def load_catalogue(specs_dir: Path = SPECS_DIR) -> dict[str, Rule]:
    """All rules of all APIs, keyed by ID, withdrawn ones included; duplicate IDs are an error."""
    catalogue: dict[str, Rule] = {}
    for key in APIS:
        for rule in load_rule_file(specs_dir / "rules" / f"{key}.yaml").rules:
            if rule.id in catalogue:
                raise UsageError(f"Rule ID {rule.id} appears twice in specs/rules/; IDs are unique and never reused.")
            catalogue[rule.id] = rule
    return catalogue


def active_rules(specs_dir: Path = SPECS_DIR) -> dict[str, Rule]:
    """The rules a run must record verdicts for."""
    return {rid: rule for rid, rule in load_catalogue(specs_dir).items() if rule.withdrawn is None}
