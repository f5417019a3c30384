"""Capillary points' provisioning: redemptions to reverse, their reversals and the customer's balance."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from conformance.provisioners.base import ApiProvisioner, Creation, Preflight, Provisioning, Section, unreadable
from conformance.provisioners.capillary import identifiers
from conformance.provisioners.control import Controlled
from conformance.provisioners.manifest import Listed
from conformance.provisioners.vendor import Vendored


@dataclass(frozen=True)
class Redemption:
    redemption_id: str
    customer_id: int
    points: float
    identifiers: dict[str, str] = field(default_factory=dict)


class PointsProvisioner(ApiProvisioner):
    """What Capillary points' scenarios need; every capability is unavailable unless a kind provides it."""

    api = "capillary-points"

    def points_redemption(
        self,
        *,
        points: float,
        expired_points: float = 0,
        program_reversal_enabled: bool = True,
        customer_eligible: bool = True,
        customer_locked: bool = False,
        reversal_limit: int | None = None,
    ) -> Redemption:
        """A redemption of ``points``; the flags describe program and customer, defaults as a live org has them."""
        chosen = expired_points or not program_reversal_enabled or not customer_eligible or customer_locked
        if chosen or reversal_limit is not None:
            raise self.unavailable("points redemption with chosen program or customer flags")
        return self.plain_redemption(points)

    def plain_redemption(self, points: float) -> Redemption:
        """A redemption with default program and customer settings; what vendor and manifest targets can make."""
        raise self.unavailable("points redemption")

    def redemption_state(self, redemption: Redemption) -> dict[str, Any]:
        raise self.unavailable("redemption internals (reversals)")

    def customer_points(self, customer_id: int) -> dict[str, float]:
        """A Capillary customer's points balance ({available, expired}); no documented vendor read shows it."""
        raise self.unavailable("customer points balance")


class ControlPoints(Controlled, PointsProvisioner):
    def points_redemption(
        self,
        *,
        points: float,
        expired_points: float = 0,
        program_reversal_enabled: bool = True,
        customer_eligible: bool = True,
        customer_locked: bool = False,
        reversal_limit: int | None = None,
    ) -> Redemption:
        body = self.control.call(
            "POST",
            "/capillary/points/redemptions",
            {
                "points": points,
                "expiredPoints": expired_points,
                "programReversalEnabled": program_reversal_enabled,
                "customerEligible": customer_eligible,
                "customerLocked": customer_locked,
                "reversalLimit": reversal_limit,
            },
        )
        return Redemption(
            body["redemptionId"], int(body["customerId"]), float(body["points"]), dict(body.get("customer") or {})
        )

    def redemption_state(self, redemption: Redemption) -> dict[str, Any]:
        return self.control.read(f"/capillary/points/redemptions/{redemption.redemption_id}")

    def customer_points(self, customer_id: int) -> dict[str, float]:
        body = self.control.read(f"/capillary/customers/{customer_id}")
        return {key: float(body["points"][key]) for key in ("available", "expired")}


class VendorPoints(Vendored, PointsProvisioner):
    def plain_redemption(self, points: float) -> Redemption:
        vendor = self.vendor
        entry = {
            "points_redeemed": points,
            "customer": {"mobile": vendor.require("customer_mobile")},
            "transaction_number": vendor.short_key("txn"),
            "external_reference_number": vendor.key("redeem"),
            "validation_code": vendor.setup.get("validation_code", ""),
        }
        params = {"skip_validation": "true", "program_id": vendor.require("program_id"), "format": "json"}
        body = vendor.call(
            "POST", "/v1.1/points/redeem", "redeemPoints", params=params, json={"root": {"redeem": [entry]}}
        )
        redemption_id = str(body["response"]["responses"]["points"]["redemption_id"])
        customer_id = int(vendor.setup.get("customer_id", "0"))
        return Redemption(redemption_id, customer_id, points, identifiers(vendor.setup))


class RedemptionEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    redemption_id: str
    customer_id: int
    points: float
    identifiers: dict[str, str] = Field(default_factory=dict)


REDEMPTIONS = Section(
    "capillary_points_redemptions", RedemptionEntry, "capillary points redemption", id_field="redemption_id"
)


class ManifestPoints(Listed, PointsProvisioner):
    def plain_redemption(self, points: float) -> Redemption:
        e = self.take(REDEMPTIONS, where=lambda entry: entry.points >= points)
        return Redemption(e.redemption_id, e.customer_id, e.points, e.identifiers)


PROVISIONING = Provisioning(
    PointsProvisioner,
    kinds=(ControlPoints, VendorPoints, ManifestPoints),
    sections=(REDEMPTIONS,),
    creations=(
        Creation("points redemption", control_route="/capillary/points/redemptions"),
        Creation("points redemption", vendor_operation="redeemPoints"),
    ),
    preflight=(
        Preflight("points reversal and API v2", unreadable("Capillary documents no read of these backend flags")),
    ),
)
