"""Steps shared by the Juspay scenarios: one mandate call, form-encoded, with the customer's routing id."""

from __future__ import annotations

from collections.abc import Mapping

from conformance.context import ScenarioContext
from conformance.http.auth import AuthVariant
from conformance.http.exchange import Exchange

API = "juspay"


def command(
    ctx: ScenarioContext,
    mandate_id: str,
    customer_id: str,
    fields: Mapping[str, str],
    *,
    phase: str = "test",
    auth: AuthVariant = "valid",
    retry: bool = False,
) -> Exchange:
    """``POST /mandates/{mandate_id}`` with ``fields`` as the form body and the customer as x-routing-id."""
    return ctx.client(API).call(
        "POST",
        f"/mandates/{mandate_id}",
        operation="mandateCommand",
        phase=phase,
        data=fields,
        headers={"x-routing-id": customer_id},
        auth=auth,
        retry=retry,
    )
