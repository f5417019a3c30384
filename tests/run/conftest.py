"""Helpers of the run-outcome tests: `conformance run` (and plain pytest with the plugin) in a subprocess,
and what a run left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.reporting.conftest import CATALOGUE_SOURCE, FAKE_CONFTEST, FAKE_RULES

REPO = Path(__file__).resolve().parents[2]
GATE_FILES = ("conformance.json", "junit.xml", "history.jsonl", "verdicts")


@dataclass
class Ran:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err

    def no_traceback(self) -> None:
        assert "Traceback" not in self.text, self.text[-3000:]
        assert "INTERNALERROR" not in self.text, self.text[-3000:]

    def error_paragraph(self) -> str:
        """The one line `conformance: error: ...` on stderr (a paragraph has no line breaks)."""
        lines = [line for line in self.err.splitlines() if line.startswith("conformance: error: ")]
        assert len(lines) == 1, f"expected one error paragraph, got:\n{self.text[-3000:]}"
        self.no_traceback()
        return lines[0]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFORMANCE_")}
    return env | {"PYTHONPATH": str(REPO), "NO_COLOR": "1", "COLUMNS": "120"} | extra


def run_cli(*args: str, env: dict[str, str] | None = None, prelude: str = "", timeout: float = 300) -> Ran:
    """``conformance ARGS`` as a user runs it (``prelude`` may patch a module first, e.g. the specs dir)."""
    code = f"import sys\n{prelude}\nfrom conformance.cli import main\nraise SystemExit(main(sys.argv[1:]))"
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        env=env or clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


def left_behind(report_dir: Path) -> dict[str, bool]:
    return {name: (report_dir / name).exists() for name in GATE_FILES}


def json_files_parse(report_dir: Path) -> None:
    for path in report_dir.rglob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))
    for path in report_dir.rglob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").split("\n"):
            if line.strip():
                json.loads(line)


def junit_outcome(path: Path) -> str | None:
    """The message of the run-level error test case, if the JUnit file carries one."""
    import xml.etree.ElementTree as ET

    for case in ET.parse(path).getroot().iter("testcase"):
        if case.get("classname") == "conformance" and case.get("name") == "run":
            error = case.find("error")
            return None if error is None else error.get("message")
    return None


def matrix(report_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((report_dir / "conformance.json").read_text(encoding="utf-8"))
    return data


def fake_suite_dir(tmp_path: Path, tests: str) -> Path:
    """A small suite on the fake catalogue, to be run with plain pytest and the plugin."""
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "conftest.py").write_text(FAKE_CONFTEST + f"\nFAKE_RULES = {FAKE_RULES!r}\n" + CATALOGUE_SOURCE)
    (suite / "test_fake.py").write_text(tests)
    (suite / "pytest.ini").write_text(
        "[pytest]\nfilterwarnings =\n    error\n    ignore::pytest.PytestAssertRewriteWarning\n"
    )
    return suite


def fake_command(suite: Path, report_dir: Path, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pytest",
        str(suite),
        "-p",
        "conformance.pytest_plugin",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(suite),
        "-c",
        str(suite / "pytest.ini"),
        "--report-dir",
        str(report_dir),
        "--junitxml",
        str(report_dir / "junit.xml"),
        *args,
    ]


def run_fake(suite: Path, report_dir: Path, *args: str, timeout: float = 300) -> Ran:
    done = subprocess.run(
        fake_command(suite, report_dir, *args),
        cwd=suite,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def report_dir(tmp_path: Path) -> Path:
    return tmp_path / "reports"
