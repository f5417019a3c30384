"""Capillary rewards' provisioning: reward transactions, the org's REVOKE_ENABLE flag and the reward's internals."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from conformance.http.client import ApiClient
from conformance.provisioners.base import ApiProvisioner, Creation, Preflight, Provisioning, Section
from conformance.provisioners.control import Controlled
from conformance.provisioners.manifest import Listed
from conformance.provisioners.vendor import Vendored


@dataclass(frozen=True)
class RewardTxn:
    txn_id: int
    customer_id: int
    user_rewards: list[dict[str, Any]] = field(default_factory=list)


class RewardsProvisioner(ApiProvisioner):
    """What Capillary rewards' scenarios need; every capability is unavailable unless a kind provides it."""

    api = "capillary-rewards"

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


class ControlRewards(Controlled, RewardsProvisioner):
    def pristine_org(self) -> None:
        """Every test has its own tenant, whose org has never set a flag."""

    def set_revoke_enabled(self, enabled: bool) -> None:
        self.control.call("PUT", "/capillary/rewards/flags", {"REVOKE_ENABLE": enabled})

    def reward_txn(self, rewards: list[tuple[str, float]]) -> RewardTxn:
        body = self.control.call(
            "POST", "/capillary/rewards/transactions", {"rewards": [{"state": s, "points": p} for s, p in rewards]}
        )
        return RewardTxn(int(body["txnId"]), int(body["customerId"]), list(body.get("userRewards") or []))

    def reverse_redeem(self, txn: RewardTxn) -> None:
        self.control.call("POST", f"/capillary/rewards/transactions/{txn.txn_id}/reverse-redeem")

    def reward_state(self, txn: RewardTxn) -> dict[str, Any]:
        return self.control.read(f"/capillary/rewards/transactions/{txn.txn_id}")


class VendorRewards(Vendored, RewardsProvisioner):
    def set_revoke_enabled(self, enabled: bool) -> None:
        body = {
            "configKeyName": "REVOKE_ENABLE",
            "configKeyValue": str(enabled).lower(),
            "brandId": self.vendor.require("brand_id"),
            "label": "REVOKE_ENABLE",
        }
        self.vendor.call("POST", "/api_gateway/rewards/core/v1/brand/config", "setBrandConfig", json=body)

    def reward_txn(self, rewards: list[tuple[str, float]]) -> RewardTxn:
        if [s for s, _ in rewards] != ["ISSUED"]:
            raise self.unavailable("reward transaction in chosen states (the issue API creates one ISSUED reward)")
        vendor = self.vendor
        reward_id = vendor.require("reward_id")
        body = {
            "mobile": vendor.require("customer_mobile"),
            "brand": vendor.require("brand"),
            "transactionNumber": vendor.short_key("txn"),
            "requestId": vendor.key("issue"),
        }
        path = f"/api_gateway/rewards/core/v1/user/reward/{reward_id}/issue"
        data = vendor.call("POST", path, "issueUserReward", params={"skip_validation": "true"}, json=body)
        return RewardTxn(int(data["transactionId"]), int(vendor.setup.get("customer_id", "0")))


class RewardEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    txn_id: int
    customer_id: int


TRANSACTIONS = Section("capillary_reward_transactions", RewardEntry, "capillary reward transaction", id_field="txn_id")


class ManifestRewards(Listed, RewardsProvisioner):
    def reward_txn(self, rewards: list[tuple[str, float]]) -> RewardTxn:
        if [s for s, _ in rewards] != ["ISSUED"]:
            raise self.unavailable("reward transaction in chosen states")
        e = self.take(TRANSACTIONS)
        return RewardTxn(e.txn_id, e.customer_id)


def revoke_enable(client: ApiClient, setup: Mapping[str, str]) -> tuple[bool | None, str]:
    """The brand's REVOKE_ENABLE, read where Capillary documents a read of it (getConfig)."""
    brand = setup.get("brand_id")
    if not brand:
        return None, "no setup.brand_id in the targets file to read it"
    exchange = client.call("GET", f"/api_gateway/rewards/core/v1/brand/{brand}/getConfig", phase="control")
    configs = (exchange.json() or {}).get("configList") if isinstance(exchange.json(), dict) else None
    flags = {str(c.get("key")): c.get("value") for c in configs or [] if isinstance(c, dict)}
    value = flags.get("REVOKE_ENABLE")
    if value is None:
        return None, f"brand {brand}: not set (HTTP {exchange.status})"
    return str(value).lower() == "true", f"brand {brand}: REVOKE_ENABLE={value}"


PROVISIONING = Provisioning(
    RewardsProvisioner,
    kinds=(ControlRewards, VendorRewards, ManifestRewards),
    sections=(TRANSACTIONS,),
    creations=(
        Creation("reward transaction", control_route="/capillary/rewards/transactions"),
        Creation("reward transaction", vendor_operation="issueUserReward"),
    ),
    preflight=(Preflight("REVOKE_ENABLE", revoke_enable),),
)
