"""A typed client of the sandbox control API (``specs/control/sandbox-control.yaml``) for a client's tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from conformance.provisioners.capillary_badges import BadgeEarn
from conformance.provisioners.capillary_points import Redemption
from conformance.provisioners.capillary_rewards import RewardTxn
from conformance.provisioners.juspay import Mandate
from conformance.provisioners.thanx import ThanxJob

__all__ = [
    "BadgeEarn",
    "ControlError",
    "Credentials",
    "Mandate",
    "Redemption",
    "RewardTxn",
    "SandboxControl",
    "ThanxJob",
]


class ControlError(RuntimeError):
    """A control call was refused; the message carries the sandbox's ``error`` and ``allowed``."""


@dataclass(frozen=True)
class Credentials:
    """The test credentials the sandbox accepts, per vendor."""

    capillary_authorization: str
    capillary_oauth_token: str
    thanx_access_token: str
    thanx_client_id: str
    juspay_api_key: str
    juspay_merchant_id: str
    raw: dict[str, Any]

    @classmethod
    def from_control(cls, raw: dict[str, Any]) -> Credentials:
        capillary: dict[str, Any] = next(
            (raw[k] for k in ("capillary-badges", "capillary-points", "capillary-rewards") if k in raw), {}
        )
        thanx, juspay = raw.get("thanx", {}), raw.get("juspay", {})
        return cls(
            capillary_authorization=str(capillary.get("authorization", "")),
            capillary_oauth_token=str(capillary.get("oauth_token", "")),
            thanx_access_token=str(thanx.get("access_token", "")),
            thanx_client_id=str(thanx.get("client_id", "")),
            juspay_api_key=str(juspay.get("api_key", "")),
            juspay_merchant_id=str(juspay.get("merchant_id", "")),
            raw=raw,
        )


class SandboxControl:
    """Creates resources in any documented state, injects faults and advances jobs, in one tenant."""

    def __init__(self, base_url: str, tenant: str | None = None, *, timeout: float = 10.0) -> None:
        headers = {"X-Sandbox-Tenant": tenant} if tenant else {}
        self._http = httpx.Client(base_url=base_url.rstrip("/") + "/_sandbox", headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self._http.request(method, path, json=body)
        if response.status_code >= 400:
            raise ControlError(f"{method} /_sandbox{path} answered {response.status_code}: {response.text}")
        return response.json()

    def credentials(self) -> Credentials:
        return Credentials.from_control(self._call("GET", "/credentials"))

    def reset(self) -> None:
        self._call("POST", "/reset", {})

    def fault(
        self,
        api: str,
        kind: str,
        *,
        count: int = 1,
        retry_after: int | None = None,
        status: int | None = None,
        code: int | None = None,
        delay_ms: int | None = None,
    ) -> str:
        """Arm a fault for the next ``count`` calls of ``api``; kinds per API are in the control spec."""
        options = {"retry_after": retry_after, "status": status, "code": code, "delay_ms": delay_ms}
        body = {"api": api, "kind": kind, "count": count} | {k: v for k, v in options.items() if v is not None}
        return str(self._call("POST", "/faults", body)["fault_id"])

    def clear_faults(self) -> int:
        return int(self._call("DELETE", "/faults")["deleted"])

    def badge_earn(self, *, active: bool = True) -> BadgeEarn:
        body = self._call("POST", "/capillary/badges/earns", {"active": active})
        return BadgeEarn(
            body["badgeMetaId"], body["earnedBadgeId"], int(body["customerId"]), dict(body.get("customer") or {})
        )

    def points_redemption(self, points: float, **flags: Any) -> Redemption:
        """A redemption to reverse; ``flags`` are the control API's (programReversalEnabled, customerLocked, ...)."""
        body = self._call("POST", "/capillary/points/redemptions", {"points": points, **flags})
        return Redemption(
            body["redemptionId"], int(body["customerId"]), float(body["points"]), dict(body.get("customer") or {})
        )

    def set_revoke_enabled(self, enabled: bool) -> None:
        self._call("PUT", "/capillary/rewards/flags", {"REVOKE_ENABLE": enabled})

    def reward_txn(self, rewards: list[tuple[str, float]]) -> RewardTxn:
        """A reward transaction whose user rewards are in the given (state, points) pairs."""
        body = self._call(
            "POST", "/capillary/rewards/transactions", {"rewards": [{"state": s, "points": p} for s, p in rewards]}
        )
        return RewardTxn(int(body["txnId"]), int(body["customerId"]), list(body.get("userRewards") or []))

    def thanx_job(self, state: str) -> ThanxJob:
        body = self._call("POST", "/thanx/issuance_jobs", {"state": state})
        job = body["issuance_job"]
        return ThanxJob(job["id"], body["merchant_id"], job["state"], job)

    def thanx_advance(self, job_id: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/thanx/issuance_jobs/{job_id}/advance"))

    def thanx_settings(
        self, *, revoke_completes_after_reads: int | None = None, revoke_delay_ms: int | None = None
    ) -> dict[str, Any]:
        body = {"revoke_completes_after_reads": revoke_completes_after_reads, "revoke_delay_ms": revoke_delay_ms}
        return dict(self._call("PUT", "/thanx/settings", {k: v for k, v in body.items() if v is not None}))

    def mandate(self, status: str = "ACTIVE", customer_id: str | None = None) -> Mandate:
        request: dict[str, Any] = {"status": status} | ({"customer_id": customer_id} if customer_id else {})
        body = self._call("POST", "/juspay/mandates", request)
        return Mandate(body["mandate_id"], body["customer_id"], body["mandate_status"])

    def mandate_state(self, mandate_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/juspay/mandates/{mandate_id}"))
