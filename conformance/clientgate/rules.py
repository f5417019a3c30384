"""The request rules the gate judges: each names a catalogue rule and says how a request breaks it.

The rule's claim, quote and source come from the catalogue (``specs/rules/``); this table only says
which requests a rule applies to and what, in a request, breaks it. Where the documentation is
ambiguous (a conflict or a gap in the catalogue), no rule here demands one reading.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from conformance.clientgate.history import TenantHistory
from conformance.clientgate.operations import Operation, juspay_command
from conformance.clientgate.traffic import Seen

Check = Callable[[Seen, Operation, TenantHistory], str | None]
CAPILLARY_IDENTIFIERS = ("email", "mobile", "externalId", "cardNumber")


@dataclass(frozen=True)
class ClientRule:
    rule_id: str
    api: str
    operations: tuple[str, ...]  # empty: every call of the API
    documented: str
    check: Check

    def applies_to(self, operation: Operation) -> bool:
        return operation.api == self.api and (not self.operations or operation.name in self.operations)


def _header_equals(name: str, expected: str) -> Check:
    def check(seen: Seen, op: Operation, history: TenantHistory) -> str | None:
        value = seen.header(name)
        if value == expected:
            return None
        return f"no {name} header" if value is None else f"{name}: {value}"

    return check


def _header_present(name: str) -> Check:
    def check(seen: Seen, op: Operation, history: TenantHistory) -> str | None:
        return None if (seen.header(name) or "").strip() else f"no {name} header"

    return check


def _bearer(seen: Seen, op: Operation, history: TenantHistory) -> str | None:
    value = seen.header("authorization")
    if value is not None and value.lower().startswith("bearer ") and value[7:].strip():
        return None
    return "no Authorization header" if value is None else f"Authorization scheme {value.split(' ')[0]!r}"


def _json_body(seen: Seen, op: Operation, history: TenantHistory) -> str | None:
    if seen.content_type == "application/json" and isinstance(seen.json(), dict):
        return None
    return f"Content-Type {seen.content_type or '(none)'} with body {seen.body[:60].decode('utf-8', 'replace')!r}"


def _json_field(*path: str) -> Check:
    def check(seen: Seen, op: Operation, history: TenantHistory) -> str | None:
        value: object = seen.json()
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        if value is None or value == "":
            return f"a body without {'.'.join(path)}"
        return None

    return check


def _points_redemption(seen: Seen, op: Operation, history: TenantHistory) -> str | None:
    # The page's own curl example names the redemption by externalReferenceNumber instead.
    body = seen.json()
    if isinstance(body, dict) and (body.get("redemptionId") or body.get("externalReferenceNumber")):
        return None
    return "a body without redemptionId (or externalReferenceNumber)"


def _query_field(name: str) -> Check:
    def check(seen: Seen, op: Operation, history: TenantHistory) -> str | None:
        return None if seen.query_params().get(name) else f"a query without {name}"

    return check


def _capillary_auth(seen: Seen, op: Operation, history: TenantHistory) -> str | None:
    value = seen.header("authorization") or ""
    if value.lower().startswith("basic ") or (seen.header("x-cap-api-oauth-token") or "").strip():
        return None
    return (
        f"Authorization scheme {value.split(' ')[0]!r}" if value else "neither Basic Authorization nor an OAuth token"
    )


def _identifier_value(seen: Seen, op: Operation, history: TenantHistory) -> str | None:
    value = seen.header("x-cap-customer-identifier")
    return None if value is None or value in CAPILLARY_IDENTIFIERS else f"X-CAP-CUSTOMER-IDENTIFIER: {value}"


def _txn_integer(seen: Seen, op: Operation, history: TenantHistory) -> str | None:
    body = seen.json()
    if not isinstance(body, dict) or "txnId" not in body or body["txnId"] is None:
        return None  # a missing txnId is REWARDS-TXNID-REQUIRED-400's breach, not this one's
    value = body["txnId"]
    if isinstance(value, int) and not isinstance(value, bool):
        return None
    return f"txnId {value!r} ({type(value).__name__})"


def _juspay_basic(seen: Seen, op: Operation, history: TenantHistory) -> str | None:
    import base64
    import binascii

    value = seen.header("authorization") or ""
    if not value.lower().startswith("basic "):
        return f"Authorization scheme {value.split(' ')[0]!r}" if value else "no Authorization header"
    try:
        user, colon, password = base64.b64decode(value[6:].strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return "a Basic credential that is not base64 of user:password"
    if not colon or not user:
        return "a Basic credential without the key:password form"
    return None if password == "" else "a Basic credential with a non-empty password"


def _form(seen: Seen, op: Operation, history: TenantHistory) -> str | None:
    if seen.content_type == "application/x-www-form-urlencoded" and seen.form() is not None:
        return None
    return f"Content-Type {seen.content_type or '(none)'} with body {seen.body[:60].decode('utf-8', 'replace')!r}"


def _command(seen: Seen, op: Operation, history: TenantHistory) -> str | None:
    return None if juspay_command(seen) else "a body without command"


def _routing_consistent(seen: Seen, op: Operation, history: TenantHistory) -> str | None:
    routing = seen.header("x-routing-id")
    if not routing or op.resource is None:
        return None
    first = history.routing_by_mandate.get(op.resource)
    if first is not None and first != routing:
        return f"x-routing-id {routing} for mandate {op.resource}, which earlier calls sent as {first}"
    customer = history.customer_of_mandate.get(op.resource)
    earlier = history.routing_by_customer.get(customer) if customer else None
    if earlier is not None and earlier != routing:
        return f"x-routing-id {routing} for customer {customer}, whom earlier calls sent as {earlier}"
    return None


def _implicit_value(seen: Seen, op: Operation, history: TenantHistory) -> str | None:
    fields = seen.form() or {}
    value = fields.get("should_do_implicit_revoke")
    return None if value is None or value.lower() == "true" else f"should_do_implicit_revoke={value}"


def _no_blind_resend(seen: Seen, op: Operation, history: TenantHistory) -> str | None:
    lost_at = history.lost_revokes.get(op.resource or "")
    if lost_at is not None and lost_at < seen.started and juspay_command(seen) == "revoke":
        return blind_resend(op.resource or "")
    return None


def blind_resend(mandate: str) -> str:
    return f"a second revoke of mandate {mandate} after the first revoke's answer never arrived, with no check_status in between"


CLIENT_RULES: tuple[ClientRule, ...] = (
    ClientRule("THANX-ACCEPT-VERSION", "thanx", (), "Accept-Version: v4.0", _header_equals("Accept-Version", "v4.0")),
    ClientRule("THANX-CLIENTID-SENT", "thanx", (), "an X-ClientId header", _header_present("X-ClientId")),
    ClientRule("THANX-BEARER-AUTH", "thanx", (), "Authorization: Bearer {access_token}", _bearer),
    ClientRule("THANX-CONTENT-TYPE-JSON", "thanx", ("revokeIssuanceJob",), "a JSON object body", _json_body),
    ClientRule("THANX-MERCHANT-REQUIRED", "thanx", ("revokeIssuanceJob",), "merchant_id", _json_field("merchant_id")),
    ClientRule("THANX-GET-MERCHANT-REQUIRED", "thanx", ("getIssuanceJob",), "merchant_id", _query_field("merchant_id")),
    ClientRule("BADGE-AUTH-REQUIRED", "capillary-badges", (), "Basic or OAuth", _capillary_auth),
    ClientRule(
        "BADGE-BODY-BADGEMETAID-REQUIRED",
        "capillary-badges",
        ("revokeEarn",),
        "badgeMetaId",
        _json_field("badgeMetaId"),
    ),
    ClientRule(
        "BADGE-BODY-CUSTOMERID-REQUIRED", "capillary-badges", ("revokeEarn",), "customerId", _json_field("customerId")
    ),
    ClientRule(
        "BADGE-BODY-EARNEDBADGEID-REQUIRED",
        "capillary-badges",
        ("revokeEarn",),
        "earnedBadgeId",
        _json_field("earnedBadgeId"),
    ),
    ClientRule(
        "BADGE-IDENTIFIER-SUPPORTED-VALUES",
        "capillary-badges",
        ("revokeEarn",),
        "X-CAP-CUSTOMER-IDENTIFIER one of " + ", ".join(CAPILLARY_IDENTIFIERS),
        _identifier_value,
    ),
    ClientRule("POINTS-AUTH-REQUIRED", "capillary-points", (), "Basic or OAuth", _capillary_auth),
    ClientRule(
        "POINTS-BODY-REDEMPTIONID-REQUIRED", "capillary-points", ("reversePoints",), "redemptionId", _points_redemption
    ),
    ClientRule(
        "POINTS-BODY-IDENTIFIER-REQUIRED",
        "capillary-points",
        ("reversePoints",),
        "identifier",
        _json_field("identifier"),
    ),
    ClientRule(
        "POINTS-BODY-IDENTIFIER-TYPE-REQUIRED",
        "capillary-points",
        ("reversePoints",),
        "identifier.type",
        _json_field("identifier", "type"),
    ),
    ClientRule(
        "POINTS-BODY-IDENTIFIER-VALUE-REQUIRED",
        "capillary-points",
        ("reversePoints",),
        "identifier.value",
        _json_field("identifier", "value"),
    ),
    ClientRule("REWARDS-AUTH-REQUIRED", "capillary-rewards", (), "Basic or OAuth", _capillary_auth),
    ClientRule("REWARDS-TXNID-REQUIRED-400", "capillary-rewards", ("revokeUserReward",), "txnId", _json_field("txnId")),
    ClientRule(
        "REWARDS-TXNID-INTEGER", "capillary-rewards", ("revokeUserReward",), "txnId a JSON integer", _txn_integer
    ),
    ClientRule("JUSPAY-BASIC-AUTH", "juspay", (), "Basic base64(<API key>:) with an empty password", _juspay_basic),
    ClientRule("JUSPAY-MERCHANTID-REQUIRED", "juspay", (), "an x-merchantid header", _header_present("x-merchantid")),
    ClientRule("JUSPAY-FORM-ENCODED", "juspay", (), "an application/x-www-form-urlencoded form body", _form),
    ClientRule("JUSPAY-COMMAND-REQUIRED", "juspay", (), "a command field", _command),
    ClientRule("JUSPAY-ROUTING-ID-SENT", "juspay", (), "an x-routing-id header", _header_present("x-routing-id")),
    ClientRule("JUSPAY-ROUTING-ID-CONSISTENT", "juspay", (), "one x-routing-id per customer", _routing_consistent),
    ClientRule("JUSPAY-IMPLICIT-REVOKE-VALUE", "juspay", (), "should_do_implicit_revoke=True", _implicit_value),
    ClientRule(
        "JUSPAY-STATUS-BEFORE-RESEND", "juspay", (), "command=check_status before a second revoke", _no_blind_resend
    ),
)

JUDGED_RULES: tuple[str, ...] = tuple(rule.rule_id for rule in CLIENT_RULES)
