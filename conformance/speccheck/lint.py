"""Linting a spec with Spectral (``specs/.spectral.yaml``); without Node the step is skipped, never passed."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from conformance.speccheck.node import node_tool, repo_root

RULESET = ".spectral.yaml"
SEVERITY = {0: "error", 1: "warning", 2: "info", 3: "hint"}


@dataclass
class LintResult:
    status: Literal["passed", "failed", "skipped"]
    reason: str = ""
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.status == "skipped":
            return f"skipped: {self.reason}"
        return f"{self.status} ({len(self.errors)} errors, {len(self.warnings)} warnings)"


def ruleset_for(specs_dir: Path) -> Path:
    """The specs directory's own ruleset, else the project's."""
    own = specs_dir / RULESET
    return own if own.is_file() else repo_root() / "specs" / RULESET


def spectral_missing_reason() -> str | None:
    """None when Spectral can run; otherwise the one-line reason it cannot."""
    if shutil.which("node") is None:
        return "Node.js not found (the spec linter needs Node 18+; install it from your package manager)"
    if node_tool("spectral") is None:
        return f"Spectral is not installed: run `npm ci` in {repo_root()}"
    return None


def lint_spec(spec_path: Path, ruleset: Path, timeout: float = 180.0) -> LintResult:
    """Run ``spectral lint --format json`` on one file; errors fail, warnings are reported."""
    command = node_tool("spectral")
    if command is None:
        return LintResult("skipped", spectral_missing_reason() or "Spectral is not available")
    if not ruleset.is_file():
        return LintResult("failed", errors=[f"the ruleset {ruleset} does not exist"])
    argv = [*command, "lint", "--format", "json", "--quiet", "--ruleset", str(ruleset), str(spec_path)]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return LintResult("failed", errors=[f"Spectral could not run: {exc}"])
    results = _parse(done.stdout)
    if results is None:
        tail = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        why = tail[-1].strip() if tail else f"exit code {done.returncode}"
        return LintResult("failed", errors=[f"Spectral failed (exit code {done.returncode}): {why}"])
    result = LintResult("passed")
    for item in results:
        text = _describe(item)
        severity = SEVERITY.get(int(item.get("severity", 0)), "error")
        (result.errors if severity == "error" else result.warnings).append(text)
    if result.errors:
        result.status = "failed"
    return result


def _parse(stdout: str) -> list[dict[str, Any]] | None:
    text = stdout.strip()
    start, end = text.find("["), text.rfind("]")
    if start < 0 or end < start:
        return None
    try:
        data = json.loads(text[start : end + 1])
    except json.JSONDecodeError:
        return None
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else None


def _describe(item: dict[str, Any]) -> str:
    start = item.get("range", {}).get("start", {})
    line = int(start.get("line", -1)) + 1
    path = "/" + "/".join(str(token).replace("~", "~0").replace("/", "~1") for token in item.get("path", []))
    location = f"line {line}" if line > 0 else "?"
    return f"{location} {item.get('code', '?')}: {item.get('message', '')} (at {path})"
