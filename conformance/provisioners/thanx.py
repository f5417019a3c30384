"""Thanx's provisioning: issuance jobs in a chosen state, their asynchronous work, campaigns to issue from."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from conformance.errors import PreconditionUnavailable
from conformance.http.client import ApiClient
from conformance.http.exchange import Exchange
from conformance.provisioners.base import ApiProvisioner, Creation, Preflight, Provisioning, Section
from conformance.provisioners.control import Controlled
from conformance.provisioners.manifest import Listed
from conformance.provisioners.vendor import Vendored

THANX_STATES = ("pending", "processing", "completed", "failed", "revoking", "revoked")


@dataclass(frozen=True)
class ThanxJob:
    id: str
    merchant_id: str
    state: str
    job: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ThanxCampaign:
    """What issueCampaignRewards needs: a merchant, one of its campaigns and a rewarded variant."""

    merchant_id: str
    campaign_id: str
    variant_id: str


class ThanxProvisioner(ApiProvisioner):
    """What Thanx's scenarios need; every capability is unavailable unless a kind provides it."""

    api = "thanx"

    def thanx_job(self, state: str, *, success_count: int | None = None, failure_count: int | None = None) -> ThanxJob:
        raise self.unavailable(f"Thanx issuance job in state {state}")

    def thanx_advance(self, job: ThanxJob) -> None:
        raise self.unavailable("advancing Thanx asynchronous work")

    def thanx_campaign(self, merchant_id: str | None = None) -> ThanxCampaign:
        """An active campaign with one rewarded variant, without the vendor's setup endpoints."""
        raise self.unavailable("a Thanx campaign made without the vendor's setup endpoints")


class ControlThanx(Controlled, ThanxProvisioner):
    def thanx_job(self, state: str, *, success_count: int | None = None, failure_count: int | None = None) -> ThanxJob:
        request: dict[str, Any] = {"state": state}
        if success_count is not None:
            request["success_count"] = success_count
        if failure_count is not None:
            request["failure_count"] = failure_count
        body = self.control.call("POST", "/thanx/issuance_jobs", request)
        job = body["issuance_job"]
        return ThanxJob(job["id"], body["merchant_id"], job["state"], job)

    def thanx_campaign(self, merchant_id: str | None = None) -> ThanxCampaign:
        body = self.control.call("POST", "/thanx/campaigns", {"merchant_id": merchant_id})
        return ThanxCampaign(str(body["merchant_id"]), str(body["campaign_id"]), str(body["variant_id"]))

    def thanx_advance(self, job: ThanxJob) -> None:
        self.control.call("POST", f"/thanx/issuance_jobs/{job.id}/advance")


class VendorThanx(Vendored, ThanxProvisioner):
    def thanx_job(self, state: str, *, success_count: int | None = None, failure_count: int | None = None) -> ThanxJob:
        if state not in ("completed", "failed") or success_count is not None or failure_count is not None:
            raise self.unavailable(f"Thanx job in state {state} with chosen counters")
        vendor = self.vendor
        merchant = vendor.require("merchant_id")
        identifiers = [{"type": "email", "value": v.strip()} for v in vendor.require("identifier_emails").split(",")]
        body = {
            "campaign_id": vendor.require("campaign_id"),
            "variant_id": vendor.require("variant_id"),
            "merchant_id": merchant,
            "identifiers": identifiers,
        }
        issued = vendor.call(
            "POST",
            "/partner/campaigns/issue",
            "issueCampaignRewards",
            json=body,
            # Thanx documents the key as a UUID; the run id travels in touched.json instead.
            headers={"X-Idempotency-Key": str(uuid.uuid5(uuid.NAMESPACE_URL, vendor.key("issue")))},
        )
        job_id = str((issued.get("issuance_job") or {})["id"])

        def read() -> Exchange:
            return vendor.client.call(
                "GET",
                f"/partner/issuance_jobs/{job_id}",
                operation="getIssuanceJob",
                phase="setup",
                params={"merchant_id": merchant},
                retry=True,
            )

        final = vendor.poll(
            read,
            lambda e: (e.json() or {}).get("issuance_job", {}).get("state") in ("completed", "failed"),
            f"Thanx job {job_id}",
        )
        job = (final.json() or {})["issuance_job"]
        if job["state"] != state:
            raise PreconditionUnavailable(f"Thanx job in state {state}", f"the issued job ended {job['state']}")
        return ThanxJob(job_id, merchant, job["state"], job)


class JobEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    merchant_id: str


JOBS = Section(
    "thanx_jobs",
    JobEntry,
    "thanx job",
    id_field="id",
    owner_field="merchant_id",
    states=THANX_STATES,
    noun="Thanx jobs",
)


class ManifestThanx(Listed, ThanxProvisioner):
    def thanx_job(self, state: str, *, success_count: int | None = None, failure_count: int | None = None) -> ThanxJob:
        if success_count is not None or failure_count is not None:
            raise self.unavailable(f"Thanx job in state {state} with chosen counters")
        chosen = self.take(JOBS, state)
        return ThanxJob(chosen.id, chosen.merchant_id, state)


def job_state(client: ApiClient, job_id: str, merchant_id: str) -> str | None:
    """A job's state by ``GET /partner/issuance_jobs/{id}?merchant_id=``, sent as a setup call (no check judges it)."""
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


def issue_scope(client: ApiClient, setup: Mapping[str, str]) -> tuple[bool | None, str]:
    """Whether the token carries ``rewards.issue``: a scoped read answers 403 without it."""
    merchant = setup.get("merchant_id", "conformance-doctor")
    exchange = client.call(
        "GET", "/partner/issuance_jobs/conformance-doctor-probe", params={"merchant_id": merchant}, phase="control"
    )
    if exchange.status == 403:
        return False, "HTTP 403: the access token lacks the rewards.issue scope"
    if exchange.status == 401:
        return False, "credentials refused (HTTP 401)"
    return True, f"a scoped read answered HTTP {exchange.status}"


PROVISIONING = Provisioning(
    ThanxProvisioner,
    kinds=(ControlThanx, VendorThanx, ManifestThanx),
    sections=(JOBS,),
    read_state=job_state,
    creations=(
        Creation(
            "issuance job", control_route="/thanx/issuance_jobs", manifest_kind="thanx job", default_state="completed"
        ),
        Creation("issuance job", vendor_operation="issueCampaignRewards"),
        Creation("campaign", vendor_operation="createCampaign"),
    ),
    preflight=(Preflight("scope rewards.issue", issue_scope),),
)
