"""Recorded-style exchanges built by hand: every documented response example of every spec, plus shapes the pages show."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

import httpx
import yaml

from conformance.apis import APIS
from conformance.http.exchange import Exchange
from conformance.http.redact import Redactor
from conformance.rules import active_rules
from conformance.verdicts import Recorder, recording

BASE = "https://vendor.example"


def make_exchange(
    api: str,
    operation: str,
    *,
    method: str = "POST",
    path: str = "/x",
    status: int = 200,
    body: Any = None,
    request_json: Any = None,
    form: dict[str, str] | None = None,
    phase: str = "test",
    raw: bytes | None = None,
) -> Exchange:
    if form is not None:
        request = httpx.Request(
            method,
            BASE + path,
            content=urlencode(form).encode(),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    elif request_json is not None:
        request = httpx.Request(method, BASE + path, json=request_json)
    else:
        request = httpx.Request(method, BASE + path)
    content = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    response = httpx.Response(status, content=content, headers={"content-type": "application/json"}, request=request)
    return Exchange(api=api, operation=operation, phase=phase, request=request, response=response, redactor=Redactor())


@contextmanager
def recorder() -> Iterator[Recorder]:
    rec = Recorder("tests::checks", active_rules(), lambda _exchange: "reference")
    with recording(rec):
        yield rec


def spec(api: str) -> dict[str, Any]:
    return yaml.safe_load(APIS[api].spec_path.read_text(encoding="utf-8"))


def operations(api: str) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    for path, item in spec(api)["paths"].items():
        for method, definition in item.items():
            if isinstance(definition, dict) and "operationId" in definition:
                yield path, method.upper(), definition["operationId"], definition


def _request_examples(definition: dict[str, Any]) -> dict[str, Any]:
    content = (definition.get("requestBody") or {}).get("content") or {}
    for media in content.values():
        return {name: ex.get("value") for name, ex in (media.get("examples") or {}).items()}
    return {}


def _pick_request(api: str, operation: str, requests: dict[str, Any], response: Any, example: dict[str, Any]) -> Any:
    if api == "juspay":
        return {"command": example.get("x-command", "check_status")}
    if operation == "revokeUserReward":
        # Pair each documented answer with the request that could have produced it (txnId echoed or absent).
        txn = response.get("txnId") if isinstance(response, dict) else None
        return {"revokedBy": "BRAND_OPERATOR"} if txn is None else {"txnId": txn}
    return next(iter(requests.values()), None)


def corpus() -> list[tuple[str, Exchange]]:
    """(id, exchange) for every response example of every operation of every spec, and the extra shapes."""
    out: list[tuple[str, Exchange]] = []
    for api in APIS:
        for path, method, operation, definition in operations(api):
            requests = _request_examples(definition)
            for status, response in (definition.get("responses") or {}).items():
                code = 200 if status in ("default", "2XX") else int(status)
                if status == "default":
                    code = 400
                for media in ((response or {}).get("content") or {}).values():
                    for name, example in (media.get("examples") or {}).items():
                        value = example.get("value")
                        request = _pick_request(api, operation, requests, value, example)
                        kwargs: dict[str, Any] = {"form": request} if api == "juspay" else {"request_json": request}
                        out.append(
                            (
                                f"{api}:{operation}:{status}:{name}",
                                make_exchange(
                                    api, operation, method=method, path=path, status=code, body=value, **kwargs
                                ),
                            )
                        )
    out += extra()
    return out


def _job(state: str) -> dict[str, Any]:
    return {
        "issuance_job": {
            "id": "job_1",
            "campaign_id": "camp_1",
            "variant_id": "var_1",
            "state": state,
            "total_count": 2,
            "processed_count": 2,
            "success_count": 1,
            "failure_count": 1,
            "progress_percent": 100,
            "created_at": "2026-01-01T00:00:00Z",
            "started_at": "2026-01-01T00:00:01Z",
            "completed_at": "2026-01-01T00:00:02Z",
        }
    }


def extra() -> list[tuple[str, Exchange]]:
    """Shapes of the vendor pages that the specs give no example for, as the reference sandbox answers them."""
    thanx_error = {"error": {"code": "RESOURCE_NOT_FOUND", "message": "The resource you requested was not found."}}
    unauthorized = {"error": {"code": "AUTHENTICATION_GENERIC", "message": "There was an error authenticating you."}}
    return [
        (
            "thanx:revokeIssuanceJob:401",
            make_exchange(
                "thanx", "revokeIssuanceJob", status=401, body=unauthorized, request_json={"merchant_id": "m"}
            ),
        ),
        (
            "thanx:getIssuanceJob:401",
            make_exchange("thanx", "getIssuanceJob", method="GET", status=401, body=unauthorized, phase="readback"),
        ),
        (
            "thanx:getIssuanceJob:404",
            make_exchange("thanx", "getIssuanceJob", method="GET", status=404, body=thanx_error, phase="readback"),
        ),
        (
            "thanx:getIssuanceJob:200:completed",
            make_exchange("thanx", "getIssuanceJob", method="GET", body=_job("completed"), phase="readback"),
        ),
        (
            "thanx:getIssuanceJob:200:pending",
            make_exchange(
                "thanx",
                "getIssuanceJob",
                method="GET",
                body={
                    "issuance_job": {
                        **_job("pending")["issuance_job"],
                        "processed_count": 0,
                        "success_count": 0,
                        "failure_count": 0,
                        "progress_percent": 0,
                        "started_at": None,
                        "completed_at": None,
                    }
                },
            ),
        ),
        (
            "thanx:revokeIssuanceJob:404",
            make_exchange(
                "thanx", "revokeIssuanceJob", status=404, body=thanx_error, request_json={"merchant_id": "m"}
            ),
        ),
        (
            "thanx:revokeIssuanceJob:422",
            make_exchange(
                "thanx",
                "revokeIssuanceJob",
                status=422,
                body={"error": {"code": "UNPROCESSABLE_ENTITY", "message": "Issuance job is pending."}},
                request_json={"merchant_id": "m"},
            ),
        ),
        (
            "badges:revokeEarn:401",
            make_exchange(
                "capillary-badges",
                "revokeEarn",
                status=401,
                body={
                    "data": None,
                    "errors": [{"code": 401, "message": "Invalid credentials", "reference": None}],
                    "warnings": [],
                },
            ),
        ),
        (
            "points:reversePoints:success-no-amount",
            make_exchange(
                "capillary-points",
                "reversePoints",
                request_json={"redemptionId": "r1", "identifier": {"type": "ID", "value": "1"}},
                body={
                    "orgId": 1,
                    "identifier": {"type": "ID", "value": "1"},
                    "customerId": 1,
                    "redemptionId": "r1",
                    "reversalId": "9",
                    "pointsToBeReversed": 12.125,
                    "pointsReversed": 12.125,
                    "pointsReversedDetails": {"available": 10.125, "expired": 2},
                    "warnings": [],
                    "errors": [],
                },
            ),
        ),
        (
            "points:reversePoints:429",
            make_exchange(
                "capillary-points",
                "reversePoints",
                status=429,
                body={"errors": [{"code": 429, "message": "Too many requests"}], "warnings": []},
            ),
        ),
        (
            "rewards:revokeUserReward:401",
            make_exchange(
                "capillary-rewards",
                "revokeUserReward",
                status=401,
                body={"status": {"success": False, "code": 401, "message": "Unauthorized"}},
                request_json={"txnId": 1},
            ),
        ),
        (
            "juspay:mandateCommand:401",
            make_exchange(
                "juspay",
                "mandateCommand",
                status=401,
                body={"status": "error", "error_code": "access_denied"},
                form={"command": "revoke"},
            ),
        ),
        (
            "juspay:mandateCommand:check_status",
            make_exchange(
                "juspay",
                "mandateCommand",
                form={"command": "check_status"},
                body={"order_id": "o1", "mandate_status": "ACTIVE", "mandate_id": "m1"},
            ),
        ),
    ]
