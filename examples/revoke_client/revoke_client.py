"""A small typed client for the five revoke operations, written from the vendor pages alone.

It is the kind of library the client gate is for: it knows nothing of the conformance project, and
its tests (``tests/``) run it against the judged sandbox with one fixture argument.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class VendorCredentials:
    capillary_authorization: str  # "Basic base64(user:md5(password))"
    thanx_access_token: str
    thanx_client_id: str
    juspay_api_key: str
    juspay_merchant_id: str


class RevokeClient:
    def __init__(self, base_url: str, credentials: VendorCredentials, *, timeout: float = 10.0) -> None:
        self.credentials = credentials
        self.http = httpx.Client(base_url=base_url, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request; a 429 was not processed, so it is sent again once after its Retry-After."""
        response = self.http.request(method, path, **kwargs)
        if response.status_code == 429:
            time.sleep(float(response.headers.get("Retry-After", "1")))
            response = self.http.request(method, path, **kwargs)
        return response

    # --- Capillary -------------------------------------------------------------------------------
    def _capillary_headers(self) -> dict[str, str]:
        return {"Authorization": self.credentials.capillary_authorization, "Accept": "application/json"}

    def revoke_badge(
        self, badge_meta_id: str, earned_badge_id: str, customer: str | int, identifier: str | None = None
    ) -> dict[str, Any]:
        headers = self._capillary_headers() | ({"X-CAP-CUSTOMER-IDENTIFIER": identifier} if identifier else {})
        body = {"badgeMetaId": badge_meta_id, "customerId": customer, "earnedBadgeId": earned_badge_id}
        return dict(self._send("POST", "/api_gateway/v1/badges/customer/revokeEarn", json=body, headers=headers).json())

    def reverse_points(
        self, redemption_id: str, identifier_type: str, identifier_value: str, points: float | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "redemptionId": redemption_id,
            "identifier": {"type": identifier_type, "value": identifier_value},
        }
        if points is not None:
            body["pointsToBeReversed"] = points
        return dict(self._send("POST", "/v2/points/reverse", json=body, headers=self._capillary_headers()).json())

    def revoke_reward(self, txn_id: int, *, attempts: int = 3) -> dict[str, Any]:
        """Always HTTP 200: the outcome is status.code; 1018 leaves the state unchanged, so it is retried."""
        body: dict[str, Any] = {}
        for _ in range(attempts):
            body = self._send(
                "POST",
                "/api_gateway/rewards/core/v1/user/reward/revoke",
                json={"txnId": txn_id},
                headers=self._capillary_headers(),
            ).json()
            if body["status"]["code"] != 1018:
                break
        return body

    # --- Thanx -----------------------------------------------------------------------------------
    def _thanx_headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.credentials.thanx_access_token}",
            "X-ClientId": self.credentials.thanx_client_id,
            "Accept-Version": "v4.0",
        }

    def revoke_issuance_job(self, job_id: str, merchant_id: str, *, max_polls: int = 20) -> dict[str, Any]:
        """Revoke (202, revoking), then poll the job until it is revoked."""
        response = self._send(
            "POST",
            f"/partner/issuance_jobs/{job_id}/revoke",
            json={"merchant_id": merchant_id},
            headers=self._thanx_headers(),
        )
        if response.status_code != 202:
            return {"status": response.status_code, **response.json()}
        job = dict(response.json()["issuance_job"])
        for _ in range(max_polls):
            if job["state"] == "revoked":
                break
            polled = self._send(
                "GET",
                f"/partner/issuance_jobs/{job_id}",
                params={"merchant_id": merchant_id},
                headers=self._thanx_headers(),
            )
            job = dict(polled.json()["issuance_job"])
        return {"status": 202, "issuance_job": job}

    # --- Juspay ----------------------------------------------------------------------------------
    def _mandate(self, mandate_id: str, customer_id: str, fields: dict[str, str], timeout: float | None) -> Any:
        headers = {"x-merchantid": self.credentials.juspay_merchant_id, "x-routing-id": customer_id}
        return self.http.post(
            f"/mandates/{mandate_id}",
            data=fields,
            headers=headers,
            auth=(self.credentials.juspay_api_key, ""),
            timeout=timeout or self.http.timeout,
        )

    def mandate_status(self, mandate_id: str, customer_id: str) -> dict[str, Any]:
        return dict(self._mandate(mandate_id, customer_id, {"command": "check_status"}, None).json())

    def revoke_mandate(
        self, mandate_id: str, customer_id: str, *, implicit: bool = False, timeout: float | None = None
    ) -> dict[str, Any]:
        """A revoke whose answer is lost may have happened: read the status instead of sending it again."""
        fields = {"command": "revoke"} | ({"should_do_implicit_revoke": "True"} if implicit else {})
        try:
            return dict(self._mandate(mandate_id, customer_id, fields, timeout).json())
        except httpx.TimeoutException:
            return self.mandate_status(mandate_id, customer_id)
