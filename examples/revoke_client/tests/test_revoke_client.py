"""The example client's own tests, run against the judged sandbox: each one drives a documented behaviour."""

from __future__ import annotations

from typing import Any

from revoke_client import RevokeClient


def test_badge_revoked_then_814(client: RevokeClient, conformance_sandbox: Any) -> None:
    earn = conformance_sandbox.control.badge_earn()
    first = client.revoke_badge(earn.badge_meta_id, earn.earned_badge_id, earn.customer_id)
    assert first["data"]["isActive"] is False
    second = client.revoke_badge(earn.badge_meta_id, earn.earned_badge_id, earn.customer_id)
    assert second["errors"][0]["code"] == 814


def test_badge_by_email(client: RevokeClient, conformance_sandbox: Any) -> None:
    earn = conformance_sandbox.control.badge_earn()
    answer = client.revoke_badge(earn.badge_meta_id, earn.earned_badge_id, earn.identifiers["email"], "email")
    assert answer["data"]["customerId"] == earn.customer_id


def test_points_reversed_then_duplicate(client: RevokeClient, conformance_sandbox: Any) -> None:
    redemption = conformance_sandbox.control.points_redemption(100)
    answer = client.reverse_points(redemption.redemption_id, "ID", str(redemption.customer_id))
    assert answer["pointsReversed"] == 100
    again = client.reverse_points(redemption.redemption_id, "ID", str(redemption.customer_id))
    assert again["errors"]


def test_reward_revoked_after_1018(client: RevokeClient, conformance_sandbox: Any) -> None:
    control = conformance_sandbox.control
    control.set_revoke_enabled(True)
    txn = control.reward_txn([("ISSUED", 50)])
    control.fault("capillary-rewards", "points_failure")
    assert client.revoke_reward(txn.txn_id)["status"]["code"] == 200


def test_reward_unknown_transaction(client: RevokeClient, conformance_sandbox: Any) -> None:
    conformance_sandbox.control.set_revoke_enabled(True)
    assert client.revoke_reward(987654321)["status"]["code"] == 10007


def test_thanx_revoke_polls_until_revoked(client: RevokeClient, conformance_sandbox: Any) -> None:
    job = conformance_sandbox.control.thanx_job("completed")
    assert client.revoke_issuance_job(job.id, job.merchant_id)["issuance_job"]["state"] == "revoked"


def test_thanx_pending_job_is_422(client: RevokeClient, conformance_sandbox: Any) -> None:
    job = conformance_sandbox.control.thanx_job("pending")
    assert client.revoke_issuance_job(job.id, job.merchant_id)["status"] == 422


def test_thanx_429_is_retried_after_retry_after(client: RevokeClient, conformance_sandbox: Any) -> None:
    job = conformance_sandbox.control.thanx_job("failed")
    conformance_sandbox.control.fault("thanx", "rate_limit", retry_after=1)
    assert client.revoke_issuance_job(job.id, job.merchant_id)["issuance_job"]["state"] == "revoked"


def test_mandate_revoked_then_not_active(client: RevokeClient, conformance_sandbox: Any) -> None:
    mandate = conformance_sandbox.control.mandate("ACTIVE")
    assert client.revoke_mandate(mandate.mandate_id, mandate.customer_id)["mandate_status"] == "REVOKED"
    assert client.revoke_mandate(mandate.mandate_id, mandate.customer_id)["status"] != "REVOKED"


def test_mandate_gateway_failure_with_and_without_implicit_revoke(
    client: RevokeClient, conformance_sandbox: Any
) -> None:
    control = conformance_sandbox.control
    mandate = control.mandate("ACTIVE")
    control.fault("juspay", "gateway_failure")
    assert client.revoke_mandate(mandate.mandate_id, mandate.customer_id)["mandate_status"] == "ACTIVE"
    control.fault("juspay", "gateway_failure")
    answer = client.revoke_mandate(mandate.mandate_id, mandate.customer_id, implicit=True)
    assert answer["mandate_status"] == "REVOKED"


def test_mandate_timeout_reads_the_status(client: RevokeClient, conformance_sandbox: Any) -> None:
    mandate = conformance_sandbox.control.mandate("ACTIVE")
    conformance_sandbox.control.fault("juspay", "gateway_timeout", delay_ms=1500)
    answer = client.revoke_mandate(mandate.mandate_id, mandate.customer_id, timeout=0.5)
    assert answer["mandate_status"] == "ACTIVE"
