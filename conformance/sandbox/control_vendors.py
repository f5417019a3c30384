"""Control routes that put each vendor's resources into a chosen state and read them back.

They reach states the vendor APIs cannot (an inactive earn, a failed Thanx job, a PAUSED mandate),
which is what precondition and negative tests need. Creating routes answer 201.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, StrictStr
from starlette.responses import Response
from starlette.routing import Route

from conformance.sandbox.capillary import Customer, IdentifierTaken, create_customer, default_customer, org
from conformance.sandbox.capillary_badges import BadgesStore, create_earn, earn_state
from conformance.sandbox.capillary_points import PointsStore, Redemption, create_redemption
from conformance.sandbox.capillary_rewards import RewardsStore, create_transaction
from conformance.sandbox.control import ControlError, Strict, control_route, parse_body
from conformance.sandbox.core import BASE36, SandboxState, TenantState
from conformance.sandbox.juspay import JuspayStore, create_mandate, mandate_state
from conformance.sandbox.thanx_jobs import FINISHED, Job, advance, new_job, revoke_reads, thanx_store
from conformance.sandbox.web import Call, json_response, number, to_milli


class CustomerBody(Strict):
    mobile: StrictStr | None = Field(None, min_length=1)
    email: StrictStr | None = Field(None, min_length=1)
    externalId: StrictStr | None = Field(None, min_length=1)
    cardNumber: StrictStr | None = Field(None, min_length=1)


class EarnBody(Strict):
    customerId: int | None = None
    badgeMetaId: StrictStr | None = Field(None, min_length=1)
    active: bool = True


class RedemptionBody(Strict):
    customerId: int | None = None
    points: Decimal = Field(gt=0, max_digits=15, decimal_places=3)
    expiredPoints: Decimal = Field(Decimal(0), ge=0, max_digits=15, decimal_places=3)
    programReversalEnabled: bool = True
    customerEligible: bool = True
    customerLocked: bool = False
    reversalLimit: int | None = Field(None, ge=0)


class FlagsBody(Strict):
    REVOKE_ENABLE: bool


class RewardSpec(Strict):
    state: Literal["ISSUED", "REDEEMED", "CANCELLED"] = "ISSUED"
    points: Decimal = Field(Decimal(0), ge=0, max_digits=15, decimal_places=3)


class TransactionBody(Strict):
    customerId: int | None = None
    rewards: list[RewardSpec] = Field(default_factory=lambda: [RewardSpec(points=Decimal(100))])


class JobBody(Strict):
    state: Literal["pending", "processing", "completed", "failed", "revoking", "revoked"]
    merchant_id: StrictStr | None = None
    total_count: int | None = Field(None, ge=0, le=10_000)
    success_count: int | None = Field(None, ge=0)
    failure_count: int | None = Field(None, ge=0)


class CampaignBody(Strict):
    merchant_id: StrictStr | None = None
    name: StrictStr = Field("Conformance campaign", min_length=1)


class SettingsBody(Strict):
    revoke_completes_after_reads: int | None = Field(None, ge=0, le=1000)
    revoke_delay_ms: int | None = Field(None, ge=0, le=600_000)


class MandateBody(Strict):
    status: Literal["CREATED", "ACTIVE", "PAUSED", "REVOKED", "FAILURE", "EXPIRED", "PENDING"]
    customer_id: StrictStr | None = Field(None, min_length=1)


def customer_for(tenant: TenantState, customer_id: int | None) -> Customer:
    customer = default_customer(tenant, customer_id)
    if customer is None:
        raise ControlError(
            404, f"unknown customerId {customer_id}", "a customerId from POST /_sandbox/capillary/customers, or none"
        )
    return customer


def redemption_state(redemption: Redemption) -> dict[str, object]:
    return {
        "redemptionId": redemption.redemption_id,
        "customerId": redemption.customer_id,
        "points": number(redemption.points),
        "expiredPoints": number(redemption.expired),
        "programReversalEnabled": redemption.program_reversal_enabled,
        "customerEligible": redemption.customer_eligible,
        "customerLocked": redemption.customer_locked,
        "reversalLimit": redemption.reversal_limit,
        "reversals": [reversal.as_json() for reversal in redemption.reversals],
        "reversedTotal": number(redemption.reversed_total),
        "remaining": number(redemption.remaining),
    }


def job_counts(body: JobBody) -> tuple[int, int, int]:
    """(total, successes, failures) consistent with the state; refuses combinations that cannot be."""
    given_s, given_f = body.success_count, body.failure_count
    if body.state == "pending":
        total, success, failure = (2 if body.total_count is None else body.total_count), given_s or 0, given_f or 0
        if success or failure:
            raise ControlError(422, "a pending job has processed nothing", {"success_count": 0, "failure_count": 0})
        return total, 0, 0
    if body.state == "processing":
        total = 2 if body.total_count is None else body.total_count
        success = total // 2 if given_s is None else given_s
        return total, success, 0 if given_f is None else given_f
    known = (given_s or 0) + (given_f or 0)
    total = (
        body.total_count
        if body.total_count is not None
        else (known if given_s is not None or given_f is not None else 2)
    )
    if given_s is None and given_f is None:
        success = 0 if body.state == "failed" else total
        return total, success, total - success
    success = total - (given_f or 0) if given_s is None else given_s
    failure = total - success if given_f is None else given_f
    if success + failure != total:
        raise ControlError(
            422, "a finished job has success_count + failure_count == total_count", {"total_count": total}
        )
    return total, success, failure


def create_job(tenant: TenantState, body: JobBody) -> Job:
    with tenant.lock:
        store = thanx_store(tenant)
        merchants = [merchant["id"] for merchant in store.merchants]
        merchant_id = body.merchant_id or merchants[0]
        if merchant_id not in merchants:
            raise ControlError(422, f"unknown merchant_id {merchant_id}", merchants)
        total, success, failure = job_counts(body)
        if success + failure > total:
            raise ControlError(422, "success_count + failure_count exceeds total_count", {"total_count": total})
        outcomes: list[str | None] = (
            [None] * success + ["User not found"] * failure + [None] * (total - success - failure)
        )
        campaign_id = tenant.new_id("thanx-campaign", BASE36, 6, "camp_")
        variant_id = tenant.new_id("thanx-variant", BASE36, 6, "var_")
        job = new_job(tenant, merchant_id, campaign_id, variant_id, outcomes, ["email"] * total, auto=False)
        job.state = body.state
        if body.state != "pending":
            job.started_at = tenant.now_iso()
            job.processed = success + failure
        if body.state in FINISHED:
            job.completed_at = tenant.now_iso()
        return job


def create_campaign(tenant: TenantState, body: CampaignBody) -> dict[str, object]:
    """An active campaign with one rewarded variant, as the vendor's createCampaign would store it."""
    store = thanx_store(tenant)
    merchants = [merchant["id"] for merchant in store.merchants]
    merchant_id = body.merchant_id or merchants[0]
    if merchant_id not in merchants:
        raise ControlError(422, f"merchant_id: unknown merchant {merchant_id}", merchants)
    template = next(item for item in store.templates if item["merchant_id"] == merchant_id)
    campaign: dict[str, object] = {
        "id": tenant.new_id("thanx-campaign", BASE36, 6, "camp_"),
        "merchant_id": merchant_id,
        "name": body.name,
        "objective": None,
        "fine_print": None,
        "start_at": "2026-01-01T00:00:00Z",
        "end_at": "2036-01-01T00:00:00Z",
        "redeemable_from": "2026-01-01T00:00:00Z",
        "redeemable_to": "2036-01-01T00:00:00Z",
        "state": "active",
        "variants": [
            {
                "id": tenant.new_id("thanx-variant", BASE36, 6, "var_"),
                "name": "Treatment",
                "reward_template_id": template["id"],
            }
        ],
        "created_at": tenant.now_iso(),
    }
    store.campaigns[str(campaign["id"])] = campaign
    return campaign


def job_state(job: Job) -> dict[str, object]:
    return {
        "issuance_job": job.as_json(summary=True),
        "merchant_id": job.merchant_id,
        "fixed_state": not job.auto,
        "revoke_requests": [dict(item) for item in job.revoke_requests],
    }


def capillary_routes(state: SandboxState) -> list[Route]:
    def customers(call: Call) -> Response:
        body = parse_body(CustomerBody, call)
        try:
            customer = create_customer(call.tenant, body.model_dump())
        except IdentifierTaken as exc:
            raise ControlError(422, str(exc), "an identifier no other customer of this tenant has") from exc
        return json_response(customer.identifiers(), 201)

    def read_customer(call: Call) -> Response:
        with call.tenant.lock:
            raw = call.path_params["customerId"]
            customer = org(call.tenant).customers.get(int(raw)) if raw.isdecimal() and len(raw) < 20 else None
            if customer is None:
                raise ControlError(404, "unknown customerId", "a customerId from POST /_sandbox/capillary/customers")
            points = {"available": number(customer.points_available), "expired": number(customer.points_expired)}
            return json_response({**customer.identifiers(), "points": points})

    def create_earn_route(call: Call) -> Response:
        body = parse_body(EarnBody, call)
        with call.tenant.lock:
            customer = customer_for(call.tenant, body.customerId)
            earn = create_earn(call.tenant, customer, body.badgeMetaId, None)
            earn.is_active = body.active
        return json_response({**earn_state(earn), "customer": customer.identifiers()}, 201)

    def read_earn(call: Call) -> Response:
        earn = call.tenant.store(BadgesStore).earns.get(call.path_params["earnedBadgeId"])
        if earn is None:
            raise ControlError(404, "unknown earnedBadgeId", "an earnedBadgeId returned by an earn")
        return json_response(earn_state(earn))

    def create_redemption_route(call: Call) -> Response:
        body = parse_body(RedemptionBody, call)
        if body.expiredPoints > body.points:
            raise ControlError(422, "expiredPoints exceeds points", {"maximum": number(to_milli(body.points))})
        with call.tenant.lock:
            customer = customer_for(call.tenant, body.customerId)
            redemption = create_redemption(
                call.tenant,
                customer,
                to_milli(body.points),
                to_milli(body.expiredPoints),
                program_reversal_enabled=body.programReversalEnabled,
                customer_eligible=body.customerEligible,
                customer_locked=body.customerLocked,
                reversal_limit=body.reversalLimit,
            )
            listing = redemption_state(redemption)
        return json_response({**listing, "customer": customer.identifiers()}, 201)

    def read_redemption(call: Call) -> Response:
        with call.tenant.lock:
            redemption = call.tenant.store(PointsStore).redemptions.get(call.path_params["redemptionId"])
            if redemption is None:
                raise ControlError(404, "unknown redemptionId", "a redemptionId returned by a redemption")
            return json_response(redemption_state(redemption))

    def flags(call: Call) -> Response:
        body = parse_body(FlagsBody, call)
        with call.tenant.lock:
            call.tenant.store(RewardsStore).set_revoke_enabled(body.REVOKE_ENABLE)
        return json_response({"REVOKE_ENABLE": body.REVOKE_ENABLE})

    def create_transaction_route(call: Call) -> Response:
        body = parse_body(TransactionBody, call)
        with call.tenant.lock:
            customer = customer_for(call.tenant, body.customerId)
            rewards = [(spec.state, to_milli(spec.points)) for spec in body.rewards]
            txn = create_transaction(call.tenant, customer, rewards)
            created = txn.state_json()
        return json_response({key: created[key] for key in ("txnId", "customerId", "userRewards")}, 201)

    def transaction(call: Call, *, reverse_redeem: bool = False) -> Response:
        raw = call.path_params["txnId"]
        with call.tenant.lock:
            txn = (
                call.tenant.store(RewardsStore).transactions.get(int(raw))
                if raw.isdecimal() and len(raw) < 20
                else None
            )
            if txn is None:
                raise ControlError(
                    404, f"unknown txnId {raw}", "a txnId from POST /_sandbox/capillary/rewards/transactions"
                )
            if reverse_redeem:
                redeemed = [reward for reward in txn.user_rewards if reward.state == "REDEEMED"]
                if not redeemed:
                    raise ControlError(422, "the transaction has no REDEEMED user reward", ["REDEEMED"])
                for reward in redeemed:
                    reward.state, reward.reverse_redeemed = "ISSUED", True
            return json_response(txn.state_json())

    base = "/capillary"
    return [
        control_route(state, f"{base}/customers", customers, "POST"),
        control_route(state, base + "/customers/{customerId}", read_customer, "GET"),
        control_route(state, f"{base}/badges/earns", create_earn_route, "POST"),
        control_route(state, base + "/badges/earns/{earnedBadgeId}", read_earn, "GET"),
        control_route(state, f"{base}/points/redemptions", create_redemption_route, "POST"),
        control_route(state, base + "/points/redemptions/{redemptionId}", read_redemption, "GET"),
        control_route(state, f"{base}/rewards/flags", flags, "PUT"),
        control_route(state, f"{base}/rewards/transactions", create_transaction_route, "POST"),
        control_route(state, base + "/rewards/transactions/{txnId}", transaction, "GET"),
        control_route(
            state,
            base + "/rewards/transactions/{txnId}/reverse-redeem",
            lambda call: transaction(call, reverse_redeem=True),
            "POST",
        ),
    ]


def thanx_juspay_routes(state: SandboxState) -> list[Route]:
    def find_job(call: Call) -> Job:
        job = thanx_store(call.tenant).jobs.get(call.path_params["id"])
        if job is None:
            raise ControlError(404, f"unknown issuance job {call.path_params['id']}", "an issuance job id")
        return job

    def create_job_route(call: Call) -> Response:
        job = create_job(call.tenant, parse_body(JobBody, call))
        return json_response({"issuance_job": job.as_json(summary=False), "merchant_id": job.merchant_id}, 201)

    def create_campaign_route(call: Call) -> Response:
        body = parse_body(CampaignBody, call)
        with call.tenant.lock:
            campaign = create_campaign(call.tenant, body)
        variant = campaign["variants"][0]  # type: ignore[index]
        ids = {"merchant_id": campaign["merchant_id"], "campaign_id": campaign["id"], "variant_id": variant["id"]}
        return json_response({**ids, "campaign": campaign}, 201)

    def read_job(call: Call) -> Response:
        with call.tenant.lock:
            return json_response(job_state(find_job(call)))

    def advance_job(call: Call) -> Response:
        with call.tenant.lock:
            job = find_job(call)
            advance(call.state, call.tenant, job)
            return json_response(job_state(job))

    def settings(call: Call) -> Response:
        body = parse_body(SettingsBody, call)
        with call.tenant.lock:
            store = thanx_store(call.tenant)
            if body.revoke_completes_after_reads is not None:
                store.revoke_completes_after_reads = body.revoke_completes_after_reads
            if body.revoke_delay_ms is not None:
                store.revoke_delay_ms = body.revoke_delay_ms
            current = {
                "revoke_completes_after_reads": revoke_reads(call.state)
                if store.revoke_completes_after_reads is None
                else store.revoke_completes_after_reads,
                "revoke_delay_ms": store.revoke_delay_ms,
            }
        return json_response(current)

    def create_mandate_route(call: Call) -> Response:
        body = parse_body(MandateBody, call)
        return json_response(create_mandate(call.tenant, body.status, body.customer_id).as_json(), 201)

    def read_mandate(call: Call) -> Response:
        with call.tenant.lock:
            mandate = call.tenant.store(JuspayStore).mandates.get(call.path_params["id"])
            if mandate is None:
                raise ControlError(
                    404, f"unknown mandate {call.path_params['id']}", "a mandate_id from POST /_sandbox/juspay/mandates"
                )
            return json_response(mandate_state(mandate))

    return [
        control_route(state, "/thanx/campaigns", create_campaign_route, "POST"),
        control_route(state, "/thanx/issuance_jobs", create_job_route, "POST"),
        control_route(state, "/thanx/issuance_jobs/{id}", read_job, "GET"),
        control_route(state, "/thanx/issuance_jobs/{id}/advance", advance_job, "POST"),
        control_route(state, "/thanx/settings", settings, "PUT"),
        control_route(state, "/juspay/mandates", create_mandate_route, "POST"),
        control_route(state, "/juspay/mandates/{id}", read_mandate, "GET"),
    ]
