"""Capillary Points v1.1 setup and read-back: redeem points, list a customer's redemptions.

Envelope ``{"response": {"status": {...}, ...}}``. Gap decisions: failures are HTTP 400; redeem item
errors use item codes 801 (invalid points) and 8015 (customer not found) under status code 500; a
repeated ``external_reference_number`` replays the original redemption; ``item_status`` sits beside
``points`` under ``responses``; one redemption per request. The listing puts points redemptions,
each with its reversals, in ``response.customer.points_redemptions`` (coupons are not modelled:
``coupon_redemptions`` is always empty).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from conformance.sandbox.auth import SandboxCredentials, capillary_gate
from conformance.sandbox.capillary import Customer, find_customer
from conformance.sandbox.capillary_points import API, CREDENTIALS, PointsStore, Redemption, create_redemption
from conformance.sandbox.core import SandboxState
from conformance.sandbox.decide import point
from conformance.sandbox.web import BadBody, Call, fault_gate, json_response, number, parse_json_object, route, to_milli

V11_IDENTIFIERS = ("mobile", "email", "external_id", "id")


def v11_status(success: bool, code: int, message: str) -> dict[str, object]:
    return {"success": success, "code": code, "message": message}


def v11_error(code: int, message: str, status: int = 400) -> Response:
    return json_response({"response": {"status": v11_status(False, code, message)}}, status)


def v11_customer(call: Call, source: dict[str, Any]) -> Customer | None:
    for kind in V11_IDENTIFIERS:
        value = source.get(kind)
        if value not in (None, ""):
            return find_customer(call.tenant, kind, value)
    return None


def redeem(call: Call) -> Response:
    try:
        payload = parse_json_object(call.body)
        items = payload.get("root", {}).get("redeem") if isinstance(payload.get("root"), dict) else None
    except BadBody as exc:
        return v11_error(400, str(exc))
    if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
        return v11_error(400, "root.redeem must be a list holding exactly one redemption")
    item: dict[str, Any] = items[0]
    raw_customer = item.get("customer")
    customer_spec: dict[str, Any] = raw_customer if isinstance(raw_customer, dict) else {}
    echo = {kind: customer_spec.get(kind, "") for kind in ("mobile", "email", "external_id")}
    reference = item.get("external_reference_number")
    with call.tenant.lock:
        store = call.tenant.store(PointsStore)
        customer = v11_customer(call, customer_spec)
        points = _v11_points(item.get("points_redeemed"))
        if customer is None:
            return _redeem_failure(echo, 8015, "Customer not found")
        if points is None:
            return _redeem_failure(
                echo, 801, "Invalid points: points_redeemed must be a positive number with at most 3 decimals"
            )
        existing = store.redemptions.get(store.by_reference.get(str(reference), "")) if reference else None
        redemption = existing or create_redemption(
            call.tenant,
            customer,
            points,
            0,
            transaction_number=None if item.get("transaction_number") is None else str(item["transaction_number"]),
            external_reference_number=None if reference is None else str(reference),
        )
    result = {
        **echo,
        "points_redeemed": number(redemption.points),
        "transaction_number": redemption.transaction_number,
        "external_reference_number": redemption.external_reference_number,
        "redemption_id": redemption.redemption_id,
    }
    item_status = {"success": True, "code": 800, "message": "Points redeemed successfully"}
    status = v11_status(True, 200, "SUCCESS")
    return json_response({"response": {"status": status, "responses": {"points": result, "item_status": item_status}}})


def _v11_points(raw: object) -> int | None:
    if isinstance(raw, bool) or not isinstance(raw, int | Decimal | str):
        return None
    try:
        value = Decimal(str(raw))
    except ArithmeticError:
        return None
    exponent = value.normalize().as_tuple().exponent if value.is_finite() else 0
    if not value.is_finite() or value <= 0 or (isinstance(exponent, int) and exponent < -3):
        return None
    return to_milli(value)


def _redeem_failure(echo: dict[str, Any], code: int, message: str) -> Response:
    status = v11_status(False, 500, "All requests have failed due to errors")
    item_status = {"success": False, "code": code, "message": message}
    return json_response(
        {"response": {"status": status, "responses": {"points": echo, "item_status": item_status}}}, 400
    )


@point("points.reversed-in-listing")
def reversed_in_listing(redemption: Redemption) -> int:
    """Every point reversed, whether it went back to the available or to the expired balance."""
    return redemption.reversed_total


@point("points.listing", gap="POINTS-GAP-READBACK-SHAPE")
def redemption_listing(redemption: Redemption, reversed_points: int) -> dict[str, object]:
    return {
        "redemption_id": redemption.redemption_id,
        "points_redeemed": number(redemption.points),
        "transaction_number": redemption.transaction_number,
        "external_reference_number": redemption.external_reference_number,
        "redeemed_time": redemption.redeemed_at,
        "points_reversed": number(reversed_points),
        "points_remaining": number(redemption.remaining),
        "reversals": [
            {
                "reversal_id": reversal.reversal_id,
                "points_reversed": number(reversal.points),
                "available": number(reversal.available),
                "expired": number(reversal.expired),
                "reversed_time": reversal.reversed_at,
            }
            for reversal in redemption.reversals
        ],
    }


@point("points.listing-placement", gap="POINTS-GAP-READBACK-SHAPE")
def placed(points: list[dict[str, object]], with_points: bool, with_coupons: bool) -> dict[str, object]:
    """Points redemptions in points_redemptions, coupons (not modelled) in coupon_redemptions, as asked by type."""
    return {
        **({"points_redemptions": points} if with_points else {}),
        **({"coupon_redemptions": []} if with_coupons else {}),
    }


def redemptions(call: Call) -> Response:
    kind = call.query.get("type")
    if kind is not None and kind.lower() not in ("points", "coupons"):
        return v11_error(400, "type must be points or coupons")
    with call.tenant.lock:
        customer = v11_customer(call, dict(call.query))
        if customer is None:
            return v11_error(8015, "Customer not found")
        points = [
            redemption_listing(call.state, redemption, reversed_in_listing(call.state, redemption))
            for redemption in call.tenant.store(PointsStore).redemptions.values()
            if redemption.customer_id == customer.customer_id
        ]
    details: dict[str, object] = {
        "mobile": customer.mobile,
        "email": customer.email,
        "external_id": customer.external_id,
    }
    details.update(
        placed(call.state, points, kind is None or kind.lower() == "points", kind is None or kind.lower() == "coupons")
    )
    status = v11_status(True, 200, "SUCCESS")
    return json_response({"response": {"status": status, "customer": details}})


def routes(state: SandboxState, creds: SandboxCredentials) -> list[Route]:
    def shape(status: int, message: str) -> dict[str, Any]:
        return {"response": {"status": v11_status(False, status, message)}}

    refuse = lambda call: json_response(shape(401, "Unauthorized"), 401)  # noqa: E731
    gates = (capillary_gate(creds, refuse, CREDENTIALS), fault_gate(API, shape))
    return [
        route(state, "/v1.1/points/redeem", redeem, methods=["POST"], gates=gates),
        route(state, "/v1.1/customer/redemptions", redemptions, methods=["GET"], gates=gates),
    ]
