"""The vendor-API provisioner: builds preconditions with the vendors' own setup endpoints on a live sandbox.

Every setup call carries an idempotency key (Thanx ``X-Idempotency-Key``, Capillary ``requestId`` or
external reference number), so a retried setup call never creates a second resource. What the
vendors' APIs cannot create (a job in ``processing`` on demand, an ACTIVE mandate, a fault) is
unavailable here and the scenario is skipped with that reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from conformance.errors import InternalError, PreconditionUnavailable
from conformance.http.client import ApiClient
from conformance.http.exchange import Exchange
from conformance.provisioners.base import BadgeEarn, Provisioner, Redemption, RewardTxn, ThanxJob


def run_tag(run_id: str | None) -> str:
    """The run's tag in reference fields: every xdist worker of one run shares the run id."""
    return "conf" + (run_id or "local")[:12]


Poll = Callable[[Callable[[], Exchange], Callable[[Exchange], bool], str], Exchange]


def _require(setup: Mapping[str, str], key: str, vendor: str) -> str:
    if not setup.get(key):
        raise PreconditionUnavailable(
            f"{vendor} setup value {key}",
            f"set vendors.{vendor}.setup.{key} in the targets file to let the vendor provisioner create it",
        )
    return setup[key]


class VendorProvisioner(Provisioner):
    name = "vendor"

    def __init__(
        self, client: ApiClient, setup: Mapping[str, str], poll: Poll, test_id: str, run_id: str | None = None
    ) -> None:
        self.client = client
        self.run_id = run_id
        self.setup = dict(setup)
        self.poll = poll
        self.test_id = test_id

    def key(self, purpose: str) -> str:
        """Unique per run and purpose (an idempotency key is never reused for another request), and led by
        the run id, so every resource made through a reference field names the run that made it."""
        unique = uuid.uuid5(uuid.NAMESPACE_URL, f"{self.test_id}:{purpose}:{uuid.uuid4()}").hex
        return f"{run_tag(self.run_id)}-{unique}"

    def short_key(self, purpose: str) -> str:
        """A 20-character reference (Capillary transaction numbers): the run tag, then 10 unique characters."""
        return (run_tag(self.run_id)[:10] + self.key(purpose).rsplit("-", 1)[1])[:20]

    def _setup(self, method: str, path: str, operation: str, **kwargs: Any) -> Any:
        """One setup call: retried safely (every setup call carries an idempotency key), refused loudly."""
        exchange = self.client.call(method, path, operation=operation, phase="setup", retry=True, **kwargs)
        if exchange.status is None or exchange.status >= 300:
            raise InternalError(
                f"Vendor setup {operation} failed with HTTP {exchange.status}; see the exchange: {exchange.curl()}"
            )
        return exchange.json() or {}

    def badge_earn(self, *, active: bool = True) -> BadgeEarn:
        if not active:
            raise self.unavailable("inactive badge earn")
        meta = _require(self.setup, "badge_meta_id", "capillary")
        customer = _require(self.setup, "customer_id", "capillary")
        body = {
            "badgeMetaId": meta,
            "customerId": int(customer),
            "requestId": self.key("earn"),
            "triggeredBy": {
                "ownerType": self.setup.get("badge_owner_type", "Loyalty"),
                "referenceId": _require(self.setup, "badge_reference_id", "capillary"),
            },
        }
        data = self._setup("POST", "/api_gateway/v1/badges/customer/earn", "earnBadge", json=body).get("data") or {}
        return BadgeEarn(meta, str(data["earnedBadgeId"]), int(customer), self.identifiers())

    def identifiers(self) -> dict[str, str]:
        """The configured customer's identifiers, by the names X-CAP-CUSTOMER-IDENTIFIER uses."""
        keys = {
            "mobile": "customer_mobile",
            "email": "customer_email",
            "externalId": "customer_external_id",
            "cardNumber": "customer_card_number",
        }
        return {name: self.setup[key] for name, key in keys.items() if self.setup.get(key)}

    def plain_redemption(self, points: float) -> Redemption:
        mobile = _require(self.setup, "customer_mobile", "capillary")
        entry = {
            "points_redeemed": points,
            "customer": {"mobile": mobile},
            "transaction_number": self.short_key("txn"),
            "external_reference_number": self.key("redeem"),
            "validation_code": self.setup.get("validation_code", ""),
        }
        params = {
            "skip_validation": "true",
            "program_id": _require(self.setup, "program_id", "capillary"),
            "format": "json",
        }
        body = self._setup(
            "POST", "/v1.1/points/redeem", "redeemPoints", params=params, json={"root": {"redeem": [entry]}}
        )
        redemption_id = str(body["response"]["responses"]["points"]["redemption_id"])
        customer_id = int(self.setup.get("customer_id", "0"))
        return Redemption(redemption_id, customer_id, points, self.identifiers())

    def set_revoke_enabled(self, enabled: bool) -> None:
        body = {
            "configKeyName": "REVOKE_ENABLE",
            "configKeyValue": str(enabled).lower(),
            "brandId": _require(self.setup, "brand_id", "capillary"),
            "label": "REVOKE_ENABLE",
        }
        self._setup("POST", "/api_gateway/rewards/core/v1/brand/config", "setBrandConfig", json=body)

    def reward_txn(self, rewards: list[tuple[str, float]]) -> RewardTxn:
        if [s for s, _ in rewards] != ["ISSUED"]:
            raise self.unavailable("reward transaction in chosen states (the issue API creates one ISSUED reward)")
        reward_id = _require(self.setup, "reward_id", "capillary")
        body = {
            "mobile": _require(self.setup, "customer_mobile", "capillary"),
            "brand": _require(self.setup, "brand", "capillary"),
            "transactionNumber": self.short_key("txn"),
            "requestId": self.key("issue"),
        }
        path = f"/api_gateway/rewards/core/v1/user/reward/{reward_id}/issue"
        data = self._setup("POST", path, "issueUserReward", params={"skip_validation": "true"}, json=body)
        return RewardTxn(int(data["transactionId"]), int(self.setup.get("customer_id", "0")))

    def thanx_job(self, state: str, *, success_count: int | None = None, failure_count: int | None = None) -> ThanxJob:
        if state not in ("completed", "failed") or success_count is not None or failure_count is not None:
            raise self.unavailable(f"Thanx job in state {state} with chosen counters")
        merchant = _require(self.setup, "merchant_id", "thanx")
        identifiers = [
            {"type": "email", "value": v.strip()} for v in _require(self.setup, "identifier_emails", "thanx").split(",")
        ]
        body = {
            "campaign_id": _require(self.setup, "campaign_id", "thanx"),
            "variant_id": _require(self.setup, "variant_id", "thanx"),
            "merchant_id": merchant,
            "identifiers": identifiers,
        }
        issued = self._setup(
            "POST",
            "/partner/campaigns/issue",
            "issueCampaignRewards",
            json=body,
            # Thanx documents the key as a UUID; the run id travels in touched.json instead.
            headers={"X-Idempotency-Key": str(uuid.uuid5(uuid.NAMESPACE_URL, self.key("issue")))},
        )
        job_id = str((issued.get("issuance_job") or {})["id"])

        def read() -> Exchange:
            return self.client.call(
                "GET",
                f"/partner/issuance_jobs/{job_id}",
                operation="getIssuanceJob",
                phase="setup",
                params={"merchant_id": merchant},
                retry=True,
            )

        final = self.poll(
            read,
            lambda e: (e.json() or {}).get("issuance_job", {}).get("state") in ("completed", "failed"),
            f"Thanx job {job_id}",
        )
        job = (final.json() or {})["issuance_job"]
        if job["state"] != state:
            raise PreconditionUnavailable(f"Thanx job in state {state}", f"the issued job ended {job['state']}")
        return ThanxJob(job_id, merchant, job["state"], job)
