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
from conformance.sandbox.core import BASE36, SandboxState
from conformance.sandbox.deviations import guard
from conformance.sandbox.thanx_jobs import REVOCABLE, Job, identifier_outcome, new_job, read, start_revoke, thanx_store
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
    return json_response({"campaign": body}, 201)


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
            if call.state.deviates("thanx-idempotency-ignores-body"):
                seen = fingerprint
            if call.state.deviates("thanx-idempotent-replay-reissues") and seen == fingerprint:
                return _issue(call)
            if seen != fingerprint:
                return thanx_error(
                    422, "UNPROCESSABLE_ENTITY", "X-Idempotency-Key was already used with a different request body."
                )
            return Response(body, status_code=status, media_type="application/json")
        try:
            response = _issue(call)
        except Problem as problem:
            return problem.response()
        if key is not None:
            store.idempotency[key] = (fingerprint, response.status_code, bytes(response.body))
        return response


def _issue(call: Call) -> Response:
    unlimited = call.state.deviates("thanx-identifier-limit-unenforced")
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
    return json_response({"issuance_job": job.as_json(summary=False)}, 202)


def get_job(call: Call) -> Response:
    with call.tenant.lock:
        try:
            merchant_id = call.query.get("merchant_id")
            store = thanx_store(call.tenant)
            job = store.jobs.get(call.path_params["id"])
            if not merchant_id and job is not None and call.state.deviates("thanx-get-merchant-inferred"):
                merchant_id = job.merchant_id
            if not merchant_id:
                raise Problem(400, "BAD_REQUEST", "merchant_id is required")
            if job is None or job.merchant_id != merchant_id:
                raise NOT_FOUND
        except Problem as problem:
            return problem.response()
        read(call.tenant, store, job, call.state)
        return json_response({"issuance_job": job.as_json(summary=True)})


def revoke_job(call: Call) -> Response:
    tenant = call.tenant
    try:
        payload = parse_json_object(call.body)
    except BadBody as exc:
        return thanx_error(400, "BAD_REQUEST", str(exc))
    merchant_id = payload.get("merchant_id")
    dev = call.state.deviates
    job = thanx_store(tenant).jobs.get(call.path_params["id"])
    if not merchant_id and job is not None and dev("thanx-revoke-merchant-inferred"):
        merchant_id = job.merchant_id
    if not isinstance(merchant_id, str) or not merchant_id:
        return thanx_error(400, "BAD_REQUEST", "merchant_id is required")
    with guard(call.state, tenant, "thanx-race-unlocked"):
        delay = take_delay(tenant, API)
        if job is None and dev("thanx-unknown-job-code"):
            return thanx_error(404, "NOT_FOUND", "No issuance job with this id.")
        if job is not None and job.merchant_id != merchant_id and dev("thanx-other-merchant-403"):
            return thanx_error(403, "FORBIDDEN", "The issuance job belongs to another merchant.")
        if job is None or job.merchant_id != merchant_id:
            return NOT_FOUND.response()
        if job.state not in revocable_states(call.state, job):
            message = f"Issuance job is {job.state}; only completed or failed jobs can be revoked."
            return thanx_error(422, "UNPROCESSABLE_ENTITY", message)
        sleep_ms(delay)
        before = job.as_json(summary=False)
        status = 200 if job.state == "completed" and dev("thanx-completed-revoke-200") else 202
        start_revoke(tenant, job)
        if dev("thanx-revoke-touches-completed-at"):
            job.completed_at = tenant.now_iso()
        return json_response(
            {"issuance_job": before if dev("thanx-202-shows-old-state") else job.as_json(summary=False)}, status
        )


def revocable_states(state: SandboxState, job: Job) -> tuple[str, ...]:
    """REVOCABLE, as a precondition deviation changes it for ``job``."""
    extra = {
        "pending": "thanx-pending-revocable",
        "processing": "thanx-processing-revocable",
        "revoking": "thanx-revoking-revocable",
        "revoked": "thanx-revoked-revocable",
    }
    states = REVOCABLE + tuple(name for name, deviation in extra.items() if state.deviates(deviation))
    blocked = "thanx-zero-success-422" if job.success == 0 else "thanx-partly-failed-job-422"
    return tuple(name for name in states if not (name == "failed" and state.deviates(blocked)))


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
