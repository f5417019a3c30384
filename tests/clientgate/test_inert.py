"""Loaded in every session of anyone who installs the package: inert and cheap unless it is used."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.clientgate.conftest import ROOT, env, run_session


def test_a_session_that_does_not_use_the_fixture_is_untouched(tmp_path: Path) -> None:
    (tmp_path / "test_plain.py").write_text("def test_plain():\n    assert 1 + 1 == 2\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = --strict-markers --strict-config\n")
    result = run_session(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "client gate" not in result.stdout
    assert not (tmp_path / "clientgate-verdict.json").exists()


def test_importing_the_plugin_imports_nothing_of_the_package() -> None:
    probe = (
        "import sys, conformance.clientgate.plugin\n"
        "print(sorted(m for m in sys.modules if m.startswith(('conformance', 'httpx', 'uvicorn', 'starlette'))))"
    )
    out = subprocess.run([sys.executable, "-c", probe], env=env(), cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['conformance', 'conformance.clientgate', 'conformance.clientgate.plugin']"


def test_a_url_that_does_not_judge_is_refused_in_one_paragraph(tmp_path: Path) -> None:
    (tmp_path / "test_uses.py").write_text("def test_uses(conformance_sandbox):\n    pass\n")
    result = run_session(tmp_path, "--clientgate-url", "http://127.0.0.1:9")
    assert result.returncode != 0
    assert "client gate at http://127.0.0.1:9 is unreachable" in result.stdout
