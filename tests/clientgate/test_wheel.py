"""A client library adds one dependency and one fixture argument: the wheel, installed in a fresh venv, gates it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from tests.clientgate.conftest import ROOT

pytestmark = pytest.mark.slow

CLIENT_TEST = """
import httpx


def test_thanx_revoke(conformance_sandbox):
    job = conformance_sandbox.control.thanx_job("completed")
    creds = conformance_sandbox.credentials
    headers = {"Authorization": f"Bearer {creds.thanx_access_token}", "X-ClientId": creds.thanx_client_id,
               "Accept-Version": "v4.0"}
    answer = httpx.post(f"{conformance_sandbox.base_url}/partner/issuance_jobs/{job.id}/revoke",
                        json={"merchant_id": job.merchant_id}, headers=headers)
    assert answer.status_code == 202
"""


def _run(*command: str | Path, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_the_wheel_installed_in_a_fresh_venv_gates_a_one_file_client_test(tmp_path: Path) -> None:
    source = tmp_path / "source"
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    for name in files.stdout.splitlines():
        origin = ROOT / name
        if origin.is_symlink() or origin.is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, source / name, follow_symlinks=False)
    clean = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "CONFORMANCE_CLIENTGATE_URL"}}
    built = _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "-q",
        "-w",
        tmp_path / "dist",
        source,
        cwd=tmp_path,
        env=clean,
    )
    assert built.returncode == 0, built.stderr
    wheel = next((tmp_path / "dist").glob("conformance-*.whl"))

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    site = Path(
        _run(
            python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path, env=clean
        ).stdout.strip()
    )
    # The dependencies come from this environment (no download); the package itself only from the wheel.
    (site / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = _run(python, "-m", "pip", "install", "--no-deps", "-q", wheel, cwd=tmp_path, env=clean)
    assert installed.returncode == 0, installed.stderr

    client = tmp_path / "client"
    client.mkdir()
    (client / "test_client.py").write_text(CLIENT_TEST)
    result = _run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=client, env=clean)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verdict: PASSED" in result.stdout
    assert (client / "clientgate-verdict.json").is_file()
    assert (client / "clientgate-verdict.xml").is_file()
    where = _run(
        python,
        "-c",
        "import conformance.rules as r, conformance.apis as a; print(r.__file__); print(a.SPECS_DIR)",
        cwd=client,
        env=clean,
    )
    module, specs = where.stdout.split()
    assert module.startswith(str(site)), where.stdout
    assert specs.startswith(str(site)), where.stdout
