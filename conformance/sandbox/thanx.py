"""Thanx Partner API v4.0: merchants, reward templates, campaigns, issue, issuance jobs, revoke.

Errors use the Consumer API's documented body ``{"error": {"code", "message"}}``. Gap decisions:

* Revoke of a job that is pending, processing, revoking or revoked → 422 code UNPROCESSABLE_ENTITY
  (the page gives the status, not the body).
* Missing ``merchant_id`` (revoke body, job GET query, listings) or any other malformed or invalid
  request body → 400 BAD_REQUEST.
* Unknown job, or a job of another merchant → 404 RESOURCE_NOT_FOUND; the same for unknown
  merchants, campaigns and variants.
* Bad or missing bearer token or ``X-ClientId`` → 401 AUTHENTICATION_GENERIC; a valid token without
  ``rewards.issue`` → 403 FORBIDDEN on the issuance endpoints (issue, job GET, revoke) only;
  ``Accept-Version`` other than v4.0 → 400 BAD_REQUEST ("undefined behaviour" on the page).
* Injected ``rate_limit``/``server_error`` faults → 429/5xx with code GENERIC_ERROR.
* ``X-Idempotency-Key`` is per tenant and remembers accepted (2xx) issues only, so a refused
  request can be corrected and retried with its key; bodies compare as parsed JSON.
* An identifier fails with "User not found" when its value contains "unknown", an email has no
  "@" or a phone no digit; a job with identifiers whose every delivery failed ends ``failed``.
* Campaign creation answers 201.
"""

from __future__ import annotations

import json
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError
from starlette.responses import Response
from starlette.routing import Route

from conformance.sandbox.auth import SandboxCredentials, thanx_error, thanx_gate
from conformance.sandbox.core import BASE36, SandboxState, TenantState
from conformance.sandbox.decide import lock_point, point
from conformance.sandbox.thanx_jobs import (
    REVOCABLE,
    Job,
    identifier_outcome,
    new_job,
    read,
    render_job,
    start_revoke,
    thanx_store,
)
from conformance.sandbox.web import (
    BadBody,
    Call,
    fault_gate,
    json_response,
    parse_json_object,
    route,
    sleep_ms,
    take_delay,
)

API = "thanx"

M = TypeVar("M", bound=BaseModel)


class Identifier(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["email", "phone"]
    value: StrictStr = Field(min_length=1)


class IssueBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    campaign_id: StrictStr
    merchant_id: StrictStr
    variant_id: StrictStr
    identifiers: list[Identifier] = Field(min_length=1, max_length=10_000)


class UnlimitedIssueBody(IssueBody):
    """IssueBody without the 10,000 identifiers limit (thanx-identifier-limit-unenforced)."""

    identifiers: list[Identifier] = Field(min_length=1)


class Variant(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: StrictStr = Field(min_length=1)
    reward_template_id: StrictStr | None = None


class Campaign(BaseModel):
    model_config = ConfigDict(extra="ignore")

    merchant_id: StrictStr
    name: StrictStr = Field(min_length=1)
    objective: StrictStr | None = None
    fine_print: StrictStr | None = None
    start_at: StrictStr
    end_at: StrictStr
    redeemable_from: StrictStr
    redeemable_to: StrictStr
    variants: list[Variant] = Field(min_length=1, max_length=4)


class CampaignBody(BaseModel):
    campaign: Campaign


class Problem(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> Response:
        return thanx_error(self.status, self.code, self.message)


NOT_FOUND = Problem(404, "RESOURCE_NOT_FOUND", "The resource you requested was not found.")


def parse_model(model: type[M], raw: bytes) -> M:
    try:
        return model.model_validate(parse_json_object(raw))
    except BadBody as exc:
        raise Problem(400, "BAD_REQUEST", str(exc)) from exc
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "body"
        message = f"{where} is required" if error["type"] == "missing" else f"{where}: {error['msg']}"
        raise Problem(400, "BAD_REQUEST", message) from exc


def merchant_query(call: Call) -> str:
    merchant_id = call.query.get("merchant_id")
    if not merchant_id:
        raise Problem(400, "BAD_REQUEST", "merchant_id is required")
    if not any(merchant["id"] == merchant_id for merchant in thanx_store(call.tenant).merchants):
        raise NOT_FOUND
    return merchant_id


def merchants(call: Call) -> Response:
    return json_response({"merchants": [dict(merchant) for merchant in thanx_store(call.tenant).merchants]})


def reward_templates(call: Call) -> Response:
    try:
        merchant_id = merchant_query(call)
        page, per_page = call.query.get("page", "1"), call.query.get("per_page", "25")
        if not (
            page.isdecimal()
            and per_page.isdecimal()
            and len(page + per_page) < 12
            and int(page) >= 1
            and 1 <= int(per_page) <= 100
        ):
            raise Problem(400, "BAD_REQUEST", "page must be >= 1 and per_page between 1 and 100")
    except Problem as problem:
        return problem.response()
    templates = [dict(item) for item in thanx_store(call.tenant).templates if item["merchant_id"] == merchant_id]
    size, number = int(per_page), int(page)
    chunk = templates[(number - 1) * size : number * size]
    pages = max(1, -(-len(templates) // size))
    return json_response({"reward_templates": chunk, "pagination": {"current_page": number, "total_pages": pages}})


def create_campaign(call: Call) -> Response:
    tenant = call.tenant
    try:
        campaign = parse_model(CampaignBody, call.body).campaign
        with tenant.lock:
            store = thanx_store(tenant)
            if not any(merchant["id"] == campaign.merchant_id for merchant in store.merchants):
                raise NOT_FOUND
            known = {item["id"] for item in store.templates if item["merchant_id"] == campaign.merchant_id}
            for variant in campaign.variants:
                if variant.reward_template_id is None and variant.name != "Control":
                    raise Problem(400, "BAD_REQUEST", "reward_template_id is required except for the Control variant")
                if variant.reward_template_id is not None and variant.reward_template_id not in known:
                    raise Problem(400, "BAD_REQUEST", f"unknown reward_template_id {variant.reward_template_id}")
            body: dict[str, object] = {
                "id": tenant.new_id("thanx-campaign", BASE36, 6, "camp_"),
                **campaign.model_dump(exclude={"variants"}),
                "state": "active",
                "variants": [
                    {"id": tenant.new_id("thanx-variant", BASE36, 6, "var_"), **variant.model_dump()}
                    for variant in campaign.variants
                ],
                "created_at": tenant.now_iso(),
            }
            store.campaigns[str(body["id"])] = body
    except Problem as problem:
        return problem.response()
    return campaign_created(call.state, body)


def list_campaigns(call: Call) -> Response:
    try:
        merchant_id = merchant_query(call)
    except Problem as problem:
        return problem.response()
    found = [item for item in thanx_store(call.tenant).campaigns.values() if item["merchant_id"] == merchant_id]
    return json_response({"campaigns": found})


def get_campaign(call: Call) -> Response:
    campaign = thanx_store(call.tenant).campaigns.get(call.path_params["id"])
    wanted = call.query.get("merchant_id")
    if campaign is None or (wanted is not None and campaign["merchant_id"] != wanted):
        return NOT_FOUND.response()
    return json_response({"campaign": campaign})


# Decision points of the issuance endpoints, in the order the handlers meet them.
LOCK = lock_point("thanx.lock")


@point("thanx.same-request")
def same_request(seen: bytes, fingerprint: bytes) -> bool:
    """A reused X-Idempotency-Key is the same request only with the same body."""
    return seen == fingerprint


@point("thanx.replays")
def replays() -> bool:
    """A repeat with the same key and body replays the first answer instead of issuing again."""
    return True


@point("thanx.idempotency-conflict", gap="THANX-GAP-ISSUE-422-BODY")
def idempotency_conflict() -> Response:
    return thanx_error(422, "UNPROCESSABLE_ENTITY", "X-Idempotency-Key was already used with a different request body.")


@point("thanx.identifier-limit")
def identifier_limit() -> int | None:
    return 10_000


@point("thanx.get-merchant")
def get_merchant(sent: str | None, job: Job | None) -> str | None:
    """getIssuanceJob needs the merchant_id query parameter."""
    return sent


@point("thanx.revoke-merchant")
def revoke_merchant(sent: object, job: Job | None) -> object:
    """The revoke body needs merchant_id."""
    return sent


@point("thanx.missing-merchant", gap="THANX-GAP-MISSING-MERCHANT-ID")
def missing_merchant() -> Response:
    return thanx_error(400, "BAD_REQUEST", "merchant_id is required")


@point("thanx.not-found", gap="THANX-GAP-OTHER-MERCHANT-JOB")
def not_found(job: Job | None) -> Response:
    """An unknown job and another merchant's job get the same 404: nothing reveals that it exists."""
    return NOT_FOUND.response()


@point("thanx.revocable")
def revocable(job: Job) -> tuple[str, ...]:
    """Only completed or failed jobs can be revoked (a failed job even when it issued nothing)."""
    return REVOCABLE


@point("thanx.not-revocable", gap="THANX-GAP-422-BODY")
def not_revocable(job: Job) -> Response:
    message = f"Issuance job is {job.state}; only completed or failed jobs can be revoked."
    return thanx_error(422, "UNPROCESSABLE_ENTITY", message)


@point("thanx.revoke-status")
def revoke_status(job: Job) -> int:
    return 202


@point("thanx.after-revoke")
def after_revoke(tenant: TenantState, job: Job) -> None:
    """A revoke changes only the state: counters and timestamps stay (THANX-GAP-COUNTERS-ON-REVOKE)."""


@point("thanx.revoke-answer")
def revoke_answer(before: dict[str, object], after: dict[str, object]) -> dict[str, object]:
    """The 202 shows the job as the revoke left it (revoking)."""
    return after


@point("thanx.campaign-created", gap="THANX-GAP-SETUP-RESPONSES")
def campaign_created(body: dict[str, object]) -> Response:
    return json_response({"campaign": body}, 201)


def issue(call: Call) -> Response:
    key = call.headers.get("x-idempotency-key")
    try:
        fingerprint = json.dumps(json.loads(call.body), sort_keys=True).encode() if call.body else b""
    except ValueError:
        fingerprint = call.body
    with call.tenant.lock:
        store = thanx_store(call.tenant)
        if key is not None and key in store.idempotency:
            seen, status, body = store.idempotency[key]
            if not same_request(call.state, seen, fingerprint):
                return idempotency_conflict(call.state)
            if not replays(call.state):
                return _issue(call)
            return Response(body, status_code=status, media_type="application/json")
        try:
            response = _issue(call)
        except Problem as problem:
            return problem.response()
        if key is not None:
            store.idempotency[key] = (fingerprint, response.status_code, bytes(response.body))
        return response


def _issue(call: Call) -> Response:
    unlimited = identifier_limit(call.state) is None
    body = parse_model(UnlimitedIssueBody if unlimited else IssueBody, call.body)
    store = thanx_store(call.tenant)
    campaign = store.campaigns.get(body.campaign_id)
    if campaign is None or campaign["merchant_id"] != body.merchant_id:
        raise NOT_FOUND
    variants: Any = campaign["variants"]
    if not any(variant["id"] == body.variant_id for variant in variants):
        raise NOT_FOUND
    outcomes = [identifier_outcome(item.type, item.value) for item in body.identifiers]
    types: list[str] = [item.type for item in body.identifiers]
    job = new_job(call.tenant, body.merchant_id, body.campaign_id, body.variant_id, outcomes, types, auto=True)
    return json_response({"issuance_job": render_job(call.state, job, False)}, 202)


def get_job(call: Call) -> Response:
    with call.tenant.lock:
        try:
            store = thanx_store(call.tenant)
            job = store.jobs.get(call.path_params["id"])
            merchant_id = get_merchant(call.state, call.query.get("merchant_id"), job)
            if not merchant_id:
                raise Problem(400, "BAD_REQUEST", "merchant_id is required")
        except Problem as problem:
            return problem.response()
        if job is None or job.merchant_id != merchant_id:
            return not_found(call.state, job)
        read(call.state, call.tenant, store, job)
        return json_response({"issuance_job": render_job(call.state, job, True)})


def revoke_job(call: Call) -> Response:
    tenant = call.tenant
    try:
        payload = parse_json_object(call.body)
    except BadBody as exc:
        return thanx_error(400, "BAD_REQUEST", str(exc))
    state = call.state
    job = thanx_store(tenant).jobs.get(call.path_params["id"])
    merchant_id = revoke_merchant(state, payload.get("merchant_id"), job)
    if not isinstance(merchant_id, str) or not merchant_id:
        return missing_merchant(state)
    with LOCK(state, tenant):
        delay = take_delay(tenant, API)
        if job is None or job.merchant_id != merchant_id:
            return not_found(state, job)
        if job.state not in revocable(state, job):
            return not_revocable(state, job)
        sleep_ms(delay)
        before = render_job(state, job, False)
        status = revoke_status(state, job)
        start_revoke(tenant, job)
        after_revoke(state, tenant, job)
        return json_response({"issuance_job": revoke_answer(state, before, render_job(state, job, False))}, status)


def routes(state: SandboxState, creds: SandboxCredentials) -> list[Route]:
    def shape(status: int, message: str) -> dict[str, Any]:
        return {"error": {"code": "GENERIC_ERROR", "message": message}}

    def campaigns(call: Call) -> Response:
        return create_campaign(call) if call.method == "POST" else list_campaigns(call)

    plain = (thanx_gate(creds, scope_required=False), fault_gate(API, shape))
    scoped = (thanx_gate(creds, scope_required=True), fault_gate(API, shape))
    return [
        route(state, "/partner/merchants", merchants, methods=["GET"], gates=plain),
        route(state, "/partner/reward_templates", reward_templates, methods=["GET"], gates=plain),
        route(state, "/partner/campaigns/issue", issue, methods=["POST"], gates=scoped),
        # One route for both methods, so a 405 on the path lists both in its Allow header.
        route(state, "/partner/campaigns", campaigns, methods=["GET", "POST"], gates=plain),
        route(state, "/partner/campaigns/{id}", get_campaign, methods=["GET"], gates=plain),
        route(state, "/partner/issuance_jobs/{id}", get_job, methods=["GET"], gates=scoped),
        route(state, "/partner/issuance_jobs/{id}/revoke", revoke_job, methods=["POST"], gates=scoped),
    ]
