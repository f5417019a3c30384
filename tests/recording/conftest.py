from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.sandbox import SandboxCredentials, create_app
from conformance.sandbox.server import run_in_thread

REPO = Path(__file__).resolve().parents[2]


def run_conformance(tmp: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real command line in a subprocess, with every output under ``tmp``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CONFORMANCE_")}
    clean.update(env or {})
    cmd = [sys.executable, "-m", "conformance.cli", "run", "--report-dir", str(tmp / "reports"), *args]
    if "--" not in args:
        cmd.append("--")
    cmd += ["-o", f"cache_dir={tmp / '.pytest_cache'}"]
    return subprocess.run(cmd, cwd=tmp, env=clean, capture_output=True, text=True, timeout=300, check=False)


CANARIES = {
    "capillary_username": "canary_till_7Q",
    "capillary_password": "canary+Pass/word=9",
    "capillary_oauth_token": "canary-oauth-3F",
    "thanx_access_token": "canary-thanx+token/8",
    "thanx_noscope_token": "canary-noscope-5K",
    "thanx_client_id": "canary-client-2W",
    "juspay_api_key": "canary_juspay+key/4",
    "juspay_merchant_id": "canary_merchant",
}


@pytest.fixture
def canary_server() -> Iterator[tuple[str, SandboxCredentials]]:
    creds = SandboxCredentials(**CANARIES)
    with run_in_thread(create_app(seed=3, credentials=creds)) as base_url:
        yield base_url, creds


@pytest.fixture
def failing_canary_server() -> Iterator[tuple[str, SandboxCredentials]]:
    """Canary credentials on a sandbox that deviates, so some recorded tests fail (their cassettes count too)."""
    creds = SandboxCredentials(**CANARIES)
    with run_in_thread(create_app(seed=3, credentials=creds, deviation="juspay-revoke-202")) as base_url:
        yield base_url, creds
