"""Read-backs: one answer judged under every rule it proves, and shapes no page documents, searched tolerantly.

A read-back that proves several rules is sent once and judged under each (:class:`Judgements`): every
rule's verdict is recorded before the first finding is raised, so no rule hides behind another's.

The search helpers raise :class:`conformance.context.UnreadableShape` when the value is not where any
documented-compatible reading would put it; the caller records a question and skips the rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from conformance.context import UnreadableShape
from conformance.findings import Finding, InferredFinding
from conformance.http.exchange import Exchange
from conformance.verdicts import verdict


class Judgements:
    """Verdicts of several rules on the same evidence: all recorded, then the first finding raised.

    A documented rule's finding is raised before an inferred one's; the others are named in its notes.
    """

    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def verdict(
        self, rules: str | Iterable[str], *, ok: bool, received: Any, documented: Any, exchange: Exchange | None = None
    ) -> None:
        for rule in (rules,) if isinstance(rules, str) else rules:
            try:
                verdict(rule, ok=ok, received=received, documented=documented, exchange=exchange)
            except Finding as finding:
                self.findings.append(finding)

    def equal(
        self, rules: str | Iterable[str], received: Any, documented: Any, exchange: Exchange | None = None
    ) -> None:
        self.verdict(rules, ok=received == documented, received=received, documented=documented, exchange=exchange)

    def close(self) -> None:
        """Raise the first finding (a documented rule's before an inferred one's), naming the others."""
        if not self.findings:
            return
        ordered = sorted(self.findings, key=lambda finding: isinstance(finding, InferredFinding))
        first = ordered[0]
        for other in ordered[1:]:
            first.add_note(f"Also violated: {other.rule_id}")
        self.findings = []
        raise first


def judge_all(
    rules: Iterable[str], *, ok: bool, received: Any, documented: Any, exchange: Exchange | None = None
) -> None:
    """One piece of evidence judged under every rule of ``rules``; the first finding raised after all are recorded."""
    judgements = Judgements()
    judgements.verdict(rules, ok=ok, received=received, documented=documented, exchange=exchange)
    judgements.close()


def find_list(value: Any, key: str) -> list[Any] | None:
    """The first list under ``key`` anywhere in ``value`` (where the issual carries its user rewards is undocumented)."""
    if isinstance(value, dict):
        if isinstance(value.get(key), list):
            return list(value[key])
        children: list[Any] = list(value.values())
    elif isinstance(value, list):
        children = value
    else:
        return None
    for child in children:
        found = find_list(child, key)
        if found is not None:
            return found
    return None


def issual_states(readback: Exchange) -> list[Any]:
    """The states of the transaction's user rewards in a getIssual answer.

    Where the answer carries them is undocumented (REWARDS-GAP-ISSUAL-SHAPE): the userRewards list is
    searched anywhere in the body; without it, or with a reward that has no state, the answer cannot tell.
    """
    rewards = find_list(readback.json(), "userRewards")
    if rewards is None:
        raise UnreadableShape("the getIssual answer has no userRewards list anywhere")
    states = [r.get("state") if isinstance(r, dict) else None for r in rewards]
    if not all(isinstance(state, str) for state in states):
        raise UnreadableShape(f"a user reward in the getIssual answer has no state: {rewards}")
    return states
