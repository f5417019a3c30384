"""Fixtures: ``conformance serve`` on a free loopback port, with the auth it is asked to require."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.tools.stcli import ServeProcess, serving
from tests.recording.conftest import run_conformance


def request_log(server: ServeProcess, *, clear: bool = False) -> dict[str, Any]:
    """The sandbox's own record of the requests it served and the OAuth tokens it issued."""
    method = "DELETE" if clear else "GET"
    return dict(httpx.request(method, f"{server.base_url}/_sandbox/requests", timeout=5).json())


def run_live(
    tmp: Path, base_url: str, provisioner: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``conformance run --target live`` against ``base_url``, preconditions made by ``provisioner``."""
    live = ("--target", "live", "--base-url", base_url, "--provisioner", provisioner)
    return run_conformance(tmp, *live, *args, env=env)


def vendor_requests(log: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in log["requests"] if not r["path"].startswith("/_sandbox/")]


@pytest.fixture
def oauth_served(tmp_path: Path) -> Iterator[ServeProcess]:
    """Capillary requires generated OAuth tokens that live two seconds."""
    with serving(tmp_path / "serve.log", extra=["--require-oauth", "--oauth-token-ttl", "2"]) as server:
        yield server


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServeProcess]:
    with serving(tmp_path / "serve.log") as server:
        yield server


@pytest.fixture
def noscope_served(tmp_path: Path) -> Iterator[ServeProcess]:
    """The Thanx test token lacks rewards.issue."""
    with serving(tmp_path / "serve.log", extra=["--thanx-scope-missing"]) as server:
        yield server
