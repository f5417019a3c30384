from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.sandbox.conftest import CREDS, THANX

NOSCOPE = {**THANX, "Authorization": f"Bearer {CREDS.thanx_noscope_token}"}


def job(client: httpx.Client, **body: object) -> tuple[str, str]:
    response = client.post("/_sandbox/thanx/issuance_jobs", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    return created["issuance_job"]["id"], created["merchant_id"]


def read(client: httpx.Client, job_id: str, merchant_id: str) -> dict[str, Any]:
    response = client.get(f"/partner/issuance_jobs/{job_id}", params={"merchant_id": merchant_id}, headers=THANX)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()["issuance_job"]
    return found


def revoke(
    client: httpx.Client, job_id: str, merchant_id: str | None, headers: dict[str, str] = THANX
) -> httpx.Response:
    body = {} if merchant_id is None else {"merchant_id": merchant_id}
    return client.post(f"/partner/issuance_jobs/{job_id}/revoke", json=body, headers=headers)


def consistent(found: dict[str, Any]) -> None:
    assert found["processed_count"] <= found["total_count"]
    assert found["success_count"] + found["failure_count"] == found["processed_count"]
    total = found["total_count"]
    assert found["progress_percent"] == (found["processed_count"] * 100 // total if total else 0)


@pytest.mark.parametrize("start", ["completed", "failed"])
def test_revoke_is_async_and_keeps_counters(client: httpx.Client, start: str) -> None:
    job_id, merchant = job(client, state=start, total_count=3, success_count=0 if start == "failed" else 2)
    before = read(client, job_id, merchant)
    response = revoke(client, job_id, merchant)
    assert response.status_code == 202
    revoking = response.json()["issuance_job"]
    assert revoking["state"] == "revoking"
    assert "summary" not in revoking
    unchanged = (
        "total_count",
        "processed_count",
        "success_count",
        "failure_count",
        "progress_percent",
        "created_at",
        "started_at",
        "completed_at",
    )
    assert {key: revoking[key] for key in unchanged} == {key: before[key] for key in unchanged}
    assert read(client, job_id, merchant)["state"] == "revoking"
    final = read(client, job_id, merchant)
    assert final["state"] == "revoked"
    consistent(final)
    assert revoke(client, job_id, merchant).status_code == 422
    assert len(client.get(f"/_sandbox/thanx/issuance_jobs/{job_id}").json()["revoke_requests"]) == 1


@pytest.mark.parametrize("state", ["pending", "processing", "revoking", "revoked"])
def test_not_revocable_states_are_422(client: httpx.Client, state: str) -> None:
    job_id, merchant = job(client, state=state)
    response = revoke(client, job_id, merchant)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "UNPROCESSABLE_ENTITY"
    assert read(client, job_id, merchant)["state"] == state  # fixed-state jobs never move by themselves


def test_unknown_or_foreign_job_is_404_and_missing_merchant_400(client: httpx.Client) -> None:
    job_id, merchant = job(client, state="completed")
    merchants = [item["id"] for item in client.get("/partner/merchants", headers=THANX).json()["merchants"]]
    other = next(item for item in merchants if item != merchant)
    for response in (revoke(client, job_id, other), revoke(client, "job_zzzzzz", merchant)):
        assert response.status_code == 404
        assert response.json() == {
            "error": {"code": "RESOURCE_NOT_FOUND", "message": "The resource you requested was not found."}
        }
    missing = revoke(client, job_id, None)
    assert (missing.status_code, missing.json()["error"]["code"]) == (400, "BAD_REQUEST")
    assert client.get(f"/partner/issuance_jobs/{job_id}", headers=THANX).status_code == 400
    assert client.get(f"/partner/issuance_jobs/{job_id}?merchant_id={other}", headers=THANX).status_code == 404


def test_auth_scope_and_version(client: httpx.Client) -> None:
    job_id, merchant = job(client, state="completed")
    bad = revoke(client, job_id, merchant, {**THANX, "Authorization": "Bearer nope"})
    assert (bad.status_code, bad.json()) == (
        401,
        {"error": {"code": "AUTHENTICATION_GENERIC", "message": "There was an error authenticating you."}},
    )
    assert revoke(client, job_id, merchant, {**THANX, "X-ClientId": "other"}).status_code == 401
    forbidden = revoke(client, job_id, merchant, NOSCOPE)
    assert (forbidden.status_code, forbidden.json()["error"]["code"]) == (403, "FORBIDDEN")
    assert revoke(client, job_id, merchant, {**THANX, "Accept-Version": "v3.0"}).status_code == 400
    assert client.get("/partner/merchants", headers=NOSCOPE).status_code == 200
    assert read(client, job_id, merchant)["state"] == "completed"


def campaign(client: httpx.Client, merchant: str) -> dict[str, Any]:
    templates = client.get("/partner/reward_templates", params={"merchant_id": merchant}, headers=THANX).json()[
        "reward_templates"
    ]
    body = {
        "campaign": {
            "merchant_id": merchant,
            "name": "Spring",
            "start_at": "2026-01-01T00:00:00Z",
            "end_at": "2026-02-01T00:00:00Z",
            "redeemable_from": "2026-01-01T00:00:00Z",
            "redeemable_to": "2026-03-01T00:00:00Z",
            "variants": [{"name": "Treatment", "reward_template_id": templates[0]["id"]}, {"name": "Control"}],
        }
    }
    response = client.post("/partner/campaigns", json=body, headers=THANX)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()["campaign"]
    return created


def test_issue_progresses_on_read_then_revoke(client: httpx.Client) -> None:
    merchant = client.get("/partner/merchants", headers=THANX).json()["merchants"][0]["id"]
    assert len(merchant) == 15
    assert merchant.isalnum()
    assert merchant.islower() or merchant.isdigit()
    made = campaign(client, merchant)
    assert client.get(f"/partner/campaigns/{made['id']}", headers=THANX).json()["campaign"] == made
    assert client.get("/partner/campaigns", params={"merchant_id": merchant}, headers=THANX).json()["campaigns"] == [
        made
    ]
    identifiers = [
        {"type": "email", "value": "a@example.com"},
        {"type": "email", "value": "unknown@example.com"},
        {"type": "phone", "value": "5550100"},
        {"type": "email", "value": "b@example.com"},
    ]
    body = {
        "campaign_id": made["id"],
        "merchant_id": merchant,
        "variant_id": made["variants"][0]["id"],
        "identifiers": identifiers,
    }
    issued = client.post("/partner/campaigns/issue", json=body, headers=THANX)
    assert issued.status_code == 202
    pending = issued.json()["issuance_job"]
    assert (pending["state"], pending["processed_count"], pending["started_at"], pending["completed_at"]) == (
        "pending",
        0,
        None,
        None,
    )
    assert pending["id"].startswith("job_")
    assert len(pending["id"]) == 10
    assert revoke(client, pending["id"], merchant).status_code == 422
    processing = read(client, pending["id"], merchant)
    assert (processing["state"], processing["processed_count"], processing["progress_percent"]) == ("processing", 2, 50)
    consistent(processing)
    completed = read(client, pending["id"], merchant)
    assert completed["state"] == "completed"
    assert completed["summary"] == {
        "success_count": 3,
        "failure_count": 1,
        "failures": [{"identifier_index": 1, "identifier_type": "email", "error": "User not found"}],
    }
    consistent(completed)
    assert revoke(client, pending["id"], merchant).status_code == 202


def test_all_failed_issue_ends_failed(client: httpx.Client) -> None:
    merchant = client.get("/partner/merchants", headers=THANX).json()["merchants"][0]["id"]
    made = campaign(client, merchant)
    body = {
        "campaign_id": made["id"],
        "merchant_id": merchant,
        "variant_id": made["variants"][1]["id"],
        "identifiers": [{"type": "email", "value": "not-an-email"}],
    }
    job_id = client.post("/partner/campaigns/issue", json=body, headers=THANX).json()["issuance_job"]["id"]
    read(client, job_id, merchant)
    assert read(client, job_id, merchant)["state"] == "failed"
    assert revoke(client, job_id, merchant).status_code == 202


def test_idempotency_key(client: httpx.Client) -> None:
    merchant = client.get("/partner/merchants", headers=THANX).json()["merchants"][0]["id"]
    made = campaign(client, merchant)
    body = {
        "campaign_id": made["id"],
        "merchant_id": merchant,
        "variant_id": made["variants"][0]["id"],
        "identifiers": [{"type": "email", "value": "a@example.com"}],
    }
    headers = {**THANX, "X-Idempotency-Key": "3b0e6a2c-0000-4000-8000-000000000001"}
    first = client.post("/partner/campaigns/issue", json=body, headers=headers)
    again = client.post("/partner/campaigns/issue", json=dict(reversed(body.items())), headers=headers)
    assert (again.status_code, again.content) == (first.status_code, first.content)
    changed = client.post(
        "/partner/campaigns/issue",
        json={**body, "identifiers": [{"type": "email", "value": "z@example.com"}]},
        headers=headers,
    )
    assert (changed.status_code, changed.json()["error"]["code"]) == (422, "UNPROCESSABLE_ENTITY")
    fresh = client.post("/partner/campaigns/issue", json=body, headers=THANX)
    assert fresh.json()["issuance_job"]["id"] != first.json()["issuance_job"]["id"]


def test_issue_and_campaign_validation(client: httpx.Client) -> None:
    merchant = client.get("/partner/merchants", headers=THANX).json()["merchants"][0]["id"]
    made = campaign(client, merchant)
    base = {
        "campaign_id": made["id"],
        "merchant_id": merchant,
        "variant_id": made["variants"][0]["id"],
        "identifiers": [{"type": "email", "value": "a@example.com"}],
    }
    for broken in (
        {**base, "identifiers": []},
        {**base, "identifiers": [{"type": "fax", "value": "1"}]},
        {"merchant_id": merchant},
    ):
        assert client.post("/partner/campaigns/issue", json=broken, headers=THANX).status_code == 400
    for unknown in ({**base, "campaign_id": "camp_nope00"}, {**base, "variant_id": "var_nope00"}):
        assert client.post("/partner/campaigns/issue", json=unknown, headers=THANX).status_code == 404
    assert client.post("/partner/campaigns/issue", json=base, headers=NOSCOPE).status_code == 403
    assert (
        client.post("/partner/campaigns", json={"campaign": {"merchant_id": merchant}}, headers=THANX).status_code
        == 400
    )
    assert client.get("/partner/reward_templates", headers=THANX).status_code == 400
    assert (
        client.get(
            "/partner/reward_templates", params={"merchant_id": merchant, "per_page": 101}, headers=THANX
        ).status_code
        == 400
    )
    assert client.get("/partner/campaigns/camp_nope00", headers=THANX).status_code == 404


def test_revoke_completion_settings_and_advance(client: httpx.Client) -> None:
    settings = client.put("/_sandbox/thanx/settings", json={"revoke_completes_after_reads": 3}).json()
    assert settings == {"revoke_completes_after_reads": 3, "revoke_delay_ms": 0}
    job_id, merchant = job(client, state="completed")
    revoke(client, job_id, merchant)
    assert [read(client, job_id, merchant)["state"] for _ in range(4)] == ["revoking"] * 3 + ["revoked"]
    second, merchant = job(client, state="completed")
    revoke(client, second, merchant)
    advanced = client.post(f"/_sandbox/thanx/issuance_jobs/{second}/advance").json()
    assert advanced["issuance_job"]["state"] == "revoked"
    client.put("/_sandbox/thanx/settings", json={"revoke_completes_after_reads": 0, "revoke_delay_ms": 60_000})
    slow, merchant = job(client, state="failed")
    revoke(client, slow, merchant)
    assert [read(client, slow, merchant)["state"] for _ in range(3)] == ["revoking"] * 3


def test_control_job_defaults_and_advance_of_pending(client: httpx.Client) -> None:
    failed = client.post("/_sandbox/thanx/issuance_jobs", json={"state": "failed"}).json()["issuance_job"]
    assert (failed["success_count"], failed["failure_count"], failed["processed_count"]) == (0, 2, 2)
    completed = client.post(
        "/_sandbox/thanx/issuance_jobs", json={"state": "completed", "success_count": 4, "failure_count": 1}
    ).json()["issuance_job"]
    assert (completed["total_count"], completed["progress_percent"]) == (5, 100)
    empty = client.post("/_sandbox/thanx/issuance_jobs", json={"state": "completed", "total_count": 0}).json()[
        "issuance_job"
    ]
    assert empty["progress_percent"] == 0
    pending, _ = job(client, state="pending", total_count=4)
    finished = client.post(f"/_sandbox/thanx/issuance_jobs/{pending}/advance").json()["issuance_job"]
    assert (finished["state"], finished["processed_count"]) == ("completed", 4)
    consistent(finished)
    inconsistent = client.post(
        "/_sandbox/thanx/issuance_jobs",
        json={"state": "completed", "total_count": 3, "success_count": 1, "failure_count": 1},
    )
    assert inconsistent.status_code == 422
    assert (
        client.post("/_sandbox/thanx/issuance_jobs", json={"state": "pending", "success_count": 1}).status_code == 422
    )
    assert (
        client.post("/_sandbox/thanx/issuance_jobs", json={"state": "completed", "merchant_id": "nobody"}).status_code
        == 422
    )
    assert client.post("/_sandbox/thanx/issuance_jobs", json={"state": "done"}).status_code == 422
    assert client.get("/_sandbox/thanx/issuance_jobs/job_nope00").status_code == 404
