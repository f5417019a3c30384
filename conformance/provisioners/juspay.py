"""Juspay's provisioning: mandates in a chosen status, and what the target saw of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from conformance.http.client import ApiClient
from conformance.provisioners.base import ApiProvisioner, Creation, Provisioning, Section
from conformance.provisioners.control import Controlled
from conformance.provisioners.manifest import Listed

MANDATE_STATES = ("CREATED", "ACTIVE", "PAUSED", "REVOKED", "FAILURE", "EXPIRED", "PENDING")


@dataclass(frozen=True)
class Mandate:
    mandate_id: str
    customer_id: str
    status: str


class JuspayProvisioner(ApiProvisioner):
    """What Juspay's scenarios need. A mandate needs a customer's authentication, so no vendor call makes one:
    a live run takes ACTIVE mandates from a manifest."""

    api = "juspay"

    def mandate(self, status: str) -> Mandate:
        raise self.unavailable(f"Juspay mandate in status {status}")

    def mandate_state(self, mandate: Mandate) -> dict[str, Any]:
        raise self.unavailable("mandate internals (routing ids seen)")


class ControlJuspay(Controlled, JuspayProvisioner):
    def mandate(self, status: str) -> Mandate:
        body = self.control.call("POST", "/juspay/mandates", {"status": status})
        return Mandate(body["mandate_id"], body["customer_id"], body["mandate_status"])

    def mandate_state(self, mandate: Mandate) -> dict[str, Any]:
        return self.control.read(f"/juspay/mandates/{mandate.mandate_id}")


class MandateEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mandate_id: str
    customer_id: str


MANDATES = Section(
    "juspay_mandates",
    MandateEntry,
    "juspay mandate",
    id_field="mandate_id",
    owner_field="customer_id",
    states=MANDATE_STATES,
    state_word="status",
    noun="mandates",
)


class ManifestJuspay(Listed, JuspayProvisioner):
    def mandate(self, status: str) -> Mandate:
        chosen = self.take(MANDATES, status)
        return Mandate(chosen.mandate_id, chosen.customer_id, status)


def mandate_status(client: ApiClient, mandate_id: str, customer_id: str) -> str | None:
    """A mandate's status by ``POST /mandates/{id}`` with ``command=check_status`` (there is no GET), sent as a
    setup call, so no check judges it."""
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


PROVISIONING = Provisioning(
    JuspayProvisioner,
    kinds=(ControlJuspay, ManifestJuspay),
    sections=(MANDATES,),
    read_state=mandate_status,
    creations=(
        Creation(
            "mandate",
            control_route="/juspay/mandates",
            manifest_kind="juspay mandate",
            state_field="status",
            default_state="ACTIVE",
        ),
    ),
)
