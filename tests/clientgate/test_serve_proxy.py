"""``serve --judge-client`` and ``proxy`` (pointed at ``conformance serve``) give the fixture's verdict for the same traffic."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from vcr.serialize import deserialize
from vcr.serializers import yamlserializer

from tests.clientgate.conftest import env, load, run_session

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _process(args: list[str], banner: str, cwd: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    command = [sys.executable, "-m", "conformance.cli", *args]
    process = subprocess.Popen(command, cwd=cwd, env=env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    url = ""
    for line in process.stdout:
        if match := re.search(banner + r" on (http://127\.0\.0\.1:\d+)", line):
            url = match.group(1)
            break
    try:
        assert url, "the server printed no URL"
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        process.stdout.close()


def _stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=30)
    return process.returncode, out


def same(verdict: dict[str, Any]) -> dict[str, Any]:
    return {
        key: verdict[key] for key in ("breaches", "coverage", "requests", "passed", "judged_rules", "catalogue_sha256")
    }


def test_serve_and_proxy_write_the_fixtures_verdict(example: Path, tmp_path: Path) -> None:
    wrong = example / "wrong_client"
    assert run_session(wrong, "--clientgate-verdict", "fixture.json").returncode == 1
    fixture = same(load(wrong / "fixture.json"))

    with _process(
        ["serve", "--judge-client", "--port", "0", "--verdict", str(tmp_path / "serve.json")],
        "sandbox listening",
        tmp_path,
    ) as (serve, url):
        session = run_session(wrong, "--clientgate-url", url, "--clientgate-verdict", "via-serve.json")
        assert session.returncode == 1, session.stdout
        code, out = _stop(serve)
    assert code == 1, out
    assert "verdict: FAILED" in out
    assert same(load(wrong / "via-serve.json")) == fixture
    assert same(load(tmp_path / "serve.json")) == fixture

    port = _free_port()
    with _process(["serve", "--port", "0"], "sandbox listening", tmp_path) as (_upstream, upstream_url):
        proxy_args = ["proxy", "--to", upstream_url, "--port", str(port), "--verdict", str(tmp_path / "proxy.json")]
        proxy_args += ["--cassette", str(tmp_path / "proxy.yaml")]
        with _process(proxy_args, "proxy listening", tmp_path) as (proxy, proxy_url):
            session = run_session(wrong, "--clientgate-url", proxy_url, "--clientgate-verdict", "via-proxy.json")
            assert session.returncode == 1, session.stdout
            code, out = _stop(proxy)
    assert code == 1, out
    proxied = load(tmp_path / "proxy.json")
    assert same(proxied) == fixture
    assert proxied["responses"]["violations"] == []
    assert proxied["responses"]["verified_rules"]
    cassette = (tmp_path / "proxy.yaml").read_text()
    requests, responses = deserialize(cassette, yamlserializer)
    assert len(requests) == len(responses) > 0
    assert "conformance_juspay_key" not in cassette
    assert "conformance-thanx-token" not in cassette
