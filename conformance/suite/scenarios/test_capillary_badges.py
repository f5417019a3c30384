"""Capillary badges: revoke an earned badge (200 + isActive false; 814 when no active earn is present)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.context import ScenarioContext, UnreadableShape, find_entry, response_field
from conformance.errors import PreconditionUnavailable
from conformance.http.auth import AuthVariant
from conformance.http.exchange import Exchange
from conformance.provisioners.capillary_badges import BadgeEarn, BadgesProvisioner
from conformance.suite.readbacks import Judgements
from conformance.verdicts import expect_equal, observe, verdict

pytestmark = pytest.mark.conformance
API = "capillary-badges"
REVOKE_EARN = "/api_gateway/v1/badges/customer/revokeEarn"
UNKNOWN_EARNED_BADGE_ID = "000000000000000000000000"


def revoke(
    ctx: ScenarioContext,
    earn: BadgeEarn,
    *,
    identifier: str | None = None,
    omit: str | None = None,
    auth: AuthVariant = "valid",
    **overrides: Any,
) -> Exchange:
    """revokeEarn for ``earn``; with ``identifier`` the customer is named by that identifier and the header."""
    if identifier is not None and identifier not in earn.identifiers:
        raise PreconditionUnavailable(f"the customer's {identifier}", "the provisioner did not report it")
    customer: str | int = earn.customer_id if identifier is None else earn.identifiers[identifier]
    body = {
        "badgeMetaId": earn.badge_meta_id,
        "customerId": customer,
        "earnedBadgeId": earn.earned_badge_id,
        **overrides,
    }
    if omit is not None:
        del body[omit]
    headers = None if identifier is None else {"X-CAP-CUSTOMER-IDENTIFIER": identifier}
    return ctx.client(API).call("POST", REVOKE_EARN, operation="revokeEarn", json=body, headers=headers, auth=auth)


def read_badges(ctx: ScenarioContext, earn: BadgeEarn) -> Exchange:
    return ctx.client(API).call(
        "GET",
        f"/api_gateway/v1/badges/customer/{earn.customer_id}",
        operation="getCustomerBadges",
        phase="readback",
        params={"badgeType": "EARNED"},
        retry=True,
    )


def listed_active(readback: Exchange, earn: BadgeEarn) -> bool | None:
    """isActive of the earn in the customer's earned badges; None when it is not listed at all.

    The listing's shape is undocumented (BADGE-GAP-READBACK-SHAPE): the earn is searched anywhere in the
    answer by its earnedBadgeId; an entry without a boolean isActive (or active) cannot tell.
    """
    entry = find_entry(readback.json(), "earnedBadgeId", earn.earned_badge_id)
    if entry is None:
        return None
    for name in ("isActive", "active"):
        flag = entry.get(name)
        if isinstance(flag, bool):
            return flag
    raise UnreadableShape(f"the listed earn has no boolean isActive: {sorted(entry)}")


def error_codes(exchange: Exchange) -> list[Any]:
    errors = response_field(exchange, "errors")
    return [item.get("code") for item in errors if isinstance(item, dict)] if isinstance(errors, list) else []


def expect_numeric_customer_id(response: Exchange, earn: BadgeEarn) -> None:
    customer_id = response_field(response, "data", "customerId")
    verdict(
        "BADGE-RESPONSE-CUSTOMERID-NUMERIC",
        ok=isinstance(customer_id, int) and not isinstance(customer_id, bool) and customer_id == earn.customer_id,
        received=customer_id,
        documented=f"the numeric Capillary customer ID {earn.customer_id}",
        exchange=response,
    )


def expect_still_active(rule: str, ctx: ScenarioContext, earn: BadgeEarn, *, active: bool = True) -> bool:
    """The customer's earned badges show ``earn`` active (or, with ``active`` False, no longer active).

    Where the listing cannot tell (the earn is not listed while it should be active, or listed without an
    isActive flag) the rule is skipped with the reason and a question recorded, never failed.
    """
    after = read_badges(ctx, earn)
    try:
        seen = listed_active(after, earn)
    except UnreadableShape as exc:
        ctx.cannot_tell(rule, "BADGE-GAP-READBACK-SHAPE", received=after.json(), note=str(exc))
        return False
    if active and seen is None:
        note = "the customer's earned badges do not list the earn at all, so they cannot show it active"
        ctx.cannot_tell(rule, "BADGE-GAP-READBACK-SHAPE", received=after.json(), note=note)
        return False
    verdict(
        rule,
        ok=seen is True if active else seen is not True,
        received={"isActive": seen},
        documented="the earn still active" if active else "the earn no longer active (isActive false or not listed)",
        exchange=after,
    )
    return True


@pytest.mark.rules(
    "BADGE-REVOKE-INACTIVE",
    "BADGE-REVOKE-ECHO",
    "BADGE-ENVELOPE",
    "BADGE-IDENTIFIER-DEFAULT-ID",
    "BADGE-RESPONSE-CUSTOMERID-NUMERIC",
)
def test_revoking_an_active_earn_by_its_capillary_id_answers_it_inactive_and_echoes_it(ctx: ScenarioContext) -> None:
    # Without the identifier header the numeric customerId names the Capillary customer: the plain revoke
    # is that rule's case too, so one call and its read-back prove both stories.
    earn = ctx.provisioner(BadgesProvisioner).badge_earn()
    response = revoke(ctx, earn)
    judgements = Judgements()
    judgements.equal(("BADGE-IDENTIFIER-DEFAULT-ID", "BADGE-REVOKE-INACTIVE"), response.status, 200, response)
    judgements.close()
    ctx.judged("BADGE-ENVELOPE")
    expect_equal("BADGE-REVOKE-INACTIVE", response_field(response, "data", "isActive"), False, response)
    data = response_field(response, "data") or {}
    expect_equal(
        "BADGE-REVOKE-ECHO",
        {f: data.get(f) for f in ("badgeMetaId", "earnedBadgeId")},
        {"badgeMetaId": earn.badge_meta_id, "earnedBadgeId": earn.earned_badge_id},
        response,
    )
    expect_numeric_customer_id(response, earn)
    expect_still_active("BADGE-IDENTIFIER-DEFAULT-ID", ctx, earn, active=False)


@pytest.mark.rules("BADGE-STATE-INACTIVE-AFTER")
def test_a_revoked_earn_reads_back_inactive(ctx: ScenarioContext) -> None:
    earn = ctx.provisioner(BadgesProvisioner).badge_earn()
    if not expect_still_active("BADGE-STATE-INACTIVE-AFTER", ctx, earn):
        return  # the listing cannot show the earn active, so "no longer active" would prove nothing
    revoke(ctx, earn)
    after = read_badges(ctx, earn)
    try:
        active = listed_active(after, earn)
    except UnreadableShape as exc:
        ctx.cannot_tell("BADGE-STATE-INACTIVE-AFTER", "BADGE-GAP-READBACK-SHAPE", received=after.json(), note=str(exc))
        return
    verdict(
        "BADGE-STATE-INACTIVE-AFTER",
        ok=active is not True,
        received={"isActive": active},
        documented="the earn no longer active (isActive false, or no longer listed)",
        exchange=after,
    )
    observe(
        "BADGE-GAP-READBACK-SHAPE",
        received="listed with isActive false" if active is False else "not listed",
        note="how the customer-badges answer shows a revoked earn",
        exchange=after,
    )


IDENTIFIER_RULES = [
    ("email", "BADGE-IDENTIFIER-EMAIL"),
    ("mobile", "BADGE-IDENTIFIER-MOBILE"),
    ("externalId", "BADGE-IDENTIFIER-EXTERNALID"),
    ("cardNumber", "BADGE-IDENTIFIER-CARDNUMBER"),
]
IDENTIFIERS = [
    pytest.param(header, rule, marks=pytest.mark.rules(rule), id=header) for header, rule in IDENTIFIER_RULES
]


SUPPORTED_IDENTIFIERS = tuple(header for header, _ in IDENTIFIER_RULES)


@pytest.mark.parametrize(("header", "rule"), IDENTIFIERS)
@pytest.mark.rules("BADGE-RESPONSE-CUSTOMERID-NUMERIC", "BADGE-IDENTIFIER-SUPPORTED-VALUES")
def test_a_customer_named_by_the_identifier_header_has_the_earn_revoked(
    ctx: ScenarioContext, header: str, rule: str
) -> None:
    earn = ctx.provisioner(BadgesProvisioner).badge_earn()
    response = revoke(ctx, earn, identifier=header)
    # The same call shows the client-request rule: the header value the suite sent is a supported one,
    # and the vendor resolved it (HTTP 200); both verdicts are recorded before either finding is raised.
    sent = response.request.headers.get("x-cap-customer-identifier")
    judgements = Judgements()
    judgements.equal(rule, response.status, 200, response)
    judgements.verdict(
        "BADGE-IDENTIFIER-SUPPORTED-VALUES",
        ok=sent in SUPPORTED_IDENTIFIERS and response.status == 200,
        received={"X-CAP-CUSTOMER-IDENTIFIER": sent, "status": response.status},
        documented={"X-CAP-CUSTOMER-IDENTIFIER": f"one of {', '.join(SUPPORTED_IDENTIFIERS)}", "status": 200},
        exchange=response,
    )
    judgements.close()
    expect_equal(rule, response_field(response, "data", "isActive"), False, response)
    expect_numeric_customer_id(response, earn)
    expect_still_active(rule, ctx, earn, active=False)


REQUIRED_FIELDS = [
    pytest.param(name, rule, marks=pytest.mark.rules(rule), id=name)
    for name, rule in [
        ("badgeMetaId", "BADGE-BODY-BADGEMETAID-REQUIRED"),
        ("customerId", "BADGE-BODY-CUSTOMERID-REQUIRED"),
        ("earnedBadgeId", "BADGE-BODY-EARNEDBADGEID-REQUIRED"),
    ]
]


@pytest.mark.parametrize(("field", "rule"), REQUIRED_FIELDS)
@pytest.mark.rules("BADGE-ENVELOPE")
def test_a_revoke_without_a_required_field_is_refused(ctx: ScenarioContext, field: str, rule: str) -> None:
    earn = ctx.provisioner(BadgesProvisioner).badge_earn()
    response = revoke(ctx, earn, omit=field)
    verdict(
        rule,
        ok=response_field(response, "data") is None and bool(error_codes(response)),
        received={"data": response_field(response, "data"), "errors": response_field(response, "errors")},
        documented=f"data null (or absent) and an error item: {field} is required",
        exchange=response,
    )
    ctx.judged("BADGE-ENVELOPE")
    observe(
        "BADGE-GAP-MISSING-BODY-FIELD",
        received={"status": response.status, "codes": error_codes(response)},
        note=f"status and error code for a revokeEarn without {field}",
        exchange=response,
    )
    expect_still_active(rule, ctx, earn)


@pytest.mark.parametrize("already", ["revoked-here", "provisioned-inactive"])
@pytest.mark.rules("BADGE-REVOKE-TWICE-814", "BADGE-ENVELOPE")
def test_an_earn_that_is_no_longer_active_is_refused_with_814(ctx: ScenarioContext, already: str) -> None:
    provisioner = ctx.provisioner(BadgesProvisioner)
    if already == "revoked-here":
        earn = provisioner.badge_earn()
        first = revoke(ctx, earn)
        expect_equal("BADGE-REVOKE-TWICE-814", first.status, 200, first)
    else:
        earn = provisioner.badge_earn(active=False)
    revokes_before = provisioner.badge_state(earn).get("revokeCount")
    again = revoke(ctx, earn)
    expect_equal("BADGE-REVOKE-TWICE-814", error_codes(again), [814], again)
    ctx.judged("BADGE-ENVELOPE")
    observe(
        "BADGE-GAP-814-HTTP-STATUS", received=again.status, note="HTTP status that came with error 814", exchange=again
    )
    expect_still_active("BADGE-REVOKE-TWICE-814", ctx, earn, active=False)
    expect_equal("BADGE-REVOKE-TWICE-814", provisioner.badge_state(earn).get("revokeCount"), revokes_before)


NOT_THIS_EARN = ["unknown-earned-badge-id", "another-badge-meta", "another-customer"]


@pytest.mark.parametrize("mismatch", NOT_THIS_EARN)
@pytest.mark.rules("BADGE-UNKNOWN-EARN-814")
def test_an_earn_that_does_not_match_the_request_is_refused_with_814(ctx: ScenarioContext, mismatch: str) -> None:
    provisioner = ctx.provisioner(BadgesProvisioner)
    earn = provisioner.badge_earn()
    # An unknown earnedBadgeId names no other earn: only the mismatches need a second one to name.
    other = None if mismatch == "unknown-earned-badge-id" else provisioner.badge_earn()
    variants: dict[str, dict[str, Any]] = {
        "unknown-earned-badge-id": {"earnedBadgeId": UNKNOWN_EARNED_BADGE_ID},
        "another-badge-meta": {"badgeMetaId": other.badge_meta_id if other else None},
        "another-customer": {"customerId": other.customer_id if other else None},
    }
    overrides = variants[mismatch]
    field, value = next(iter(overrides.items()))
    own = {"badgeMetaId": earn.badge_meta_id, "customerId": earn.customer_id, "earnedBadgeId": earn.earned_badge_id}
    if own[field] == value:
        # Two earns of one configured badge and customer (a vendor target) cannot show this mismatch.
        raise PreconditionUnavailable(f"two earns differing in {field}", "the provisioner gave both the same value")
    response = revoke(ctx, earn, **overrides)
    expect_equal("BADGE-UNKNOWN-EARN-814", error_codes(response), [814], response)
    observe(
        "BADGE-GAP-814-HTTP-STATUS",
        received=response.status,
        note=f"HTTP status of 814 for {mismatch}",
        exchange=response,
    )
    expect_still_active("BADGE-UNKNOWN-EARN-814", ctx, earn)
    if other is not None:
        expect_still_active("BADGE-UNKNOWN-EARN-814", ctx, other)


@pytest.mark.parametrize("auth", ["missing", "wrong"])
@pytest.mark.rules("BADGE-AUTH-REQUIRED")
def test_a_revoke_without_valid_credentials_is_refused_with_401(ctx: ScenarioContext, auth: AuthVariant) -> None:
    earn = ctx.provisioner(BadgesProvisioner).badge_earn()
    response = revoke(ctx, earn, auth=auth)
    expect_equal("BADGE-AUTH-REQUIRED", response.status, 401, response)
    expect_still_active("BADGE-AUTH-REQUIRED", ctx, earn)


@pytest.mark.rules("BADGE-RACE-ONE-SUCCESS")
def test_two_concurrent_revokes_of_one_earn_succeed_once(ctx: ScenarioContext) -> None:
    provisioner = ctx.provisioner(BadgesProvisioner)
    earn = provisioner.badge_earn()
    provisioner.fault("delay", delay_ms=25)
    answers = ctx.concurrently(lambda: revoke(ctx, earn), lambda: revoke(ctx, earn))
    outcomes = sorted((answer.status or 0, error_codes(answer)) for answer in answers)
    verdict(
        "BADGE-RACE-ONE-SUCCESS",
        ok=[status == 200 for status, _ in outcomes].count(True) == 1
        and [codes for _, codes in outcomes].count([814]) == 1,
        received=outcomes,
        documented="exactly one 200; the other refused with 814",
        exchange=answers[-1],
    )
    expect_equal("BADGE-RACE-ONE-SUCCESS", provisioner.badge_state(earn).get("revokeCount"), 1)
    expect_still_active("BADGE-RACE-ONE-SUCCESS", ctx, earn, active=False)
