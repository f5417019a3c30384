"""The check registry. A check is ``fn(exchange, judge) -> None`` that records verdicts through its ``judge``.

Each check declares the API and operations it applies to and the rule IDs it enforces; its
docstring is the rule's text as a QA engineer would read it. Registration validates all three.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from conformance.apis import APIS
from conformance.checks.judge import Judge
from conformance.errors import InternalError
from conformance.findings import Finding
from conformance.http.exchange import Exchange
from conformance.verdicts import Recorder

CheckFn = Callable[[Exchange, Judge], None]
# Checks every API shares; each API's own check module is named by its descriptor.
SHARED_CHECK_MODULES = ("conformance.checks.schema",)


def check_modules() -> tuple[str, ...]:
    return (*dict.fromkeys(api.checks for api in APIS.values()), *SHARED_CHECK_MODULES)


@dataclass(frozen=True)
class Check:
    name: str
    api: str
    operations: tuple[str, ...]
    rules: tuple[str, ...]
    phases: tuple[str, ...]
    fn: CheckFn
    doc: str

    def run(self, exchange: Exchange, recorder: Recorder) -> None:
        """Judge ``exchange`` for the test ``recorder`` belongs to."""
        self.fn(exchange, Judge(recorder, self.name))

    def applies_to(self, exchange: Exchange) -> bool:
        return (
            exchange.api == self.api
            and exchange.operation in self.operations
            and exchange.phase in self.phases
            and exchange.response is not None
        )


REGISTRY: dict[str, Check] = {}


def check(
    *, api: str, operations: Sequence[str], rules: Sequence[str], phases: Sequence[str] = ("test",)
) -> Callable[[CheckFn], CheckFn]:
    """Register a check for ``operations`` of ``api`` that enforces ``rules``."""

    def register(fn: CheckFn) -> CheckFn:
        name = fn.__name__
        if name in REGISTRY:
            raise InternalError(f"Check {name} is registered twice; check names are unique.")
        if not fn.__doc__:
            raise InternalError(f"Check {name} has no docstring; a check's docstring is the rule it enforces.")
        if not operations or not rules:
            raise InternalError(f"Check {name} must declare the operations it applies to and the rules it enforces.")
        REGISTRY[name] = Check(name, api, tuple(operations), tuple(rules), tuple(phases), fn, fn.__doc__.strip())
        return fn

    return register


def load_all() -> dict[str, Check]:
    """Import every check module so the registry is complete."""
    for module in check_modules():
        importlib.import_module(module)
    return REGISTRY


def checks_for(exchange: Exchange) -> list[Check]:
    return [c for c in load_all().values() if c.applies_to(exchange)]


def run_checks(exchange: Exchange, recorder: Recorder) -> None:
    """Run every registered check that applies to ``exchange``, then raise the first violation's Finding.

    Every check records its verdict before anything is raised: two rules judging one answer (an error
    shape and its schema) both end violated, neither untested.
    """
    findings: list[Finding] = []
    for registered in checks_for(exchange):
        try:
            registered.run(exchange, recorder)
        except Finding as finding:
            findings.append(finding)
    if findings:
        first = findings[0]
        for other in findings[1:]:
            first.add_note(f"Also violated by this answer: {other.rule_id}")
        raise first


def rule_owners() -> dict[str, str]:
    """Rule ID -> the one registered check that judges it; two checks claiming one rule is a suite defect."""
    owners: dict[str, str] = {}
    for registered in load_all().values():
        for rule_id in registered.rules:
            if owners.setdefault(rule_id, registered.name) != registered.name:
                raise InternalError(f"{rule_id} is claimed by the checks {owners[rule_id]} and {registered.name}.")
    return owners
