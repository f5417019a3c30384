"""Capillary points v2: reverse redeemed points (fully or partly; 16 documented refusal codes, HTTP status undocumented)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.checks.capillary import POINTS_CODES  # the page's table, kept once
from conformance.context import ScenarioContext, UnreadableShape, find_entry, response_field
from conformance.errors import PreconditionUnavailable
from conformance.http.auth import AuthVariant
from conformance.http.exchange import Exchange
from conformance.provisioners.capillary_points import PointsProvisioner, Redemption
from conformance.verdicts import expect_equal, observe, verdict

pytestmark = pytest.mark.conformance
API = "capillary-points"
REVERSE = "/v2/points/reverse"
UNKNOWN_REDEMPTION_ID = "zzzzzz0"
# identifier.type as the page names it (ID, PHONE, EMAIL), and where the provisioned customer's value is.
IDENTIFIER_KEYS = {"PHONE": "mobile", "EMAIL": "email"}
TOLERANCE = 0.0005  # points carry at most three decimals


def identifier(redemption: Redemption, kind: str = "ID") -> dict[str, str]:
    if kind != "ID" and IDENTIFIER_KEYS[kind] not in redemption.identifiers:
        raise PreconditionUnavailable(f"the customer's {IDENTIFIER_KEYS[kind]}", "the provisioner did not report it")
    value = str(redemption.customer_id) if kind == "ID" else redemption.identifiers[IDENTIFIER_KEYS[kind]]
    return {"type": kind, "value": value}


def reverse(
    ctx: ScenarioContext,
    redemption: Redemption,
    points: float | None = None,
    *,
    kind: str = "ID",
    omit: str | None = None,
    auth: AuthVariant = "valid",
    **overrides: Any,
) -> Exchange:
    """reversePoints for ``redemption``; ``points`` None leaves pointsToBeReversed out; ``omit`` may be dotted."""
    body: dict[str, Any] = {"redemptionId": redemption.redemption_id, "identifier": identifier(redemption, kind)}
    if points is not None:
        body["pointsToBeReversed"] = points
    body.update(overrides)
    if omit is not None:
        *parents, name = omit.split(".")
        holder = body
        for parent in parents:
            holder = holder[parent]
        del holder[name]
    return ctx.client(API).call("POST", REVERSE, operation="reversePoints", json=body, auth=auth)


def read_redemptions(ctx: ScenarioContext, redemption: Redemption) -> Exchange:
    return ctx.client(API).call(
        "GET",
        "/v1.1/customer/redemptions",
        operation="getCustomerRedemptions",
        phase="readback",
        params={"mobile": redemption.identifiers["mobile"], "type": "points"},
        retry=True,
    )


# The read-back's shape is undocumented (POINTS-GAP-READBACK-SHAPE): a redemption is found anywhere in the
# answer by any of these id names, its reversed amount under any of these names or as the sum of its reversals.
REDEMPTION_ID_KEYS = ("redemption_id", "redemptionId", "id")
REVERSED_KEYS = ("points_reversed", "pointsReversed", "reversed_points", "reversedPoints", "reversed")
REVERSAL_LIST_KEYS = ("reversals", "reversal_details", "reversalDetails")


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def reversed_amount(entry: dict[str, Any]) -> Any:
    """The points reversed on one listed redemption, or None when no documented-compatible name holds them."""
    for key in REVERSED_KEYS:
        if is_number(entry.get(key)):
            return entry[key]
    for key in REVERSAL_LIST_KEYS:
        reversals = entry.get(key)
        if isinstance(reversals, list) and all(isinstance(r, dict) for r in reversals):
            amounts = [next((r[k] for k in (*REVERSED_KEYS, "points") if is_number(r.get(k))), None) for r in reversals]
            if all(is_number(a) for a in amounts):
                return round(sum(a for a in amounts if a is not None), 3)
    return None


def reversed_so_far(ctx: ScenarioContext, redemption: Redemption) -> tuple[Any, Exchange]:
    """Points reversed on ``redemption`` as the customer's redemptions show them, and the read-back exchange.

    Raises UnreadableShape when the redemption or its reversed amount cannot be found: missing is never 0.
    """
    readback = read_redemptions(ctx, redemption)
    body = readback.json()
    entry = next(
        (found for key in REDEMPTION_ID_KEYS if (found := find_entry(body, key, redemption.redemption_id))), None
    )
    if entry is None:
        raise UnreadableShape(f"the redemptions answer does not list redemption {redemption.redemption_id}")
    amount = reversed_amount(entry)
    if amount is None:
        raise UnreadableShape(f"the listed redemption names no reversed amount: fields {sorted(entry)}")
    return amount, readback


def error_codes(exchange: Exchange) -> list[Any]:
    errors = response_field(exchange, "errors")
    return [item.get("code") for item in errors if isinstance(item, dict)] if isinstance(errors, list) else []


def expect_refused(rule: str, exchange: Exchange, code: int | None = None) -> None:
    """A refusal: ``code`` (or, when None, some error) in errors and no reversal in the answer; status observed."""
    codes = error_codes(exchange)
    refused = (code in codes) if code is not None else bool(codes)
    verdict(
        rule,
        ok=refused and response_field(exchange, "reversalId") is None,
        received={"errors": response_field(exchange, "errors"), "reversalId": response_field(exchange, "reversalId")},
        documented=f"error {code} in errors and no reversal" if code else "an error in errors and no reversal",
        exchange=exchange,
    )
    observe(
        "POINTS-GAP-ERROR-HTTP-STATUS",
        received={"status": exchange.status, "codes": codes},
        note="HTTP status that came with the reversal error",
        exchange=exchange,
    )


def expect_codes_documented(ctx: ScenarioContext) -> None:
    ctx.judged("POINTS-ERROR-CODES-DOCUMENTED")  # owned by the registered check, judged on every answer


def expect_reversed(rule: str, ctx: ScenarioContext, redemption: Redemption, points: float) -> None:
    try:
        total, readback = reversed_so_far(ctx, redemption)
    except UnreadableShape as exc:
        ctx.cannot_tell(rule, "POINTS-GAP-READBACK-SHAPE", received=str(exc), note=str(exc))
        return
    verdict(
        rule,
        ok=abs(float(total) - points) <= TOLERANCE,
        received=total,
        documented=points,
        exchange=readback,
    )


@pytest.mark.rules(
    "POINTS-PARTIAL-REVERSAL",
    "POINTS-REVERSED-LE-REQUESTED",
    "POINTS-ENVELOPE",
    "POINTS-RESPONSE-ECHO",
    "POINTS-STATE-READBACK",
    "POINTS-IDENTIFIER-TYPES",
)
def test_a_partial_reversal_reverses_the_requested_points(ctx: ScenarioContext) -> None:
    redemption = ctx.provisioner(PointsProvisioner).points_redemption(points=100)
    response = reverse(ctx, redemption, 40)
    expect_equal("POINTS-PARTIAL-REVERSAL", response.status, 200, response)
    ctx.judged("POINTS-ENVELOPE")
    expect_equal("POINTS-PARTIAL-REVERSAL", response_field(response, "pointsReversed"), 40, response)
    ctx.judged("POINTS-REVERSED-LE-REQUESTED")
    echo = {f: response_field(response, f) for f in ("redemptionId", "identifier")}
    expect_equal(
        "POINTS-RESPONSE-ECHO",
        echo,
        {"redemptionId": redemption.redemption_id, "identifier": identifier(redemption)},
        response,
    )
    # The customer named by identifier.type ID, the type every other reversal uses too.
    expect_equal("POINTS-IDENTIFIER-TYPES", response_field(response, "customerId"), redemption.customer_id, response)
    expect_reversed("POINTS-STATE-READBACK", ctx, redemption, 40)


@pytest.mark.rules("POINTS-FULL-REVERSAL-DEFAULT", "POINTS-DETAILS-SUM", "POINTS-STATE-READBACK")
def test_without_points_to_reverse_everything_is_reversed(ctx: ScenarioContext) -> None:
    redemption = ctx.provisioner(PointsProvisioner).points_redemption(points=100, expired_points=30)
    response = reverse(ctx, redemption)
    expect_equal("POINTS-FULL-REVERSAL-DEFAULT", response.status, 200, response)
    expect_equal(
        "POINTS-FULL-REVERSAL-DEFAULT", response_field(response, "pointsReversed"), redemption.points, response
    )
    ctx.judged("POINTS-DETAILS-SUM")
    expect_reversed("POINTS-STATE-READBACK", ctx, redemption, redemption.points)


@pytest.mark.rules("POINTS-REVERSALID-UNIQUE")
def test_each_reversal_gets_its_own_reversal_id(ctx: ScenarioContext) -> None:
    redemption = ctx.provisioner(PointsProvisioner).points_redemption(points=100)
    first, second = reverse(ctx, redemption, 30), reverse(ctx, redemption, 25)
    ids = [response_field(first, "reversalId"), response_field(second, "reversalId")]
    verdict(
        "POINTS-REVERSALID-UNIQUE",
        ok=all(isinstance(i, str) and i for i in ids) and ids[0] != ids[1],
        received=ids,
        documented="two different reversalId strings",
        exchange=second,
    )


# ID is the type of every other reversal (judged under this rule by the partial reversal's story).
IDENTIFIER_TYPES = ["PHONE", "EMAIL"]


@pytest.mark.parametrize("kind", IDENTIFIER_TYPES)
@pytest.mark.rules("POINTS-IDENTIFIER-TYPES")
def test_the_customer_may_be_named_by_each_documented_identifier_type(ctx: ScenarioContext, kind: str) -> None:
    redemption = ctx.provisioner(PointsProvisioner).points_redemption(points=20)
    response = reverse(ctx, redemption, kind=kind)
    expect_equal("POINTS-IDENTIFIER-TYPES", response.status, 200, response)
    expect_equal("POINTS-IDENTIFIER-TYPES", response_field(response, "customerId"), redemption.customer_id, response)


@pytest.mark.rules("POINTS-DECIMAL-3-ACCEPTED")
def test_three_decimal_places_are_accepted(ctx: ScenarioContext) -> None:
    redemption = ctx.provisioner(PointsProvisioner).points_redemption(points=50)
    response = reverse(ctx, redemption, 12.125)
    expect_equal("POINTS-DECIMAL-3-ACCEPTED", response.status, 200, response)
    expect_equal("POINTS-DECIMAL-3-ACCEPTED", response_field(response, "pointsReversed"), 12.125, response)
    expect_reversed("POINTS-DECIMAL-3-ACCEPTED", ctx, redemption, 12.125)


@pytest.mark.rules("POINTS-DECIMAL-4-878", "POINTS-ERROR-CODES-DOCUMENTED")
def test_four_decimal_places_are_refused_with_878(ctx: ScenarioContext) -> None:
    redemption = ctx.provisioner(PointsProvisioner).points_redemption(points=50)
    response = reverse(ctx, redemption, 1.0005)
    expect_refused("POINTS-DECIMAL-4-878", response, 878)
    expect_codes_documented(ctx)
    expect_reversed("POINTS-DECIMAL-4-878", ctx, redemption, 0)


REQUIRED_FIELDS = [
    pytest.param(name, rule, marks=pytest.mark.rules(rule), id=name)
    for name, rule in [
        ("redemptionId", "POINTS-BODY-REDEMPTIONID-REQUIRED"),
        ("identifier", "POINTS-BODY-IDENTIFIER-REQUIRED"),
        ("identifier.type", "POINTS-BODY-IDENTIFIER-TYPE-REQUIRED"),
        ("identifier.value", "POINTS-BODY-IDENTIFIER-VALUE-REQUIRED"),
    ]
]


@pytest.mark.parametrize(("field", "rule"), REQUIRED_FIELDS)
@pytest.mark.rules("POINTS-ERROR-CODES-DOCUMENTED")
def test_a_reversal_without_a_required_field_is_refused(ctx: ScenarioContext, field: str, rule: str) -> None:
    redemption = ctx.provisioner(PointsProvisioner).points_redemption(points=50)
    response = reverse(ctx, redemption, omit=field)
    expect_refused(rule, response)
    expect_codes_documented(ctx)
    expect_reversed(rule, ctx, redemption, 0)


@pytest.mark.rules("POINTS-OVER-REVERSAL-REFUSED", "POINTS-ERROR-CODES-DOCUMENTED")
def test_reversing_more_than_was_redeemed_is_refused(ctx: ScenarioContext) -> None:
    redemption = ctx.provisioner(PointsProvisioner).points_redemption(points=50)
    response = reverse(ctx, redemption, 80)
    expect_refused("POINTS-OVER-REVERSAL-REFUSED", response)
    expect_codes_documented(ctx)
    observe(
        "POINTS-GAP-OVER-REVERSAL-CODE",
        received=error_codes(response),
        note="Error code for pointsToBeReversed above the redeemed points",
        exchange=response,
    )
    expect_reversed("POINTS-OVER-REVERSAL-REFUSED", ctx, redemption, 0)


@pytest.mark.rules("POINTS-DUPLICATE-902")
def test_repeating_a_reversal_is_refused_as_a_duplicate(ctx: ScenarioContext) -> None:
    # What a duplicate is, is undocumented (POINTS-GAP-DUPLICATE-902): the same full reversal (all 100 points)
    # sent twice is one under every reading; a repeated partial reversal may be a second, legitimate one,
    # so it is asked.
    redemption = ctx.provisioner(PointsProvisioner).points_redemption(points=100)
    first = reverse(ctx, redemption, 100)
    expect_equal("POINTS-DUPLICATE-902", first.status, 200, first)
    again = reverse(ctx, redemption, 100)
    expect_refused("POINTS-DUPLICATE-902", again, 902)
    expect_reversed("POINTS-DUPLICATE-902", ctx, redemption, 100)
    partial = ctx.provisioner(PointsProvisioner).points_redemption(points=100)
    reverse(ctx, partial, 30)
    repeated = reverse(ctx, partial, 30)
    observe(
        "POINTS-GAP-DUPLICATE-902",
        received={"status": repeated.status, "codes": error_codes(repeated)},
        note="the answer to a second, identical partial reversal (a duplicate, or a second reversal?)",
        exchange=repeated,
    )


@pytest.mark.rules("POINTS-SECOND-REVERSAL-REFUSED", "POINTS-ERROR-CODES-DOCUMENTED")
def test_a_fully_reversed_redemption_cannot_be_reversed_again(ctx: ScenarioContext) -> None:
    redemption = ctx.provisioner(PointsProvisioner).points_redemption(points=60)
    first = reverse(ctx, redemption)
    expect_equal("POINTS-SECOND-REVERSAL-REFUSED", first.status, 200, first)
    again = reverse(ctx, redemption, 10)
    expect_refused("POINTS-SECOND-REVERSAL-REFUSED", again)
    expect_codes_documented(ctx)
    observe(
        "POINTS-GAP-DUPLICATE-902",
        received=error_codes(again),
        note="Error code for a reversal of a redemption with nothing left to reverse",
        exchange=again,
    )
    expect_reversed("POINTS-SECOND-REVERSAL-REFUSED", ctx, redemption, redemption.points)


@pytest.mark.rules("POINTS-LIMIT-903")
def test_a_customer_over_the_reversal_limit_is_refused_with_903(ctx: ScenarioContext) -> None:
    redemption = ctx.provisioner(PointsProvisioner).points_redemption(points=100, reversal_limit=1)
    first = reverse(ctx, redemption, 10)
    expect_equal("POINTS-LIMIT-903", first.status, 200, first)
    over = reverse(ctx, redemption, 20)
    expect_refused("POINTS-LIMIT-903", over, 903)
    expect_reversed("POINTS-LIMIT-903", ctx, redemption, 10)


REFUSED_BY_ACCOUNT = [
    pytest.param(setup, code, rule, marks=pytest.mark.rules(rule), id=str(code))
    for setup, code, rule in [
        ({"program_reversal_enabled": False}, 818, "POINTS-PROGRAM-DISABLED-818"),
        ({"customer_eligible": False}, 901, "POINTS-CUSTOMER-INELIGIBLE-901"),
        ({"customer_locked": True}, 904, "POINTS-LOCKED-904"),
    ]
]


@pytest.mark.parametrize(("setup", "code", "rule"), REFUSED_BY_ACCOUNT)
@pytest.mark.rules("POINTS-ERROR-CODES-DOCUMENTED")
def test_a_program_or_customer_that_forbids_reversal_is_refused(
    ctx: ScenarioContext, setup: dict[str, bool], code: int, rule: str
) -> None:
    redemption = ctx.provisioner(PointsProvisioner).points_redemption(points=40, **setup)
    response = reverse(ctx, redemption)
    expect_refused(rule, response, code)
    expect_codes_documented(ctx)
    expect_reversed(rule, ctx, redemption, 0)


RETRYABLE = [
    pytest.param(code, rule, marks=pytest.mark.rules(rule), id=str(code))
    for code, rule in [(886, "POINTS-RETRYABLE-886"), (896, "POINTS-RETRYABLE-896"), (898, "POINTS-RETRYABLE-898")]
]


@pytest.mark.parametrize(("code", "rule"), RETRYABLE)
@pytest.mark.rules("POINTS-ERROR-CODES-DOCUMENTED")
def test_a_temporary_failure_reverses_nothing_and_a_retry_succeeds(ctx: ScenarioContext, code: int, rule: str) -> None:
    provisioner = ctx.provisioner(PointsProvisioner)
    redemption = provisioner.points_redemption(points=70)
    provisioner.fault("points_failure", count=1, code=code)
    failed = reverse(ctx, redemption)
    expect_refused(rule, failed, code)
    expect_codes_documented(ctx)
    expect_reversed(rule, ctx, redemption, 0)
    retried = reverse(ctx, redemption)
    expect_equal(rule, retried.status, 200, retried)
    expect_equal(rule, response_field(retried, "pointsReversed"), redemption.points, retried)
    expect_reversed(rule, ctx, redemption, redemption.points)


@pytest.mark.rules("POINTS-UNKNOWN-REDEMPTION-REFUSED", "POINTS-ERROR-CODES-DOCUMENTED")
def test_an_unknown_redemption_is_refused(ctx: ScenarioContext) -> None:
    redemption = ctx.provisioner(PointsProvisioner).points_redemption(points=30)
    response = reverse(ctx, redemption, redemptionId=UNKNOWN_REDEMPTION_ID)
    expect_refused("POINTS-UNKNOWN-REDEMPTION-REFUSED", response)
    expect_codes_documented(ctx)
    observe(
        "POINTS-GAP-UNKNOWN-REDEMPTION",
        received=error_codes(response),
        note="Error code for a redemptionId that does not exist",
        exchange=response,
    )
    expect_reversed("POINTS-UNKNOWN-REDEMPTION-REFUSED", ctx, redemption, 0)


@pytest.mark.rules("POINTS-IDENTIFIER-MISMATCH-REFUSED", "POINTS-ERROR-CODES-DOCUMENTED")
def test_an_identifier_of_another_customer_is_refused_and_credits_no_one(ctx: ScenarioContext) -> None:
    provisioner = ctx.provisioner(PointsProvisioner)
    redemption, others = provisioner.points_redemption(points=30), provisioner.points_redemption(points=30)
    if others.customer_id == redemption.customer_id:
        raise PreconditionUnavailable("redemptions of two customers", "the provisioner made both for one customer")
    response = reverse(ctx, redemption, identifier=identifier(others))
    expect_refused("POINTS-IDENTIFIER-MISMATCH-REFUSED", response)
    expect_codes_documented(ctx)
    observe(
        "POINTS-GAP-IDENTIFIER-MISMATCH",
        received=error_codes(response),
        note="error code for an identifier naming another customer",
        exchange=response,
    )
    expect_reversed("POINTS-IDENTIFIER-MISMATCH-REFUSED", ctx, redemption, 0)
    expect_reversed("POINTS-IDENTIFIER-MISMATCH-REFUSED", ctx, others, 0)


@pytest.mark.parametrize("auth", ["missing", "wrong"])
@pytest.mark.rules("POINTS-AUTH-REQUIRED")
def test_a_reversal_without_valid_credentials_is_refused_with_401(ctx: ScenarioContext, auth: AuthVariant) -> None:
    redemption = ctx.provisioner(PointsProvisioner).points_redemption(points=30)
    response = reverse(ctx, redemption, auth=auth)
    expect_equal("POINTS-AUTH-REQUIRED", response.status, 401, response)
    expect_reversed("POINTS-AUTH-REQUIRED", ctx, redemption, 0)


@pytest.mark.rules("POINTS-RACE-ONE-SUCCESS")
def test_two_concurrent_full_reversals_credit_the_points_once(ctx: ScenarioContext) -> None:
    provisioner = ctx.provisioner(PointsProvisioner)
    redemption = provisioner.points_redemption(points=80)
    provisioner.fault("delay", delay_ms=25)
    answers = ctx.concurrently(lambda: reverse(ctx, redemption), lambda: reverse(ctx, redemption))
    outcomes = [(answer.status, response_field(answer, "pointsReversed"), error_codes(answer)) for answer in answers]
    succeeded = [points for _, points, codes in outcomes if points is not None and not codes]
    refused = [codes for *_, codes in outcomes if codes and set(codes) <= POINTS_CODES]
    verdict(
        "POINTS-RACE-ONE-SUCCESS",
        ok=len(succeeded) == 1 and len(refused) == 1,
        received=outcomes,
        documented="one reversal of all 80 points; the other refused with a documented code (902 or another)",
        exchange=answers[-1],
    )
    expect_reversed("POINTS-RACE-ONE-SUCCESS", ctx, redemption, redemption.points)
    reversals = provisioner.redemption_state(redemption).get("reversals")
    expect_equal("POINTS-RACE-ONE-SUCCESS", len(reversals) if isinstance(reversals, list) else reversals, 1)


@pytest.mark.rules("POINTS-BALANCE-CREDITED")
def test_a_reversal_credits_the_balance_by_exactly_the_points_reversed(ctx: ScenarioContext) -> None:
    provisioner = ctx.provisioner(PointsProvisioner)
    redemption = provisioner.points_redemption(points=100, expired_points=30)
    before = provisioner.customer_points(redemption.customer_id)
    refused = reverse(ctx, redemption, 500)
    expect_refused("POINTS-BALANCE-CREDITED", refused)
    expect_equal("POINTS-BALANCE-CREDITED", provisioner.customer_points(redemption.customer_id), before, refused)
    response = reverse(ctx, redemption, 90)
    reversed_points = float(response_field(response, "pointsReversed") or 0)
    available = float(response_field(response, "pointsReversedDetails", "available") or 0)
    after = provisioner.customer_points(redemption.customer_id)
    credited = {
        "total": round(after["available"] + after["expired"] - before["available"] - before["expired"], 3),
        "available": round(after["available"] - before["available"], 3),
    }
    expected = {"total": round(reversed_points, 3), "available": round(available, 3)}
    verdict(
        "POINTS-BALANCE-CREDITED",
        ok=reversed_points > 0 and credited == expected,
        received={"credited": credited, "before": before, "after": after},
        documented={"credited": expected, "note": "higher by exactly pointsReversed, the available part as available"},
        exchange=response,
    )
