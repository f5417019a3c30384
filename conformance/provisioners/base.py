"""The provisioner interface. Every capability a target lacks raises PreconditionUnavailable, which skips."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.errors import PreconditionUnavailable


@dataclass(frozen=True)
class BadgeEarn:
    badge_meta_id: str
    earned_badge_id: str
    customer_id: int
    identifiers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Redemption:
    redemption_id: str
    customer_id: int
    points: float
    identifiers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RewardTxn:
    txn_id: int
    customer_id: int
    user_rewards: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class ThanxJob:
    id: str
    merchant_id: str
    state: str
    job: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Mandate:
    mandate_id: str
    customer_id: str
    status: str


class Provisioner:
    """Base: nothing is available. Implementations override what their target can do."""

    name = "none"

    def unavailable(self, capability: str) -> PreconditionUnavailable:
        return PreconditionUnavailable(capability, f"the {self.name} provisioner cannot provide it on this target")

    # Capillary badges
    def badge_earn(self, *, active: bool = True) -> BadgeEarn:
        raise self.unavailable("badge earn" if active else "inactive badge earn")

    # Capillary points
    def points_redemption(
        self,
        *,
        points: float,
        expired_points: float = 0,
        program_reversal_enabled: bool = True,
        customer_eligible: bool = True,
        customer_locked: bool = False,
        reversal_limit: int | None = None,
    ) -> Redemption:
        """A redemption of ``points``; the flags describe program and customer, defaults as a live org has them."""
        chosen = expired_points or not program_reversal_enabled or not customer_eligible or customer_locked
        if chosen or reversal_limit is not None:
            raise self.unavailable("points redemption with chosen program or customer flags")
        return self.plain_redemption(points)

    def plain_redemption(self, points: float) -> Redemption:
        """A redemption with default program and customer settings; what vendor and manifest targets can make."""
        raise self.unavailable("points redemption")

    # Capillary rewards
    def pristine_org(self) -> None:
        """Promise an org whose REVOKE_ENABLE was never set; only a fresh sandbox tenant can."""
        raise self.unavailable("an org that never set REVOKE_ENABLE")

    def set_revoke_enabled(self, enabled: bool) -> None:
        raise self.unavailable("REVOKE_ENABLE flag")

    def reward_txn(self, rewards: list[tuple[str, float]]) -> RewardTxn:
        """A transaction whose user rewards are in the given (state, points) pairs."""
        raise self.unavailable("reward transaction in chosen states")

    def reverse_redeem(self, txn: RewardTxn) -> None:
        raise self.unavailable("reverse-redeem of a reward")

    def reward_state(self, txn: RewardTxn) -> dict[str, Any]:
        """Full state (attempts, refund count, audit) where the vendor has no read operation for it."""
        raise self.unavailable("reward transaction internals (attempts, refunds, audit)")

    def badge_state(self, earn: BadgeEarn) -> dict[str, Any]:
        raise self.unavailable("badge earn internals")

    def redemption_state(self, redemption: Redemption) -> dict[str, Any]:
        raise self.unavailable("redemption internals (reversals)")

    def customer_points(self, customer_id: int) -> dict[str, float]:
        """A Capillary customer's points balance ({available, expired}); no documented vendor read shows it."""
        raise self.unavailable("customer points balance")

    # Thanx
    def thanx_job(self, state: str, *, success_count: int | None = None, failure_count: int | None = None) -> ThanxJob:
        raise self.unavailable(f"Thanx issuance job in state {state}")

    def thanx_advance(self, job: ThanxJob) -> None:
        raise self.unavailable("advancing Thanx asynchronous work")

    # Juspay
    def mandate(self, status: str) -> Mandate:
        raise self.unavailable(f"Juspay mandate in status {status}")

    def mandate_state(self, mandate: Mandate) -> dict[str, Any]:
        raise self.unavailable("mandate internals (routing ids seen)")

    # Faults
    def fault(self, api: str, kind: str, **params: Any) -> None:
        raise self.unavailable(f"fault injection ({kind})")

    def close(self) -> None:
        """Release what the provisioner holds (ledgers, connections)."""
