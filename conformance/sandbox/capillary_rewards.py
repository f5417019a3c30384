"""Capillary Rewards core: issue a reward, read a transaction back, brand config, revoke.

The revoke page says "HTTP 200 in all cases"; every outcome of the *endpoint* is therefore HTTP 200
with the verdict in ``status.code``. Gap decisions:

* Missing or wrong credentials → HTTP 401 ``{"status": {"success": false, "code": 401, "message"}}``:
  the API gateway authenticates before the rewards service runs, so the service's always-200 promise
  never gets the chance to apply; the status envelope keeps clients' parsing uniform.
* Injected ``rate_limit``/``server_error`` faults are gateway answers too: HTTP 429/5xx, same envelope.
* A non-integer ``txnId`` (string, fraction, boolean) → code 400 "txnId must be an integer"; a
  malformed JSON body → code 400 "Malformed JSON request"; an unparsable ``revokedEventDateTime``
  → code 400. All HTTP 200, ``txnId`` echoed only when it is an integer.
* Order of checks: body validation (400), REVOKE_ENABLE (13005), lookup (10007), no user rewards
  (10008), any reward not ISSUED (13003), the single points reversal (1018), success.
* Every revoke that reaches an existing transaction (past 13005) is recorded as an attempt ``{at, code}``.
* The reward catalogue is not modelled: any integer ``rewardId`` can be issued and costs 100 points;
  a repeated issue ``requestId`` replays the original transaction; an unknown customer gives code 8015.
* REVOKE_ENABLE is an org flag (per tenant); setting it through any ``brandId`` sets it for the org.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from conformance.sandbox.auth import SandboxCredentials, capillary_credentials, capillary_gate
from conformance.sandbox.capillary import Customer, find_customer
from conformance.sandbox.core import SandboxState, TenantState
from conformance.sandbox.decide import lock_point, point
from conformance.sandbox.web import (
    BadBody,
    Call,
    fault_gate,
    json_response,
    number,
    parse_json_object,
    route,
    sleep_ms,
    take_delay,
)

API = "capillary-rewards"
PREFIX = "/api_gateway/rewards/core/v1"
ISSUE_POINTS = 100_000  # thousandths: 100 points per issued reward
MESSAGES = {
    200: "Reward revoked successfully",
    400: "must not be null",
    1018: "Failed to reverse points",
    10007: "Transaction not found",
    10008: "User reward not found",
    13003: "Transaction is not in the required state for this operation",
    13005: "Revoke feature is not enabled for this brand",
}
CONFIG_KEYS = (
    "REVOKE_ENABLE",
    "CONF_START_OF_THE_WEEK_FOR_ORG_RESTRICTION",
    "CONF_SEND_REWARD_EXPIRY_NOTIFICATION_ENABLED",
    "CONF_SEND_EXPIRY_NOTIFICATION_FOR_REWARD_TIME",
    "CONF_EXT_POINTS_VENDOR",
    "CONF_ENABLE_FEATURE_CATALOG_PROMOTION",
    "CONF_CATALOG_PROMOTION_BUFFER_END_TIME_MINUTES",
    "CONF_ENABLE_ORG_TIMEZONE",
)
STATES = ("ISSUED", "REDEEMED", "CANCELLED")


@dataclass
class UserReward:
    user_reward_id: int
    reward_id: int | None
    state: str
    points: int
    reverse_redeemed: bool = False

    def as_json(self) -> dict[str, object]:
        return {
            "userRewardId": self.user_reward_id,
            "rewardId": self.reward_id,
            "state": self.state,
            "points": number(self.points),
        }


@dataclass
class RewardTransaction:
    txn_id: int
    customer_id: int
    user_rewards: list[UserReward]
    request_id: str | None = None
    attempts: list[dict[str, object]] = field(default_factory=list)
    refund_count: int = 0
    refunded_points: int = 0
    reversal_reference: str | None = None
    audit: dict[str, str | None] = field(
        default_factory=lambda: {"revokedBy": None, "revokeReason": None, "revokedEventDateTime": None}
    )

    def state_json(self) -> dict[str, object]:
        return {
            "txnId": self.txn_id,
            "customerId": self.customer_id,
            "userRewards": [reward.as_json() for reward in self.user_rewards],
            "attempts": list(self.attempts),
            "refundCount": self.refund_count,
            "refundedPoints": number(self.refunded_points),
            "reversalReference": self.reversal_reference,
            "audit": dict(self.audit),
        }


@dataclass
class RewardsStore:
    transactions: dict[int, RewardTransaction] = field(default_factory=dict)
    configs: dict[str, dict[str, object]] = field(default_factory=dict)
    request_ids: dict[str, int] = field(default_factory=dict)
    issuals: dict[int, dict[str, object]] = field(default_factory=dict)  # rewards-stale-issual only

    @property
    def revoke_enabled(self) -> bool:
        return str(self.configs.get("REVOKE_ENABLE", {}).get("configKeyValue", "false")).lower() == "true"

    def set_revoke_enabled(self, enabled: bool, brand_id: object = None, label: object = None) -> None:
        self.configs["REVOKE_ENABLE"] = {
            "configKeyName": "REVOKE_ENABLE",
            "configKeyValue": "true" if enabled else "false",
            "brandId": brand_id,
            "label": label,
        }

    def config_list(self) -> list[dict[str, object]]:
        if "REVOKE_ENABLE" not in self.configs:
            self.set_revoke_enabled(False)
        return [dict(self.configs[key]) for key in CONFIG_KEYS if key in self.configs]


def status(success: bool, code: int, message: str) -> dict[str, object]:
    return {"success": success, "code": code, "message": message}


def create_transaction(
    tenant: TenantState, customer: Customer, rewards: Sequence[tuple[str, int]], reward_id: int | None = None
) -> RewardTransaction:
    with tenant.lock:
        txn = RewardTransaction(
            txn_id=tenant.new_int("rewards-txn", 10),
            customer_id=customer.customer_id,
            user_rewards=[
                UserReward(tenant.new_int("rewards-user-reward", 9), reward_id, state, points)
                for state, points in rewards
            ],
        )
        tenant.store(RewardsStore).transactions[txn.txn_id] = txn
        return txn


def _revoke_request(state: SandboxState, payload: dict[str, Any]) -> tuple[int, dict[str, str | None]] | Response:
    txn_id = payload.get("txnId")
    if txn_id is None:
        return outcome(state, 400)
    if isinstance(txn_id, bool) or not isinstance(txn_id, int):
        return outcome(state, 400, message="txnId must be an integer")
    audit: dict[str, str | None] = {}
    for name in ("revokedBy", "revokeReason", "revokedEventDateTime"):
        value = payload.get(name)
        if value is not None and not isinstance(value, str):
            return outcome(state, 400, txn_id, f"{name} must be a string")
        audit[name] = value
    when = audit["revokedEventDateTime"]
    if when is not None:
        try:
            datetime.fromisoformat(when)
        except ValueError:
            return outcome(state, 400, txn_id, "revokedEventDateTime must be an ISO 8601 date-time")
    return txn_id, audit


# Decision points of revokeUserReward, in the order the handler meets them.
LOCK = lock_point("rewards.lock")
CREDENTIALS = capillary_credentials(API)


@point("rewards.missing-txnid")
def missing_txnid(payload: dict[str, Any]) -> Response | None:
    """A missing txnId is refused by validation (400) before any lookup."""
    return None


@point("rewards.revoke-enabled")
def revoke_enabled(store: RewardsStore) -> bool:
    """REVOKE_ENABLE, false for an org that never set it."""
    return store.revoke_enabled


@point("rewards.flag-off")
def flag_off(txn: RewardTransaction | None) -> None:
    """A revoke refused by the flag changes nothing."""


@point("rewards.revocable-states")
def revocable_states() -> tuple[str, ...]:
    return ("ISSUED",)


@point("rewards.checked-rewards")
def checked_rewards(rewards: list[UserReward]) -> list[UserReward]:
    """Every user reward of the transaction must be revocable."""
    return rewards


@point("rewards.refusal-code")
def refusal_code(txn: RewardTransaction) -> int | None:
    """A code that comes before the state checks: 10008 for a transaction without user rewards."""
    return 10008 if not txn.user_rewards else None


@point("rewards.blocked")
def blocked(txn: RewardTransaction) -> bool:
    """Nothing but the rewards' states blocks a revoke (a reverse-redeemed or retried one is revocable)."""
    return False


@point("rewards.carries-points")
def carries_points(rewards: list[UserReward]) -> bool:
    """One points reversal per transaction, and only when something carries points."""
    return any(reward.points > 0 for reward in rewards)


@point("rewards.record-attempt")
def record_attempt(txn: RewardTransaction, attempt: dict[str, object]) -> None:
    txn.attempts.append(attempt)


@point("rewards.after-1018")
def after_1018(txn: RewardTransaction) -> None:
    """A revoke answered 1018 changes no user reward."""


@point("rewards.refunded")
def refunded(rewards: list[UserReward]) -> list[UserReward]:
    """The refund covers every user reward of the transaction."""
    return rewards


@point("rewards.reversals-counted")
def reversals_counted(charged: list[UserReward]) -> int:
    return 1


@point("rewards.reversal-reference")
def reversal_reference(tenant: TenantState) -> str | None:
    return str(tenant.new_int("rewards-points-reversal", 10))


@point("rewards.cancelled")
def cancelled(rewards: list[UserReward]) -> list[UserReward]:
    """A successful revoke cancels every user reward together."""
    return rewards


@point("rewards.stored-audit")
def stored_audit(audit: dict[str, str | None], now: str) -> dict[str, str | None]:
    """revokedBy and revokeReason as sent; revokedEventDateTime as sent or, when omitted, the processing time."""
    return {**audit, "revokedEventDateTime": audit["revokedEventDateTime"] or now}


@point("rewards.user-reward-count")
def user_reward_count(txn: RewardTransaction) -> int:
    return len(txn.user_rewards)


@point("rewards.outcome", gap="REWARDS-GAP-TXNID-ON-FAILURE")
def outcome(code: int, txn_id: object = None, message: str | None = None) -> Response:
    """HTTP 200 in all cases; txnId echoed whenever the request carried an integer one."""
    body: dict[str, object] = {"status": status(code == 200, code, message or MESSAGES.get(code, "Request failed"))}
    if isinstance(txn_id, int) and not isinstance(txn_id, bool):
        body["txnId"] = txn_id
    return json_response(body)


@point("rewards.malformed-body", gap="REWARDS-GAP-400-SYMBOLIC-NAME")
def malformed_body() -> Response:
    return json_response({"status": status(False, 400, "Malformed JSON request")})


@point("rewards.auth-refusal", gap="REWARDS-GAP-AUTH-FAILURE-SHAPE")
def auth_refusal() -> Response:
    return json_response({"status": status(False, 401, "Unauthorized")}, 401)


def revoke(call: Call) -> Response:
    state = call.state
    try:
        payload = parse_json_object(call.body)
    except BadBody:
        return malformed_body(state)
    early = missing_txnid(state, payload)
    if early is not None:
        return early
    parsed = _revoke_request(state, payload)
    if isinstance(parsed, Response):
        return parsed
    txn_id, audit = parsed
    tenant = call.tenant
    with LOCK(state, tenant):
        delay = take_delay(tenant, API)
        store = tenant.store(RewardsStore)
        txn = store.transactions.get(txn_id)
        if not revoke_enabled(state, store):
            flag_off(state, txn)
            return outcome(state, 13005, txn_id)
        if txn is None:
            return outcome(state, 10007, txn_id)
        now = tenant.now_iso()
        code = _revoke_code(state, tenant, txn, now)
        if code != 200:
            return outcome(state, code, txn_id)
        sleep_ms(delay)
        _revoked(state, tenant, txn, audit, now)
        body = {"status": status(True, 200, MESSAGES[200]), "txnId": txn_id, "state": "CANCELLED"}
        return json_response({**body, "userRewardCount": user_reward_count(state, txn)})


def _revoked(
    state: SandboxState, tenant: TenantState, txn: RewardTransaction, audit: dict[str, str | None], now: str
) -> None:
    """What a successful revoke writes: one refund, the reversal reference, every reward CANCELLED, the audit."""
    charged = refunded(state, txn.user_rewards)
    points = sum(reward.points for reward in charged)
    if points > 0:
        txn.refund_count += reversals_counted(state, charged)
        txn.refunded_points += points
        txn.reversal_reference = reversal_reference(state, tenant)
    for reward in cancelled(state, txn.user_rewards):
        reward.state = "CANCELLED"
    txn.audit = stored_audit(state, audit, now)


def _revoke_code(state: SandboxState, tenant: TenantState, txn: RewardTransaction, now: str) -> int:
    """The outcome of the state checks and of the single points reversal; every attempt is recorded."""
    code = _check_code(state, tenant, txn)
    record_attempt(state, txn, {"at": now, "code": code})
    if code == 1018:
        after_1018(state, txn)
    return code


def _check_code(state: SandboxState, tenant: TenantState, txn: RewardTransaction) -> int:
    rewards = txn.user_rewards
    early = refusal_code(state, txn)
    if early is not None:
        return early
    revocable = revocable_states(state)
    if any(reward.state not in revocable for reward in checked_rewards(state, rewards)):
        return 13003
    if blocked(state, txn):
        return 13003
    if carries_points(state, rewards) and tenant.take_fault(API, ("points_failure",)):
        return 1018
    return 200


def issue(call: Call) -> Response:
    raw_id = call.path_params["rewardId"]
    if not (raw_id.isdecimal() and len(raw_id) < 20):
        return outcome(call.state, 400, message="rewardId must be an integer")
    try:
        payload = parse_json_object(call.body)
    except BadBody:
        return outcome(call.state, 400, message="Malformed JSON request")
    request_id = payload.get("requestId")
    with call.tenant.lock:
        store = call.tenant.store(RewardsStore)
        if isinstance(request_id, str) and request_id in store.request_ids:
            txn = store.transactions[store.request_ids[request_id]]
        else:
            customer = next(
                (
                    find_customer(call.tenant, kind, payload[kind])
                    for kind in ("mobile", "externalId", "emailId")
                    if payload.get(kind) not in (None, "")
                ),
                None,
            )
            if customer is None:
                known = any(payload.get(kind) for kind in ("mobile", "externalId", "emailId"))
                return (
                    outcome(call.state, 8015, message="Customer not found")
                    if known
                    else outcome(call.state, 400, message="mobile, externalId or emailId must not be null")
                )
            txn = create_transaction(call.tenant, customer, [("ISSUED", ISSUE_POINTS)], int(raw_id))
            if isinstance(request_id, str):
                txn.request_id = request_id
                store.request_ids[request_id] = txn.txn_id
    issued = sum(reward.points for reward in txn.user_rewards)
    return json_response(
        {
            "status": status(True, 200, "Reward issued successfully"),
            "transactionId": txn.txn_id,
            "vendor": {"pointsRedeemed": str(number(issued))},
        }
    )


@point("rewards.issual", gap="REWARDS-GAP-ISSUAL-SHAPE")
def issual_body(body: dict[str, object]) -> dict[str, object]:
    """The transaction's state, its user rewards and the reversal reference at the top level."""
    return body


@point("rewards.issual-served")
def issual_served(store: RewardsStore, txn_id: int, fresh: dict[str, object]) -> dict[str, object]:
    """getIssual shows the transaction as it is now."""
    return fresh


def issual(call: Call) -> Response:
    raw_customer, raw_txn = call.path_params["customerId"], call.path_params["rewardTransactionId"]
    with call.tenant.lock:
        txn = (
            call.tenant.store(RewardsStore).transactions.get(int(raw_txn))
            if raw_txn.isdecimal() and len(raw_txn) < 20
            else None
        )
        if txn is None or str(txn.customer_id) != raw_customer:
            return outcome(call.state, 10007)
        state = txn.state_json()
    states = {reward.state for reward in txn.user_rewards}
    body = {
        "status": status(True, 200, "Success"),
        "transactionId": state["txnId"],
        "customerId": state["customerId"],
        # One state for the transaction when its rewards agree (they move together on revoke).
        "state": states.pop() if len(states) == 1 else None,
        "userRewards": state["userRewards"],
        "pointsReversalRefId": txn.reversal_reference,
    }
    return json_response(
        issual_served(call.state, call.tenant.store(RewardsStore), txn.txn_id, issual_body(call.state, body))
    )


def set_config(call: Call) -> Response:
    try:
        payload = parse_json_object(call.body)
    except BadBody:
        return outcome(call.state, 400, message="Malformed JSON request")
    name, value = payload.get("configKeyName"), payload.get("configKeyValue")
    if name is None or value is None:
        return outcome(
            call.state, 400, message=f"{'configKeyName' if name is None else 'configKeyValue'} must not be null"
        )
    if name not in CONFIG_KEYS:
        return outcome(call.state, 3011, message="Brand or config key not found")
    brand, label = payload.get("brandId"), payload.get("label")
    # The brand id is an integer and the label a string (vendor-setup notes); anything else is refused
    # with the envelope's 400, never stored, so a later getConfig can always be rendered.
    if brand is not None and (isinstance(brand, bool) or not isinstance(brand, int | str)):
        return outcome(call.state, 400, message="brandId must be an integer")
    if label is not None and not isinstance(label, str):
        return outcome(call.state, 400, message="label must be a string")
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if name == "REVOKE_ENABLE" and text.lower() not in ("true", "false"):
        return outcome(call.state, 400, message="configKeyValue of REVOKE_ENABLE must be true or false")
    with call.tenant.lock:
        store = call.tenant.store(RewardsStore)
        if name == "REVOKE_ENABLE":
            store.set_revoke_enabled(text.lower() == "true", brand, label)
        else:
            store.configs[name] = {
                "configKeyName": name,
                "configKeyValue": text,
                "brandId": brand,
                "label": label,
            }
        configs = store.config_list()
    return json_response({"status": status(True, 3008, "Org config updated successfully"), "configList": configs})


def get_config(call: Call) -> Response:
    with call.tenant.lock:
        configs = call.tenant.store(RewardsStore).config_list()
    return json_response({"status": status(True, 3012, "Org configs fetched successfully"), "configList": configs})


def routes(state: SandboxState, creds: SandboxCredentials) -> list[Route]:
    def shape(code: int, message: str) -> dict[str, Any]:
        return {"status": status(False, code, message)}

    gates = (capillary_gate(creds, lambda call: auth_refusal(call.state), CREDENTIALS), fault_gate(API, shape))
    return [
        route(state, f"{PREFIX}/user/reward/revoke", revoke, methods=["POST"], gates=gates),
        route(state, PREFIX + "/user/reward/{rewardId}/issue", issue, methods=["POST"], gates=gates),
        route(
            state,
            PREFIX + "/management/customer/{customerId}/issuals/{rewardTransactionId}",
            issual,
            methods=["GET"],
            gates=gates,
        ),
        route(state, f"{PREFIX}/brand/config", set_config, methods=["POST"], gates=gates),
        route(state, PREFIX + "/brand/{brandId}/getConfig", get_config, methods=["GET"], gates=gates),
    ]
