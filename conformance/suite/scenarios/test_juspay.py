"""Juspay mandates: revoke an ACTIVE mandate (200 REVOKED; 400 otherwise), read back with check_status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from conformance.context import ScenarioContext, response_field
from conformance.http.auth import AuthVariant
from conformance.http.exchange import Exchange
from conformance.provisioners.juspay import JuspayProvisioner, Mandate
from conformance.suite.readbacks import Judgements
from conformance.suite.scenarios import juspay_steps as steps
from conformance.suite.scenarios.request_rules import (
    IMPLICIT_REVOKE_VALUE,
    JUSPAY_RULES,
    judge_implicit_revoke_value,
    judge_juspay_calls,
)
from conformance.verdicts import expect_equal, observe, verdict

pytestmark = pytest.mark.conformance
API = "juspay"
# CREATED (awaiting PG) | ACTIVE | PAUSED | REVOKED | FAILURE | EXPIRED, and PENDING from the v3.2 docs.
MANDATE_STATUSES = ("CREATED", "ACTIVE", "PAUSED", "REVOKED", "FAILURE", "EXPIRED", "PENDING")
GATEWAY_FIELDS = ("gateway_response_code", "gateway_response_message")
NOT_ACTIVE_MESSAGE = "Mandate Not in Active State"


def command(
    ctx: ScenarioContext,
    mandate: Mandate,
    fields: Mapping[str, str],
    *,
    phase: str = "test",
    auth: AuthVariant = "valid",
    retry: bool = False,
) -> Exchange:
    return steps.command(ctx, mandate.mandate_id, mandate.customer_id, fields, phase=phase, auth=auth, retry=retry)


def revoke(ctx: ScenarioContext, mandate: Mandate, *, auth: AuthVariant = "valid", **fields: str) -> Exchange:
    return command(ctx, mandate, {"command": "revoke", **fields}, auth=auth)


def check_status(ctx: ScenarioContext, mandate: Mandate) -> Exchange:
    return command(ctx, mandate, {"command": "check_status"}, phase="readback", retry=True)


def status_of(exchange: Exchange) -> Any:
    return response_field(exchange, "mandate_status")


def expect_status_after(ctx: ScenarioContext, rule: str, mandate: Mandate, documented: str) -> None:
    """Read the mandate back with the vendor's own check_status."""
    after = check_status(ctx, mandate)
    expect_equal(rule, status_of(after), documented, after)


def strings(body: Any, *fields: str) -> bool:
    return isinstance(body, dict) and all(isinstance(body.get(f), str) and body.get(f) for f in fields)


# JUSPAY-STATUS-ENUM is judged by the registered check on every 200 answer: the mandate read back in each
# documented state (ACTIVE here and after a gateway failure, REVOKED here, every other state where a revoke
# is refused) shows it, so no call is sent for that rule alone.


@pytest.mark.rules(
    "JUSPAY-REVOKE-ACTIVE", "JUSPAY-MANDATE-ID-ECHO", "JUSPAY-STATE-READBACK", "JUSPAY-STATUS-ENUM", *JUSPAY_RULES
)
def test_revoking_an_active_mandate_revokes_it(ctx: ScenarioContext) -> None:
    mandate = ctx.provisioner(JuspayProvisioner).mandate("ACTIVE")
    response = revoke(ctx, mandate)
    expect_equal("JUSPAY-REVOKE-ACTIVE", [response.status, status_of(response)], [200, "REVOKED"], response)
    expect_equal("JUSPAY-MANDATE-ID-ECHO", response_field(response, "mandate_id"), mandate.mandate_id, response)
    expect_status_after(ctx, "JUSPAY-STATE-READBACK", mandate, "REVOKED")
    ctx.judged("JUSPAY-STATUS-ENUM")
    # The revoke and its read-back also show the request rules: routed by the customer, form-encoded and
    # Basic-authenticated alike. Judged on the calls first: the routing ids the target saw come last, from
    # the control provisioner (no vendor read exposes them), which a manifest or vendor target cannot ask.
    judgements = Judgements()
    judge_juspay_calls(ctx, judgements, mandate.customer_id)
    judgements.close()
    seen = ctx.provisioner(JuspayProvisioner).mandate_state(mandate).get("routing_ids_seen") or []
    expect_equal("JUSPAY-ROUTING-ID-CONSISTENT", sorted(set(seen)), [mandate.customer_id], response)


# A revoked or pending mandate's refusal also carries the documented message (JUSPAY-REVOKE-REVOKED-400); a
# terminal one (JUSPAY-TERMINAL-STATES) also refuses an implicit revoke, read back once more after it.
NOT_IN_ACTIVE_STATE = ("REVOKED", "PENDING")
TERMINAL_STATES = ("REVOKED", "FAILURE", "EXPIRED")
REFUSED = pytest.mark.rules("JUSPAY-REVOKE-NON-ACTIVE-REFUSED", "JUSPAY-SCHEMA-REVOKE-400", "JUSPAY-STATUS-ENUM")
NOT_IN_ACTIVE_STATE_MESSAGE = pytest.mark.rules("JUSPAY-REVOKE-REVOKED-400")
STAYS_TERMINAL = pytest.mark.rules("JUSPAY-TERMINAL-STATES")
NOT_ACTIVE = [
    pytest.param(
        status,
        marks=[
            REFUSED,
            *([NOT_IN_ACTIVE_STATE_MESSAGE] if status in NOT_IN_ACTIVE_STATE else []),
            *([STAYS_TERMINAL] if status in TERMINAL_STATES else []),
        ],
        id=status,
    )
    for status in MANDATE_STATUSES
    if status != "ACTIVE"
]


def expect_not_in_active_state(response: Exchange) -> None:
    received = [response.status, response_field(response, "error_code"), response_field(response, "error_message")]
    expect_equal("JUSPAY-REVOKE-REVOKED-400", received, [400, "BAD_REQUEST", NOT_ACTIVE_MESSAGE], response)


@pytest.mark.parametrize("status", NOT_ACTIVE)
def test_a_mandate_that_is_not_active_is_refused_with_400(ctx: ScenarioContext, status: str) -> None:
    if status == "REVOKED":
        # Revoked here: the refused revoke below is the page's second revoke of a revoked mandate.
        mandate = ctx.provisioner(JuspayProvisioner).mandate("ACTIVE")
        revoke(ctx, mandate)
    else:
        mandate = ctx.provisioner(JuspayProvisioner).mandate(status)
    response = revoke(ctx, mandate)
    expect_equal("JUSPAY-REVOKE-NON-ACTIVE-REFUSED", response.status, 400, response)
    body = response.json()
    ctx.judged("JUSPAY-SCHEMA-REVOKE-400")
    if status in NOT_IN_ACTIVE_STATE:
        expect_not_in_active_state(response)
    if status == "PAUSED":
        observe(
            "JUSPAY-GAP-REVOKE-PAUSED",
            received=body,
            exchange=response,
            note="the 400 body for a PAUSED mandate; the page covers ACTIVE, revoked and pending only",
        )
    after = check_status(ctx, mandate)
    ctx.judged("JUSPAY-STATUS-ENUM")  # the read-back shows the mandate in its documented state
    expect_equal("JUSPAY-REVOKE-NON-ACTIVE-REFUSED", status_of(after), status, after)
    if status in TERMINAL_STATES:
        revoke(ctx, mandate, should_do_implicit_revoke="True")
        expect_status_after(ctx, "JUSPAY-TERMINAL-STATES", mandate, status)


@pytest.mark.rules("JUSPAY-GATEWAY-FAILURE-ACTIVE", "JUSPAY-GATEWAY-FAILURE-HTTP-200", "JUSPAY-STATUS-ENUM")
def test_a_gateway_failure_leaves_the_mandate_active(ctx: ScenarioContext) -> None:
    mandate = ctx.provisioner(JuspayProvisioner).mandate("ACTIVE")
    ctx.provisioner(JuspayProvisioner).fault("gateway_failure")
    response = revoke(ctx, mandate)
    body = response.json()
    verdict(
        "JUSPAY-GATEWAY-FAILURE-ACTIVE",
        ok=status_of(response) == "ACTIVE" and strings(body, *GATEWAY_FIELDS),
        received=body,
        documented="mandate_status ACTIVE with gateway_response_code and gateway_response_message",
        exchange=response,
    )
    expect_equal("JUSPAY-GATEWAY-FAILURE-HTTP-200", response.status, 200, response)
    expect_status_after(ctx, "JUSPAY-GATEWAY-FAILURE-ACTIVE", mandate, "ACTIVE")
    ctx.judged("JUSPAY-STATUS-ENUM")


@pytest.mark.rules("JUSPAY-IMPLICIT-REVOKE", "JUSPAY-IMPLICIT-REVOKE-READBACK", "JUSPAY-IMPLICIT-REVOKE-VALUE")
def test_an_implicit_revoke_revokes_despite_a_gateway_failure(ctx: ScenarioContext) -> None:
    mandate = ctx.provisioner(JuspayProvisioner).mandate("ACTIVE")
    ctx.provisioner(JuspayProvisioner).fault("gateway_failure")
    response = revoke(ctx, mandate, should_do_implicit_revoke=IMPLICIT_REVOKE_VALUE)
    body = response.json()
    # The same call shows the request rule: asked with the page's value, and the vendor revoked.
    judgements = Judgements()
    judgements.verdict(
        "JUSPAY-IMPLICIT-REVOKE",
        ok=status_of(response) == "REVOKED" and strings(body, *GATEWAY_FIELDS),
        received=body,
        documented="mandate_status REVOKED with gateway_response_code and gateway_response_message",
        exchange=response,
    )
    judge_implicit_revoke_value(judgements, response)
    judgements.close()
    expect_status_after(ctx, "JUSPAY-IMPLICIT-REVOKE-READBACK", mandate, "REVOKED")


@pytest.mark.rules("JUSPAY-UNKNOWN-400", "JUSPAY-SCHEMA-REVOKE-400")
def test_an_unknown_mandate_is_refused_with_400(ctx: ScenarioContext) -> None:
    known = ctx.provisioner(JuspayProvisioner).mandate("ACTIVE")
    unknown = Mandate("unknownMandate00000000", known.customer_id, "UNKNOWN")
    response = revoke(ctx, unknown)
    expect_equal(
        "JUSPAY-UNKNOWN-400",
        [response.status, response_field(response, "error_message")],
        [400, "Mandate not found"],
        response,
    )
    ctx.judged("JUSPAY-SCHEMA-REVOKE-400")
    expect_status_after(ctx, "JUSPAY-UNKNOWN-400", known, "ACTIVE")


@pytest.mark.rules("JUSPAY-BAD-KEY-401", "JUSPAY-SCHEMA-REVOKE-401")
def test_a_bad_api_key_is_refused_with_401(ctx: ScenarioContext) -> None:
    mandate = ctx.provisioner(JuspayProvisioner).mandate("ACTIVE")
    response = revoke(ctx, mandate, auth="wrong")
    received = [response.status, response_field(response, "status"), response_field(response, "error_code")]
    expect_equal("JUSPAY-BAD-KEY-401", received, [401, "error", "access_denied"], response)
    ctx.judged("JUSPAY-SCHEMA-REVOKE-401")
    expect_status_after(ctx, "JUSPAY-BAD-KEY-401", mandate, "ACTIVE")


@pytest.mark.rules("JUSPAY-COMMAND-REQUIRED")
def test_a_request_without_command_is_refused_with_400(ctx: ScenarioContext) -> None:
    mandate = ctx.provisioner(JuspayProvisioner).mandate("ACTIVE")
    response = command(ctx, mandate, {})
    expect_equal(
        "JUSPAY-COMMAND-REQUIRED",
        [response.status, response_field(response, "error_code")],
        [400, "BAD_REQUEST"],
        response,
    )
    expect_status_after(ctx, "JUSPAY-COMMAND-REQUIRED", mandate, "ACTIVE")


@pytest.mark.rules("JUSPAY-MERCHANTID-REQUIRED")
def test_a_revoke_without_x_merchantid_is_refused(ctx: ScenarioContext) -> None:
    mandate = ctx.provisioner(JuspayProvisioner).mandate("ACTIVE")
    client = ctx.client(API)
    headers = client.headers({"x-routing-id": mandate.customer_id}, "valid")
    headers.pop("x-merchantid")
    request = client.http.build_request(
        "POST", f"{client.base_url}/mandates/{mandate.mandate_id}", data={"command": "revoke"}, headers=headers
    )
    response = client.send(request, operation="mandateCommand", phase="test")
    # The page says only "Required": any 4xx refusal conforms; the status and body are a gap.
    verdict(
        "JUSPAY-MERCHANTID-REQUIRED",
        ok=response.status is not None and 400 <= response.status < 500,
        received=response.status,
        documented="a 4xx refusal: x-merchantid is required",
        exchange=response,
    )
    observe(
        "JUSPAY-GAP-MISSING-MERCHANTID",
        received={"status": response.status, "body": response.json()},
        note="status and body of a revoke without x-merchantid; undocumented",
        exchange=response,
    )
    expect_status_after(ctx, "JUSPAY-MERCHANTID-REQUIRED", mandate, "ACTIVE")


@pytest.mark.rules("JUSPAY-RACE-ONE-SUCCESS")
def test_of_two_concurrent_revokes_exactly_one_succeeds(ctx: ScenarioContext) -> None:
    mandate = ctx.provisioner(JuspayProvisioner).mandate("ACTIVE")
    ctx.provisioner(JuspayProvisioner).fault("delay", delay_ms=25)
    responses = ctx.concurrently(lambda: revoke(ctx, mandate), lambda: revoke(ctx, mandate))
    outcomes = sorted(
        ([r.status, status_of(r) if r.status == 200 else None] for r in responses), key=lambda o: o[0] or 0
    )
    expect_equal("JUSPAY-RACE-ONE-SUCCESS", outcomes, [[200, "REVOKED"], [400, None]], responses[0])
    expect_status_after(ctx, "JUSPAY-RACE-ONE-SUCCESS", mandate, "REVOKED")
