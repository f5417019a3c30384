"""The wrong client's tests pass on their own terms; the client gate fails the session, once per broken rule."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from wrong_client import WrongClient


@pytest.fixture
def client(conformance_sandbox: Any) -> Iterator[WrongClient]:
    client = WrongClient(conformance_sandbox.base_url, conformance_sandbox.credentials)
    yield client
    client.close()


def test_thanx_revoke(client: WrongClient, conformance_sandbox: Any) -> None:
    job = conformance_sandbox.control.thanx_job("completed")
    assert client.revoke_issuance_job(job.id, job.merchant_id).status_code == 400


def test_reward_revoke(client: WrongClient, conformance_sandbox: Any) -> None:
    conformance_sandbox.control.set_revoke_enabled(True)
    txn = conformance_sandbox.control.reward_txn([("ISSUED", 10)])
    assert client.revoke_reward(txn.txn_id).status_code == 200


def test_mandate_status(client: WrongClient, conformance_sandbox: Any) -> None:
    mandate = conformance_sandbox.control.mandate("ACTIVE")
    assert client.mandate_status(mandate.mandate_id, mandate.customer_id).status_code == 400


def test_mandate_revoke_after_timeout(client: WrongClient, conformance_sandbox: Any) -> None:
    mandate = conformance_sandbox.control.mandate("ACTIVE")
    conformance_sandbox.control.fault("juspay", "gateway_timeout", delay_ms=1500)
    assert client.revoke_mandate(mandate.mandate_id, mandate.customer_id, timeout=0.5).status_code == 200
