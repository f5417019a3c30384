"""Capillary badges' provisioning: badge earns to revoke, and the earn's internals the vendor never shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from conformance.provisioners.base import ApiProvisioner, Creation, Provisioning, Section
from conformance.provisioners.capillary import identifiers
from conformance.provisioners.control import Controlled
from conformance.provisioners.manifest import Listed
from conformance.provisioners.vendor import Vendored


@dataclass(frozen=True)
class BadgeEarn:
    badge_meta_id: str
    earned_badge_id: str
    customer_id: int
    identifiers: dict[str, str] = field(default_factory=dict)


class BadgesProvisioner(ApiProvisioner):
    """What Capillary badges' scenarios need; every capability is unavailable unless a kind provides it."""

    api = "capillary-badges"

    def badge_earn(self, *, active: bool = True) -> BadgeEarn:
        raise self.unavailable("badge earn" if active else "inactive badge earn")

    def badge_state(self, earn: BadgeEarn) -> dict[str, Any]:
        raise self.unavailable("badge earn internals")


class ControlBadges(Controlled, BadgesProvisioner):
    def badge_earn(self, *, active: bool = True) -> BadgeEarn:
        body = self.control.call("POST", "/capillary/badges/earns", {"active": active})
        return BadgeEarn(
            body["badgeMetaId"], body["earnedBadgeId"], int(body["customerId"]), dict(body.get("customer") or {})
        )

    def badge_state(self, earn: BadgeEarn) -> dict[str, Any]:
        return self.control.read(f"/capillary/badges/earns/{earn.earned_badge_id}")


class VendorBadges(Vendored, BadgesProvisioner):
    def badge_earn(self, *, active: bool = True) -> BadgeEarn:
        if not active:
            raise self.unavailable("inactive badge earn")
        vendor = self.vendor
        meta, customer = vendor.require("badge_meta_id"), vendor.require("customer_id")
        body = {
            "badgeMetaId": meta,
            "customerId": int(customer),
            "requestId": vendor.key("earn"),
            "triggeredBy": {
                "ownerType": vendor.setup.get("badge_owner_type", "Loyalty"),
                "referenceId": vendor.require("badge_reference_id"),
            },
        }
        data = vendor.call("POST", "/api_gateway/v1/badges/customer/earn", "earnBadge", json=body).get("data") or {}
        return BadgeEarn(meta, str(data["earnedBadgeId"]), int(customer), identifiers(vendor.setup))


class EarnEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    badge_meta_id: str
    earned_badge_id: str
    customer_id: int


EARNS = Section("capillary_badge_earns", EarnEntry, "capillary badge earn", id_field="earned_badge_id")


class ManifestBadges(Listed, BadgesProvisioner):
    def badge_earn(self, *, active: bool = True) -> BadgeEarn:
        if not active:
            raise self.unavailable("inactive badge earn")
        e = self.take(EARNS)
        return BadgeEarn(e.badge_meta_id, e.earned_badge_id, e.customer_id)


PROVISIONING = Provisioning(
    BadgesProvisioner,
    kinds=(ControlBadges, VendorBadges, ManifestBadges),
    sections=(EARNS,),
    creations=(
        Creation("badge earn", control_route="/capillary/badges/earns"),
        Creation("badge earn", vendor_operation="earnBadge"),
    ),
)
