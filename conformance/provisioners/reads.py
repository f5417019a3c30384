"""Documented reads of a pre-provisioned resource's current state, used before an id is handed out.

Juspay: ``POST /mandates/{id}`` with ``command=check_status`` (there is no GET). Thanx:
``GET /partner/issuance_jobs/{id}?merchant_id=``. Both are sent as setup calls, so no check judges them.
"""

from __future__ import annotations

from collections.abc import Callable

from conformance.http.client import ApiClient


def mandate_status(client: ApiClient, mandate_id: str, customer_id: str) -> str | None:
    exchange = client.call(
        "POST",
        f"/mandates/{mandate_id}",
        data={"command": "check_status"},
        headers={"x-routing-id": customer_id},
        operation="mandateCommand",
        phase="setup",
        retry=True,
    )
    body = exchange.json()
    return str(body["mandate_status"]) if isinstance(body, dict) and "mandate_status" in body else None


def job_state(client: ApiClient, job_id: str, merchant_id: str) -> str | None:
    exchange = client.call(
        "GET",
        f"/partner/issuance_jobs/{job_id}",
        params={"merchant_id": merchant_id},
        operation="getIssuanceJob",
        phase="setup",
        retry=True,
    )
    body = exchange.json()
    job = body.get("issuance_job") if isinstance(body, dict) else None
    return str(job["state"]) if isinstance(job, dict) and "state" in job else None


def current_state(client: ApiClient, api: str, resource_id: str, owner: str) -> str | None:
    """The state ``api`` reports for ``resource_id`` (owner: the customer or merchant it belongs to)."""
    if api == "juspay":
        return mandate_status(client, resource_id, owner)
    return job_state(client, resource_id, owner)


def state_reader(clients: Callable[[str], ApiClient]) -> Callable[[str, str, str], str | None]:
    def read(api: str, resource_id: str, owner: str) -> str | None:
        return current_state(clients(api), api, resource_id, owner)

    return read
