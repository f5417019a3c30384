"""What a check records through: its test's recorder and its own name, passed explicitly (no module global)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conformance.http.exchange import Exchange
from conformance.verdicts import Recorder, observe, verdict


@dataclass(frozen=True)
class Judge:
    """One check judging one exchange for one test: every verdict names the check as the rule's judge."""

    recorder: Recorder
    name: str

    def verdict(self, rule_id: str, *, ok: bool, received: Any, documented: Any, exchange: Exchange) -> None:
        verdict(
            rule_id,
            ok=ok,
            received=received,
            documented=documented,
            exchange=exchange,
            recorder=self.recorder,
            judge=self.name,
        )

    def expect_equal(self, rule_id: str, received: Any, documented: Any, exchange: Exchange) -> None:
        self.verdict(rule_id, ok=received == documented, received=received, documented=documented, exchange=exchange)

    def observe(self, gap_id: str, *, received: Any, note: str, exchange: Exchange) -> None:
        observe(gap_id, received=received, note=note, exchange=exchange, recorder=self.recorder)
