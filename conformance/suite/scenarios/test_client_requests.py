"""JUSPAY-STATUS-BEFORE-RESEND: after a lost revoke answer the suite's client asks check_status before sending again.

A client-request rule (deviations' UNBREAKABLE list) judged on a story of its own: no other scenario loses
an answer. The other request rules are judged on the calls their APIs' scenarios send anyway
(:mod:`conformance.suite.scenarios.request_rules`).
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from conformance.context import ScenarioContext, response_field
from conformance.http.exchange import Exchange, Phase
from conformance.provisioners.juspay import JuspayProvisioner, Mandate
from conformance.suite.scenarios import juspay_steps
from conformance.suite.scenarios.request_rules import calls_of, form_field
from conformance.verdicts import verdict

pytestmark = pytest.mark.conformance
JUSPAY = "juspay"


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
    mandate = ctx.provisioner(JuspayProvisioner).mandate("ACTIVE")
    if fault is not None:
        ctx.provisioner(JuspayProvisioner).fault(fault, delay_ms=0)
    revoke_after_a_lost_answer(ctx, mandate)
    # The end state: the client's own last check_status when nothing was sent after it, else one more read.
    command, last = commands_for(ctx, mandate)[-1]
    final = last if command == "check_status" else check_status(ctx, mandate)
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
