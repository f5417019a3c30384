"""The control provisioner: drives the sandbox control API (ours, or any target implementing it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conformance.errors import InternalError, PreconditionUnavailable
from conformance.http.client import ApiClient
from conformance.provisioners.base import BadgeEarn, Mandate, Provisioner, Redemption, RewardTxn, ThanxJob

PREFIX = "/_sandbox"


@dataclass(frozen=True)
class ThanxCampaign:
    """What issueCampaignRewards needs: a merchant, one of its campaigns and a rewarded variant."""

    merchant_id: str
    campaign_id: str
    variant_id: str


class ControlProvisioner(Provisioner):
    """Creates any documented state and injects any fault through ``/_sandbox``."""

    name = "control"

    def __init__(self, client: ApiClient) -> None:
        self.client = client

    def _call(self, method: str, path: str, body: Any = None, *, phase: str = "setup") -> Any:
        exchange = self.client.call(
            method, PREFIX + path, json=body, auth=None, phase=phase, operation=f"control {path}"
        )
        if exchange.status == 404 and exchange.json() is None:
            raise PreconditionUnavailable(
                f"control API {path}", "the target does not implement the sandbox control API"
            )
        if exchange.status is None or exchange.status >= 400:
            raise InternalError(
                f"Control call {method} {path} failed with {exchange.status}: {exchange.response and exchange.response.text}"
            )
        return exchange.json()

    def badge_earn(self, *, active: bool = True) -> BadgeEarn:
        body = self._call("POST", "/capillary/badges/earns", {"active": active})
        return BadgeEarn(
            body["badgeMetaId"], body["earnedBadgeId"], int(body["customerId"]), dict(body.get("customer") or {})
        )

    def badge_state(self, earn: BadgeEarn) -> dict[str, Any]:
        return dict(self._call("GET", f"/capillary/badges/earns/{earn.earned_badge_id}", phase="readback"))

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
        body = self._call(
            "POST",
            "/capillary/points/redemptions",
            {
                "points": points,
                "expiredPoints": expired_points,
                "programReversalEnabled": program_reversal_enabled,
                "customerEligible": customer_eligible,
                "customerLocked": customer_locked,
                "reversalLimit": reversal_limit,
            },
        )
        return Redemption(
            body["redemptionId"], int(body["customerId"]), float(body["points"]), dict(body.get("customer") or {})
        )

    def redemption_state(self, redemption: Redemption) -> dict[str, Any]:
        return dict(self._call("GET", f"/capillary/points/redemptions/{redemption.redemption_id}", phase="readback"))

    def customer_points(self, customer_id: int) -> dict[str, float]:
        body = self._call("GET", f"/capillary/customers/{customer_id}", phase="readback")
        return {key: float(body["points"][key]) for key in ("available", "expired")}

    def pristine_org(self) -> None:
        """Every test has its own tenant, whose org has never set a flag."""

    def set_revoke_enabled(self, enabled: bool) -> None:
        self._call("PUT", "/capillary/rewards/flags", {"REVOKE_ENABLE": enabled})

    def reward_txn(self, rewards: list[tuple[str, float]]) -> RewardTxn:
        body = self._call(
            "POST", "/capillary/rewards/transactions", {"rewards": [{"state": s, "points": p} for s, p in rewards]}
        )
        return RewardTxn(int(body["txnId"]), int(body["customerId"]), list(body.get("userRewards") or []))

    def reverse_redeem(self, txn: RewardTxn) -> None:
        self._call("POST", f"/capillary/rewards/transactions/{txn.txn_id}/reverse-redeem")

    def reward_state(self, txn: RewardTxn) -> dict[str, Any]:
        return dict(self._call("GET", f"/capillary/rewards/transactions/{txn.txn_id}", phase="readback"))

    def thanx_job(self, state: str, *, success_count: int | None = None, failure_count: int | None = None) -> ThanxJob:
        request: dict[str, Any] = {"state": state}
        if success_count is not None:
            request["success_count"] = success_count
        if failure_count is not None:
            request["failure_count"] = failure_count
        body = self._call("POST", "/thanx/issuance_jobs", request)
        job = body["issuance_job"]
        return ThanxJob(job["id"], body["merchant_id"], job["state"], job)

    def thanx_campaign(self, merchant_id: str | None = None) -> ThanxCampaign:
        """An active campaign with one rewarded variant, without the vendor's setup endpoints."""
        body = self._call("POST", "/thanx/campaigns", {"merchant_id": merchant_id})
        return ThanxCampaign(str(body["merchant_id"]), str(body["campaign_id"]), str(body["variant_id"]))

    def thanx_advance(self, job: ThanxJob) -> None:
        self._call("POST", f"/thanx/issuance_jobs/{job.id}/advance")

    def mandate(self, status: str) -> Mandate:
        body = self._call("POST", "/juspay/mandates", {"status": status})
        return Mandate(body["mandate_id"], body["customer_id"], body["mandate_status"])

    def mandate_state(self, mandate: Mandate) -> dict[str, Any]:
        return dict(self._call("GET", f"/juspay/mandates/{mandate.mandate_id}", phase="readback"))

    def fault(self, api: str, kind: str, **params: Any) -> None:
        self._call("POST", "/faults", {"api": api, "kind": kind, **params})

    def reset(self) -> None:
        self._call("POST", "/reset", {})
