"""Steps shared by the Thanx scenarios: reading a job back through the vendor's own GET."""

from __future__ import annotations

from typing import Any

from conformance.context import ScenarioContext, response_field
from conformance.http.exchange import Exchange
from conformance.provisioners.thanx import ThanxJob, ThanxProvisioner

API = "thanx"


def read_job(ctx: ScenarioContext, job: ThanxJob) -> Exchange:
    return ctx.client(API).call(
        "GET",
        f"/partner/issuance_jobs/{job.id}",
        operation="getIssuanceJob",
        phase="readback",
        params={"merchant_id": job.merchant_id},
        retry=True,
    )


def state_of(exchange: Exchange) -> Any:
    return response_field(exchange, "issuance_job", "state")


def control_campaign(ctx: ScenarioContext) -> tuple[str, str, str] | None:
    """(merchant, campaign, variant) from the control API when the run provisions through it, else None.

    A target tested with ``--provisioner control`` needs no vendor setup endpoint: the control API makes
    the campaign the vendor's merchant → reward template → campaign path would.
    """
    if ctx.settings.provisioner_for(API) != "control":
        return None
    made = ctx.provisioner(ThanxProvisioner).thanx_campaign()
    return str(made.merchant_id), str(made.campaign_id), str(made.variant_id)
