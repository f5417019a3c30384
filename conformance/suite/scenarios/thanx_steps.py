"""Steps shared by the Thanx scenarios: reading a job back through the vendor's own GET."""

from __future__ import annotations

from typing import Any

from conformance.context import ScenarioContext, response_field
from conformance.http.exchange import Exchange
from conformance.provisioners.base import ThanxJob

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
