"""``conformance serve``: banner with base URL and credentials, one log line per request, clean Ctrl-C."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from conformance.tools.stcli import ROOT, free_port, serve_command, wait_healthy


def start(tmp_path: Path, port: int) -> tuple[subprocess.Popen[bytes], Path]:
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(serve_command(port, 7), stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT)
    return process, log


def stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGINT)  # what Ctrl-C sends
    try:
        return process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
        raise


@pytest.mark.slow
def test_serve_prints_url_and_credentials_logs_each_request_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    process, log = start(tmp_path, port)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base_url, process)
        paths = ["/_sandbox/credentials", "/partner/merchants", "/v2/points/reverse"]
        with httpx.Client(base_url=base_url, timeout=5.0) as client:
            assert client.get(paths[0]).status_code == 200
            assert client.get(paths[1]).status_code == 401  # no Thanx credentials
            assert client.post(paths[2], json={}).status_code == 401
        time.sleep(0.2)  # let the access log flush
        before_stop = log.read_text()
    finally:
        code = stop(process)
    output = log.read_text()
    banner = output.splitlines()[:3]
    assert banner[0].startswith(f"sandbox listening on {base_url} (seed 7")
    assert "capillary-badges" in banner[1]
    assert "juspay" in banner[1]
    for credential in (
        "conformance_till",
        "conformance-thanx-token",
        "conformance-client-id",
        "conformance_juspay_key",
    ):
        assert credential in banner[2]
    request_lines = [line for line in before_stop.splitlines() if '" 200' in line or '" 401' in line]
    health_lines = [line for line in request_lines if "/_sandbox/health" in line]
    assert len(request_lines) - len(health_lines) == len(paths)  # one line per request
    for path in paths:
        assert sum(1 for line in request_lines if path in line) == 1
    assert code == 0
    assert "Traceback" not in output
    assert "KeyboardInterrupt" not in output
    assert f"Finished server process [{process.pid}]" in output
    assert output.rstrip().splitlines()[-1] == "sandbox stopped"  # goodbye


@pytest.mark.slow
def test_serve_banner_names_the_bound_port_when_asked_for_any_port(tmp_path: Path) -> None:
    process, log = start(tmp_path, 0)
    try:
        deadline = time.monotonic() + 10
        while "Started server process" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop(process)
    banner = log.read_text().splitlines()[0]
    assert "127.0.0.1:0 " not in banner
    assert re.search(r"http://127\.0\.0\.1:[1-9][0-9]* ", banner), banner
