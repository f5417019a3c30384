"""Deviations that change only the answer on the wire: a rewrite of the finished response per deviation.

Each entry of :data:`REWRITES` names the route paths it applies to (by suffix) and a transform of
``(HTTP status, parsed JSON body)``; :func:`on_the_wire` makes it the deviation's override of the decision point :func:`conformance.sandbox.web.answer`. The state
behind the answer is untouched, exactly as a vendor whose serializer or gateway misbehaves.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from starlette.responses import Response


class Html(str):
    """A body to serve as text/html instead of JSON."""


Transform = Callable[[int, Any], tuple[int, Any]]
Answer = Callable[[str, Response], Response]


def _data(fn: Callable[[dict[str, Any]], None]) -> Transform:
    """Edit ``data`` of a successful badges answer in place."""

    def transform(status: int, body: Any) -> tuple[int, Any]:
        if status == 200 and isinstance(body.get("data"), dict):
            fn(body["data"])
        return status, body

    return transform


def _swap_ids(data: dict[str, Any]) -> None:
    data["badgeMetaId"], data["earnedBadgeId"] = data["earnedBadgeId"], data["badgeMetaId"]


def _badge_error_object(status: int, body: Any) -> tuple[int, Any]:
    if status >= 400 and isinstance(body.get("errors"), list):
        body["error"] = body.pop("errors")[0]
    return status, body


def _refusal(fn: Callable[[int, dict[str, Any]], int]) -> Transform:
    """Edit a rewards answer whose status.code is not 200; ``fn`` returns the new HTTP status."""

    def transform(status: int, body: Any) -> tuple[int, Any]:
        code = body.get("status", {}).get("code") if isinstance(body.get("status"), dict) else None
        if status == 200 and isinstance(code, int) and code != 200:
            status = fn(status, body)
        return status, body

    return transform


def _set(path: tuple[str, ...], value: object, http: int | None = None) -> Callable[[int, dict[str, Any]], int]:
    def edit(status: int, body: dict[str, Any]) -> int:
        holder = body
        for key in path[:-1]:
            holder = holder[key]
        holder[path[-1]] = value
        return http or status

    return edit


def _with_state(status: int, body: dict[str, Any]) -> int:
    body.update(state=None, userRewardCount=0)
    return status


def _code_10008(status: int, body: dict[str, Any]) -> int:
    if body["status"]["code"] == 10007:
        body["status"].update(code=10008, message="User reward not found")
    return status


def _txn_string(status: int, body: Any) -> tuple[int, Any]:
    if isinstance(body.get("txnId"), int):
        body["txnId"] = str(body["txnId"])
    return status, body


def _points_success(fn: Callable[[dict[str, Any]], None]) -> Transform:
    def transform(status: int, body: Any) -> tuple[int, Any]:
        if status == 200:
            fn(body)
        return status, body

    return transform


def _points_887_as_400(status: int, body: Any) -> tuple[int, Any]:
    for error in body.get("errors") or []:
        if error.get("code") == 887:
            error["code"] = 400
    return status, body


def _lower_type(body: dict[str, Any]) -> None:
    body["identifier"]["type"] = str(body["identifier"]["type"]).lower()


def _jobs(fn: Callable[[dict[str, Any]], None]) -> Transform:
    """Edit the issuance_job of a 2xx Thanx answer in place."""

    def transform(status: int, body: Any) -> tuple[int, Any]:
        if 200 <= status < 300 and isinstance(body.get("issuance_job"), dict):
            fn(body["issuance_job"])
        return status, body

    return transform


def _epoch(job: dict[str, Any]) -> None:
    for name in ("created_at", "started_at", "completed_at"):
        if isinstance(job.get(name), str):
            job[name] = int(datetime.fromisoformat(job[name].replace("Z", "+00:00")).timestamp())


def _failures_with_unprocessed(job: dict[str, Any]) -> None:
    job["failure_count"] = job["total_count"] - job["success_count"]


def _summary_missing_on_completed(job: dict[str, Any]) -> None:
    if job.get("state") == "completed":
        job.pop("summary", None)


def _unwrap(status: int, body: Any) -> tuple[int, Any]:
    return (status, body["issuance_job"]) if status == 202 and "issuance_job" in body else (status, body)


def _strip_prefix(job: dict[str, Any]) -> None:
    job["id"] = str(job["id"]).removeprefix("job_")


def _status(old: int, new: int, when: Callable[[Any], bool] = lambda body: True) -> Transform:
    def transform(status: int, body: Any) -> tuple[int, Any]:
        return (new if status == old and when(body) else status), body

    return transform


def _thanx_403(status: int, body: Any) -> tuple[int, Any]:
    if status == 401 and body.get("error", {}).get("code") == "AUTHENTICATION_GENERIC":
        return 403, {"error": {"code": "FORBIDDEN", "message": "You are not allowed to do this."}}
    return status, body


def _juspay_html(status: int, body: Any) -> tuple[int, Any]:
    if status == 400:
        return status, Html("<html><body><h1>400 Bad Request</h1></body></html>")
    return status, body


def _juspay_failed(status: int, body: Any) -> tuple[int, Any]:
    if status == 200 and body.get("mandate_status") == "FAILURE":
        body["mandate_status"] = "FAILED"
    return status, body


def _juspay_bad_key(status: int, body: Any) -> tuple[int, Any]:
    if status == 401 and body.get("error_code") == "access_denied":
        body["error_code"] = "UNAUTHORIZED"
    return status, body


def _reversal_id_numeric(body: dict[str, Any]) -> None:
    if str(body.get("reversalId", "")).isdigit():
        body["reversalId"] = int(body["reversalId"])


def _without_status_message(status: int, body: Any) -> tuple[int, Any]:
    if isinstance(body.get("status"), dict):
        body["status"].pop("message", None)
    return status, body


def _juspay_400_without_status(status: int, body: Any) -> tuple[int, Any]:
    if status == 400:
        body.pop("status", None)
    return status, body


def _gateway_code_numeric(status: int, body: Any) -> tuple[int, Any]:
    if status == 200 and str(body.get("gateway_response_code", "")).isdigit():
        body["gateway_response_code"] = int(body["gateway_response_code"])
    return status, body


def _juspay_401_without_status(status: int, body: Any) -> tuple[int, Any]:
    if status == 401:
        body.pop("status", None)
    return status, body


def _thanx_error_edit(http: int, edit: Callable[[dict[str, Any]], None]) -> Transform:
    """Edit the ``error`` object of a Thanx answer with HTTP status ``http``."""

    def transform(status: int, body: Any) -> tuple[int, Any]:
        if status == http and isinstance(body.get("error"), dict):
            edit(body["error"])
        return status, body

    return transform


def _numeric_code(error: dict[str, Any]) -> None:
    error["code"] = 401


REVOKE_EARN = "/revokeEarn"
REVERSE = "/v2/points/reverse"
REWARDS_REVOKE = "/user/reward/revoke"
THANX_REVOKE = "/issuance_jobs/{id}/revoke"
THANX_JOB = "/issuance_jobs/{id}"
MANDATES = "/mandates/{mandate_id}"

REWRITES: dict[str, tuple[tuple[str, ...], Transform]] = {
    "badges-revoke-answers-active": ((REVOKE_EARN,), _data(lambda data: data.update(isActive=True))),
    "badges-echo-ids-swapped": ((REVOKE_EARN,), _data(_swap_ids)),
    "badges-error-object-not-list": (("/badges/customer/revokeEarn", "/badges/customer/earn"), _badge_error_object),
    "badges-isactive-as-string": (
        (REVOKE_EARN,),
        _data(lambda data: data.update(isActive=str(data["isActive"]).lower())),
    ),
    "points-reversalid-numeric": ((REVERSE,), _points_success(_reversal_id_numeric)),
    "rewards-status-without-message": ((REWARDS_REVOKE,), _without_status_message),
    "thanx-revoke-without-variant-id": ((THANX_REVOKE,), _jobs(lambda job: job.pop("variant_id", None))),
    "juspay-refusal-without-status": ((MANDATES,), _juspay_400_without_status),
    "juspay-gateway-code-numeric": ((MANDATES,), _gateway_code_numeric),
    "juspay-401-without-status": ((MANDATES,), _juspay_401_without_status),
    "thanx-job-progress-as-string": (
        (THANX_JOB,),
        _jobs(lambda job: job.update(progress_percent=str(job["progress_percent"]))),
    ),
    "thanx-revoke-401-without-message": ((THANX_REVOKE,), _thanx_error_edit(401, lambda e: e.pop("message", None))),
    "thanx-get-401-code-numeric": ((THANX_JOB,), _thanx_error_edit(401, _numeric_code)),
    "thanx-revoke-404-without-message": ((THANX_REVOKE,), _thanx_error_edit(404, lambda e: e.pop("message", None))),
    "thanx-get-404-without-code": ((THANX_JOB,), _thanx_error_edit(404, lambda e: e.pop("code", None))),
    "points-success-without-warnings": ((REVERSE,), _points_success(lambda body: body.pop("warnings", None))),
    "points-generic-validation-code": ((REVERSE,), _points_887_as_400),
    "points-echo-type-lowercased": ((REVERSE,), _points_success(_lower_type)),
    "rewards-refusal-http-400": ((REWARDS_REVOKE,), _refusal(lambda status, body: 400)),
    "rewards-refusal-success-true": ((REWARDS_REVOKE,), _refusal(_set(("status", "success"), True))),
    "rewards-txnid-as-string": ((REWARDS_REVOKE,), _txn_string),
    "rewards-refusal-with-state": ((REWARDS_REVOKE,), _refusal(_with_state)),
    "rewards-unknown-txn-10008": ((REWARDS_REVOKE,), _refusal(_code_10008)),
    "thanx-epoch-timestamps": ((THANX_REVOKE, THANX_JOB), _jobs(_epoch)),
    "thanx-failure-count-includes-unprocessed": ((THANX_REVOKE, THANX_JOB), _jobs(_failures_with_unprocessed)),
    "thanx-summary-missing-on-completed": ((THANX_JOB,), _jobs(_summary_missing_on_completed)),
    "thanx-revoke-unwrapped": ((THANX_REVOKE,), _unwrap),
    "thanx-id-without-prefix": ((THANX_REVOKE,), _jobs(_strip_prefix)),
    "thanx-issue-201": (("/partner/campaigns/issue",), _status(202, 201)),
    "thanx-rate-limit-503": (("/partner/issuance_jobs/{id}/revoke",), _status(429, 503)),
    "thanx-bad-token-403": ((THANX_REVOKE, THANX_JOB), _thanx_403),
    "juspay-errors-as-html": ((MANDATES,), _juspay_html),
    "juspay-status-failed": ((MANDATES,), _juspay_failed),
    "juspay-bad-key-code": ((MANDATES,), _juspay_bad_key),
    "juspay-unknown-404": (
        (MANDATES,),
        _status(400, 404, lambda body: isinstance(body, dict) and body.get("error_message") == "Mandate not found"),
    ),
}


def rewrite(name: str | None, path: str, status: int, body: bytes) -> tuple[int, bytes, str] | None:
    """(status, body, media type) of the answer under deviation ``name``, or None when it does not apply."""
    entry = REWRITES.get(name or "")
    if entry is None or not path.endswith(entry[0]):
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None
    new_status, new_body = entry[1](status, parsed)
    if isinstance(new_body, Html):
        return new_status, new_body.encode(), "text/html"
    return new_status, json.dumps(new_body, separators=(",", ":")).encode(), "application/json"


def on_the_wire(name: str) -> Callable[[Answer, str, Response], Response]:
    """The override of :func:`conformance.sandbox.web.answer` for the rewrite deviation ``name``."""

    def deviant(base: Answer, path: str, response: Response) -> Response:
        changed = rewrite(name, path, response.status_code, bytes(response.body))
        if changed is not None:
            kept = {k: v for k, v in response.headers.items() if k not in ("content-length", "content-type")}
            response = Response(changed[1], status_code=changed[0], media_type=changed[2], headers=kept)
        return base(path, response)

    return deviant
