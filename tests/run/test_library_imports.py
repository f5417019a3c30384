"""A run rewrites the suite's modules for assertions and no library's: where no bytecode can be cached
(PYTHONDONTWRITEBYTECODE, a read-only install) each rewritten module is parsed and compiled again in
every run, and Schemathesis alone loads over a hundred modules after pytest has started."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.run.conftest import run_cli

ROOT = Path(__file__).resolve().parents[2]

# Logs the name of every module pytest's rewriting import hook executes, once the run ends.
PRELUDE = """
import atexit
import _pytest.assertion.rewrite as rewrite
seen = []
original = rewrite.AssertionRewritingHook.exec_module
def exec_module(self, module):
    seen.append(module.__name__)
    return original(self, module)
rewrite.AssertionRewritingHook.exec_module = exec_module
atexit.register(lambda: print("REWRITTEN " + " ".join(seen)))
"""


@pytest.mark.slow
def test_a_run_rewrites_the_suites_modules_and_no_librarys(tmp_path: Path) -> None:
    ran = run_cli(
        "run",
        "--target",
        "replay",
        "--report-dir",
        str(tmp_path / "reports"),
        "-q",
        "--",
        "--collect-only",
        prelude=PRELUDE,
    )
    assert ran.code == 5, ran.text[-3000:]  # a collect-only run tests nothing
    (line,) = [line for line in ran.out.splitlines() if line.startswith("REWRITTEN ")]
    rewritten = line.split()[1:]
    assert "conformance.suite.scenarios.test_thanx" in rewritten, "the suite's tests keep pytest's assert messages"
    assert [name for name in rewritten if not name.startswith("conformance.")] == []
    assert "PytestAssertRewriteWarning" not in ran.text


@pytest.mark.slow
def test_an_xdist_worker_rewrites_no_librarys_modules_either(tmp_path: Path) -> None:
    # A worker is plain pytest with the runner's arguments (xdist hands them on), and no runner before it.
    script = PRELUDE + (
        "import pytest, sys\n"
        f"sys.exit(pytest.main(['{ROOT / 'conformance' / 'suite'}', '-p', 'conformance.libraries', '-p', 'conformance.pytest_plugin', '-c', "
        f"'{ROOT / 'conformance' / 'suite' / 'conformance.ini'}', '--rootdir', '{ROOT}', '-q', '--collect-only', "
        f"'--report-dir', '{tmp_path}']))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFORMANCE_")}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("REWRITTEN ")]
    rewritten = line.split()[1:]
    assert "conformance.suite.scenarios.test_thanx" in rewritten, done.stdout[-2000:]
    # Besides the suite's tests and conftests, only the plugin modules pytest is asked to load by name (it
    # marks those itself); the project's other modules load as in the runner's process.
    others = {name for name in rewritten if not name.rsplit(".", 1)[-1].startswith(("test_", "conftest"))}
    assert others <= {
        "conformance",
        "conformance.libraries",
        "conformance.pytest_plugin",
        "conformance.reporting.progress",
    }
