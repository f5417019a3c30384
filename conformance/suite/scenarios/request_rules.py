"""Request-side rules, judged on the calls a behaviour's scenario sends anyway.

A client-request rule is a claim about the caller. No server can break it (each is in the deviations'
UNBREAKABLE list); the client gate judges a client library's traffic by it. Here the suite is the client:
its scenarios send each request in the documented form, and the vendor answering it the documented way
shows the form is the one the vendor takes, so a request form the vendor does not accept, or a request the
suite stopped sending in that form, is a violation. No call is sent for a request rule alone: each is
judged on the calls of a scenario whose story needs them (a revoke and its read-back), with every verdict
recorded before the first finding is raised (:class:`conformance.suite.readbacks.Judgements`).
Credential values never enter a verdict: only whether the configured one was sent.
"""

from __future__ import annotations

import base64
import binascii
import json
from urllib.parse import parse_qs

from conformance.context import ScenarioContext, response_field
from conformance.http.exchange import Exchange
from conformance.suite.readbacks import Judgements

THANX = "thanx"
JUSPAY = "juspay"
THANX_ACCEPTED = {"revokeIssuanceJob": 202, "getIssuanceJob": 200}
THANX_RULES = ("THANX-CLIENTID-SENT", "THANX-BEARER-AUTH", "THANX-ACCEPT-VERSION", "THANX-CONTENT-TYPE-JSON")
JUSPAY_RULES = ("JUSPAY-ROUTING-ID-CONSISTENT", "JUSPAY-ROUTING-ID-SENT", "JUSPAY-FORM-ENCODED", "JUSPAY-BASIC-AUTH")
FORM = "application/x-www-form-urlencoded"
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


def expect_thanx_header(judgements: Judgements, rule: str, exchange: Exchange, compared: str, documented: str) -> None:
    accepted = THANX_ACCEPTED.get(exchange.operation or "")
    judgements.verdict(
        rule,
        ok=compared == "the configured value" and exchange.status == accepted,
        received={"operation": exchange.operation, "sent": compared, "status": exchange.status},
        documented={"sent": documented, "status": accepted},
        exchange=exchange,
    )


def expect_json_body(judgements: Judgements, exchange: Exchange) -> None:
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


def judge_thanx_calls(ctx: ScenarioContext, judgements: Judgements) -> None:
    """Every partner call of the test (a revoke the vendor took, its read-back) carries the client id, the
    bearer token and Accept-Version, and a revoke a JSON body: the four rules of THANX_RULES."""
    credentials = ctx.client(THANX).credentials
    for exchange in calls_of(ctx, THANX):
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
            expect_json_body(judgements, exchange)


# --- Capillary rewards -------------------------------------------------------------------------------------


def judge_integer_txn_id(judgements: Judgements, response: Exchange, txn_id: int) -> None:
    """REWARDS-TXNID-INTEGER: the revoke named the transaction by its txnId as a JSON integer, and was accepted."""
    try:
        sent = json.loads(response.request_body_text()).get("txnId")
    except (ValueError, AttributeError):
        sent = None
    integer = isinstance(sent, int) and not isinstance(sent, bool)
    code = response_field(response, "status", "code")
    judgements.verdict(
        "REWARDS-TXNID-INTEGER",
        ok=integer and sent == txn_id and response.status == 200 and code == 200,
        received={"txnId": sent, "type": type(sent).__name__, "status": response.status, "status.code": code},
        documented={"txnId": txn_id, "type": "int", "status": 200, "status.code": 200},
        exchange=response,
    )


# --- Juspay ------------------------------------------------------------------------------------------------


def form_field(exchange: Exchange, name: str) -> str | None:
    values = parse_qs(exchange.request_body_text()).get(name)
    return values[0] if values else None


def judge_implicit_revoke_value(judgements: Judgements, response: Exchange) -> None:
    """JUSPAY-IMPLICIT-REVOKE-VALUE: the implicit revoke was asked with the page's value, and it revoked."""
    sent = form_field(response, "should_do_implicit_revoke")
    status = response_field(response, "mandate_status")
    judgements.verdict(
        "JUSPAY-IMPLICIT-REVOKE-VALUE",
        ok=sent == IMPLICIT_REVOKE_VALUE and response.status == 200 and status == "REVOKED",
        received={"should_do_implicit_revoke": sent, "status": response.status, "mandate_status": status},
        documented={"should_do_implicit_revoke": IMPLICIT_REVOKE_VALUE, "status": 200, "mandate_status": "REVOKED"},
        exchange=response,
    )


def basic_user(exchange: Exchange) -> tuple[str, str] | None:
    value = header(exchange, "authorization") or ""
    if not value.startswith("Basic "):
        return None
    try:
        user, colon, password = base64.b64decode(value[6:], validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if colon else None


def judge_juspay_calls(ctx: ScenarioContext, judgements: Judgements, customer_id: str) -> None:
    """Every mandate call of the test is routed by the customer, form-encoded and Basic-authenticated alike
    (JUSPAY_RULES, on the requests as sent; what the target saw of the routing ids is the caller's to add)."""
    calls = calls_of(ctx, JUSPAY)
    api_key = ctx.client(JUSPAY).credentials.get("api_key")
    for exchange in calls:
        sent = header(exchange, "x-routing-id")
        judgements.verdict(
            "JUSPAY-ROUTING-ID-SENT",
            ok=bool(sent),
            received=sent,
            documented="an x-routing-id header",
            exchange=exchange,
        )
        media = (header(exchange, "content-type") or "").split(";")[0].strip()
        fields = parse_qs(exchange.request_body_text())
        judgements.verdict(
            "JUSPAY-FORM-ENCODED",
            ok=media == FORM and bool(fields.get("command")),
            received={"content-type": media, "body": exchange.request_body_text()},
            documented=f"Content-Type {FORM} with the form field command",
            exchange=exchange,
        )
        judgements.equal("JUSPAY-BASIC-AUTH", basic_user(exchange), (api_key, ""), exchange)
    routing_ids = sorted({header(ex, "x-routing-id") or "" for ex in calls})
    judgements.equal("JUSPAY-ROUTING-ID-CONSISTENT", routing_ids, [customer_id], calls[-1] if calls else None)
