"""Request-side rules: the suite's own client sends each request the way the page shows, and the vendor takes it.

A client-request rule is a claim about the caller. No server can break it (each is in the deviations'
UNBREAKABLE list); the client gate judges a client library's traffic by it. Here the suite is the client:
every story shows the suite's request in the documented form *and* the vendor answering it the documented
way, so a request form the vendor does not accept, or a request the suite stopped sending in that form,
is a violation. Credential values never enter a verdict: only whether the configured one was sent.
BADGE-IDENTIFIER-SUPPORTED-VALUES is judged where the suite names a customer by each identifier anyway,
in the badges scenarios (test_a_customer_named_by_the_identifier_header_has_the_earn_revoked).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import parse_qs

import pytest

from conformance.context import ScenarioContext, response_field
from conformance.http.exchange import Exchange, Phase
from conformance.provisioners.base import Mandate, ThanxJob
from conformance.suite.readbacks import Judgements
from conformance.suite.scenarios import juspay_steps
from conformance.suite.scenarios.thanx_steps import read_job
from conformance.verdicts import verdict

pytestmark = pytest.mark.conformance

THANX = "thanx"
REWARDS = "capillary-rewards"
JUSPAY = "juspay"
IMPLICIT_REVOKE_VALUE = "True"  # the only value the page's sample request shows


def calls_of(ctx: ScenarioContext, api: str) -> list[Exchange]:
    """The vendor calls of ``api`` the test made (provisioning through the control API is not a vendor call)."""
    return [ex for ex in ctx.exchanges if ex.api == api and ex.phase not in ("setup", "control")]


def header(exchange: Exchange, name: str) -> str | None:
    value = exchange.request.headers.get(name)
    return None if value is None else str(value)


def sent_as(sent: str | None, configured: str) -> str:
    """How a credential-bearing header compares with the configured credential, without its value."""
    if sent is None:
        return "absent"
    if not sent.strip():
        return "empty"
    return "the configured value" if configured and sent == configured else "another value"


# --- Thanx ------------------------------------------------------------------------------------------------


def thanx_revoke(ctx: ScenarioContext, job: ThanxJob) -> Exchange:
    return ctx.client(THANX).call(
        "POST",
        f"/partner/issuance_jobs/{job.id}/revoke",
        operation="revokeIssuanceJob",
        json={"merchant_id": job.merchant_id},
    )


def thanx_calls_accepted(ctx: ScenarioContext) -> list[Exchange]:
    """Read a completed job, revoke it (202) and read it again (200): three partner calls the vendor takes."""
    job = ctx.provisioner(THANX).thanx_job("completed")
    read_job(ctx, job)
    thanx_revoke(ctx, job)
    read_job(ctx, job)
    return calls_of(ctx, THANX)


THANX_ACCEPTED = {"revokeIssuanceJob": 202, "getIssuanceJob": 200}


def expect_thanx_header(judgements: Judgements, rule: str, exchange: Exchange, compared: str, documented: str) -> None:
    accepted = THANX_ACCEPTED.get(exchange.operation or "")
    judgements.verdict(
        rule,
        ok=compared == "the configured value" and exchange.status == accepted,
        received={"operation": exchange.operation, "sent": compared, "status": exchange.status},
        documented={"sent": documented, "status": accepted},
        exchange=exchange,
    )


def json_body_sent(judgements: Judgements, exchange: Exchange) -> None:
    media = (header(exchange, "content-type") or "").split(";")[0].strip()
    try:
        body = json.loads(exchange.request_body_text())
    except ValueError:
        body = None
    judgements.verdict(
        "THANX-CONTENT-TYPE-JSON",
        ok=media == "application/json" and isinstance(body, dict),
        received={"content-type": media, "body": exchange.request_body_text()},
        documented="Content-Type application/json with a JSON object body",
        exchange=exchange,
    )


# One story proves the four request rules of a partner call: the same three calls carry each header, and
# every rule's verdict is recorded before the first finding is raised.
@pytest.mark.rules("THANX-CLIENTID-SENT", "THANX-BEARER-AUTH", "THANX-ACCEPT-VERSION", "THANX-CONTENT-TYPE-JSON")
def test_every_partner_call_carries_the_client_id_the_bearer_token_and_accept_version(ctx: ScenarioContext) -> None:
    credentials = ctx.client(THANX).credentials
    judgements = Judgements()
    for exchange in thanx_calls_accepted(ctx):
        compared = sent_as(header(exchange, "x-clientid"), credentials.get("client_id", ""))
        expect_thanx_header(
            judgements, "THANX-CLIENTID-SENT", exchange, compared, "X-ClientId: the configured client_id"
        )
        scheme, _, credential = (header(exchange, "authorization") or "").partition(" ")
        compared = sent_as(credential if scheme == "Bearer" else None, credentials.get("access_token", ""))
        expect_thanx_header(
            judgements, "THANX-BEARER-AUTH", exchange, compared, "Authorization: Bearer the configured access_token"
        )
        judgements.equal("THANX-ACCEPT-VERSION", header(exchange, "accept-version"), "v4.0", exchange)
        if exchange.operation == "revokeIssuanceJob":
            json_body_sent(judgements, exchange)
    judgements.close()


# --- Capillary rewards -------------------------------------------------------------------------------------


@pytest.mark.rules("REWARDS-TXNID-INTEGER")
def test_the_revoke_names_the_transaction_by_an_integer_txn_id_and_is_accepted(ctx: ScenarioContext) -> None:
    provisioner = ctx.provisioner(REWARDS)
    provisioner.set_revoke_enabled(True)
    txn = provisioner.reward_txn([("ISSUED", 100)])
    response = ctx.client(REWARDS).call(
        "POST",
        "/api_gateway/rewards/core/v1/user/reward/revoke",
        operation="revokeUserReward",
        json={"txnId": txn.txn_id},
    )
    try:
        sent = json.loads(response.request_body_text()).get("txnId")
    except (ValueError, AttributeError):
        sent = None
    integer = isinstance(sent, int) and not isinstance(sent, bool)
    code = response_field(response, "status", "code")
    verdict(
        "REWARDS-TXNID-INTEGER",
        ok=integer and sent == txn.txn_id and response.status == 200 and code == 200,
        received={"txnId": sent, "type": type(sent).__name__, "status": response.status, "status.code": code},
        documented={"txnId": txn.txn_id, "type": "int", "status": 200, "status.code": 200},
        exchange=response,
    )


# --- Juspay ------------------------------------------------------------------------------------------------


def mandate_command(
    ctx: ScenarioContext, mandate: Mandate, fields: Mapping[str, str], *, phase: Phase = "test"
) -> Exchange:
    return juspay_steps.command(
        ctx, mandate.mandate_id, mandate.customer_id, fields, phase=phase, retry=phase == "readback"
    )


def revoke(ctx: ScenarioContext, mandate: Mandate) -> Exchange:
    return mandate_command(ctx, mandate, {"command": "revoke"})


def check_status(ctx: ScenarioContext, mandate: Mandate) -> Exchange:
    return mandate_command(ctx, mandate, {"command": "check_status"}, phase="readback")


def form_field(exchange: Exchange, name: str) -> str | None:
    values = parse_qs(exchange.request_body_text()).get(name)
    return values[0] if values else None


@pytest.mark.rules("JUSPAY-IMPLICIT-REVOKE-VALUE")
def test_an_implicit_revoke_is_asked_with_true_and_revokes(ctx: ScenarioContext) -> None:
    mandate = ctx.provisioner(JUSPAY).mandate("ACTIVE")
    fields = {"command": "revoke", "should_do_implicit_revoke": IMPLICIT_REVOKE_VALUE}
    response = mandate_command(ctx, mandate, fields)
    sent = form_field(response, "should_do_implicit_revoke")
    status = response_field(response, "mandate_status")
    verdict(
        "JUSPAY-IMPLICIT-REVOKE-VALUE",
        ok=sent == IMPLICIT_REVOKE_VALUE and response.status == 200 and status == "REVOKED",
        received={"should_do_implicit_revoke": sent, "status": response.status, "mandate_status": status},
        documented={"should_do_implicit_revoke": IMPLICIT_REVOKE_VALUE, "status": 200, "mandate_status": "REVOKED"},
        exchange=response,
    )


def revoke_after_a_lost_answer(ctx: ScenarioContext, mandate: Mandate) -> None:
    """The suite's client when a revoke's answer never reaches it: ask check_status, send again only if ACTIVE.

    The answer is lost on purpose, by this client not reading it: a transport timeout would leave
    nothing in a cassette to replay, and no fault of the control API withholds an answer.
    """
    revoke(ctx, mandate)  # its answer is lost: nothing below reads it
    if response_field(check_status(ctx, mandate), "mandate_status") == "ACTIVE":
        revoke(ctx, mandate)


def commands_for(ctx: ScenarioContext, mandate: Mandate) -> list[tuple[str | None, Exchange]]:
    path = f"/mandates/{mandate.mandate_id}"
    calls = [ex for ex in calls_of(ctx, JUSPAY) if ex.request.url.path.endswith(path)]
    return [(form_field(ex, "command"), ex) for ex in calls]


def story(commands: list[tuple[str | None, Exchange]]) -> list[str]:
    """Each call as `command -> status`, the first revoke's answer shown as lost (the client never read it)."""
    told = []
    for index, (command, exchange) in enumerate(commands):
        if index == 0:
            told.append(f"{command} -> (answer lost)")
        else:
            told.append(f"{command} -> {exchange.status} {response_field(exchange, 'mandate_status') or ''}".strip())
    return told


def answered_status(command: str | None, exchange: Exchange) -> bool:
    return (
        command == "check_status" and exchange.status == 200 and response_field(exchange, "mandate_status") is not None
    )


def no_blind_resend(commands: list[tuple[str | None, Exchange]]) -> bool:
    """After the lost revoke the client's next call is a check_status, and every revoke sent again follows one."""
    if len(commands) < 2 or not answered_status(*commands[1]):
        return False
    asked = False
    for command, exchange in commands[1:]:
        if command == "check_status":
            asked = asked or answered_status(command, exchange)
        elif command == "revoke":
            if not asked:
                return False
            asked = False
    return True


LOST_ANSWERS = {
    # The revoke went through: check_status reads REVOKED and nothing is sent again.
    "the-revoke-went-through": None,
    # The revoke failed at the gateway (the mandate stays ACTIVE): check_status reads ACTIVE and it is sent again.
    "the-revoke-timed-out-at-the-gateway": "gateway_timeout",
}


@pytest.mark.rules("JUSPAY-STATUS-BEFORE-RESEND")
@pytest.mark.parametrize("fault", list(LOST_ANSWERS.values()), ids=list(LOST_ANSWERS))
def test_after_a_lost_revoke_answer_the_client_reads_check_status_before_sending_again(
    ctx: ScenarioContext, fault: str | None
) -> None:
    mandate = ctx.provisioner(JUSPAY).mandate("ACTIVE")
    if fault is not None:
        ctx.provisioner(JUSPAY).fault(JUSPAY, fault, delay_ms=0)
    revoke_after_a_lost_answer(ctx, mandate)
    final = check_status(ctx, mandate)
    commands = commands_for(ctx, mandate)
    # The documented consequence: whichever revoke took effect, the mandate ends REVOKED.
    verdict(
        "JUSPAY-STATUS-BEFORE-RESEND",
        ok=no_blind_resend(commands) and final.status == 200 and response_field(final, "mandate_status") == "REVOKED",
        received=story(commands),
        documented="revoke (answer lost), then command=check_status before any revoke sent again; "
        "the mandate read back REVOKED at the end",
        exchange=final,
    )
