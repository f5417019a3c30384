from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from revoke_client import RevokeClient, VendorCredentials


@pytest.fixture
def client(conformance_sandbox: Any) -> Iterator[RevokeClient]:
    creds = conformance_sandbox.credentials
    client = RevokeClient(
        conformance_sandbox.base_url,
        VendorCredentials(
            capillary_authorization=creds.capillary_authorization,
            thanx_access_token=creds.thanx_access_token,
            thanx_client_id=creds.thanx_client_id,
            juspay_api_key=creds.juspay_api_key,
            juspay_merchant_id=creds.juspay_merchant_id,
        ),
    )
    yield client
    client.close()
