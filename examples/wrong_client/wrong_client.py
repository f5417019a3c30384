"""A deliberately wrong client: each method breaks one documented request rule.

* Thanx revoke without ``Accept-Version`` (THANX-ACCEPT-VERSION);
* Capillary rewards revoke with ``txnId`` as a string (REWARDS-TXNID-INTEGER);
* Juspay check_status sent as JSON instead of a form (JUSPAY-FORM-ENCODED);
* Juspay revoke sent again, blindly, after a timeout (JUSPAY-STATUS-BEFORE-RESEND).
"""

from __future__ import annotations

from typing import Any

import httpx


class WrongClient:
    def __init__(self, base_url: str, credentials: Any) -> None:
        self.creds = credentials
        self.http = httpx.Client(base_url=base_url, timeout=10.0)

    def close(self) -> None:
        self.http.close()

    def revoke_issuance_job(self, job_id: str, merchant_id: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.creds.thanx_access_token}", "X-ClientId": self.creds.thanx_client_id}
        return self.http.post(
            f"/partner/issuance_jobs/{job_id}/revoke", json={"merchant_id": merchant_id}, headers=headers
        )

    def revoke_reward(self, txn_id: int) -> httpx.Response:
        headers = {"Authorization": self.creds.capillary_authorization}
        return self.http.post(
            "/api_gateway/rewards/core/v1/user/reward/revoke", json={"txnId": str(txn_id)}, headers=headers
        )

    def _juspay_headers(self, customer_id: str) -> dict[str, str]:
        return {"x-merchantid": self.creds.juspay_merchant_id, "x-routing-id": customer_id}

    def mandate_status(self, mandate_id: str, customer_id: str) -> httpx.Response:
        return self.http.post(
            f"/mandates/{mandate_id}",
            json={"command": "check_status"},
            headers=self._juspay_headers(customer_id),
            auth=(self.creds.juspay_api_key, ""),
        )

    def revoke_mandate(self, mandate_id: str, customer_id: str, *, timeout: float = 10.0) -> httpx.Response:
        send = {"data": {"command": "revoke"}, "headers": self._juspay_headers(customer_id)}
        try:
            return self.http.post(
                f"/mandates/{mandate_id}", auth=(self.creds.juspay_api_key, ""), timeout=timeout, **send
            )
        except httpx.TimeoutException:
            return self.http.post(f"/mandates/{mandate_id}", auth=(self.creds.juspay_api_key, ""), **send)
