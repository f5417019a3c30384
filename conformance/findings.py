"""Typed findings: what a check raises when a target deviates from its documentation."""

from __future__ import annotations

import json
from typing import Any


def show(value: Any) -> str:
    """Render a received or documented value compactly and stably."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(value)


class Finding(AssertionError):
    """A rule violated by the target. Being an AssertionError, pytest reports it natively."""

    def __init__(self, *, rule_id: str, claim: str, received: Any, documented: Any, curl: str | None = None) -> None:
        self.rule_id = rule_id
        self.claim = claim
        self.received = received
        self.documented = documented
        self.curl = curl
        super().__init__(self.render())

    verdict = "violated"

    def render(self) -> str:
        lines = [
            f"{self.rule_id}: {self.claim}",
            *self.preamble(),
            f"Received: {show(self.received)}",
            f"Documented: {show(self.documented)}",
        ]
        if self.curl:
            lines += ["", "Reproduce with:", f"    {self.curl}"]
        return "\n".join(lines)

    def preamble(self) -> list[str]:
        return []


class InferredFinding(Finding):
    """A rule the suite inferred or assumed from a page (not one it states) was not honoured.

    Reported as ``violated-inferred``: the target may have made another reading of the page; it gates
    a run only under ``--strict``.
    """

    verdict = "violated-inferred"

    def preamble(self) -> list[str]:
        return [
            "Verdict: violated-inferred (the page implies this rule but does not state it; "
            "it gates the run only with --strict)"
        ]
