"""Spectral lint: errors fail, warnings are reported, and a missing Node is "skipped", never "passed"."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conformance.speccheck import lint as lint_module
from conformance.speccheck import node as node_module
from conformance.speccheck import render, run_check
from conformance.speccheck.lint import lint_spec, ruleset_for
from conformance.speccheck.node import NODE_MISSING, NodeToolsMissing, ensure_node_tools, repo_root
from tests.speccheck.conftest import FIXTURES, needs_spectral

RULESET = repo_root() / "specs" / ".spectral.yaml"


@pytest.mark.needs_node
@needs_spectral
def test_known_bad_spec_has_lint_errors() -> None:
    result = lint_spec(FIXTURES / "lint-bad.yaml", RULESET)
    assert result.status == "failed"
    errors, warnings = " ".join(result.errors), " ".join(result.warnings)
    assert "array-items" in errors
    assert "oas3-valid-media-example" in errors
    assert "no-script-tags-in-markdown" in warnings
    assert "operation-description" in warnings
    assert result.describe() == "failed (2 errors, 2 warnings)"


@pytest.mark.needs_node
@needs_spectral
def test_good_fixture_lints_clean(specs_dir: Path) -> None:
    result = lint_spec(specs_dir / "demo.yaml", ruleset_for(specs_dir))
    assert result.status == "passed", result.errors
    assert result.errors == []
    report = run_check(specs_dir)
    assert report.ok, render(report)
    assert report.api("demo").lint.status == "passed"


def test_missing_spectral_is_skipped_not_passed(specs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lint_module, "node_tool", lambda name: None)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    result = lint_spec(specs_dir / "demo.yaml", RULESET)
    assert result.status == "skipped"
    assert result.describe().startswith("skipped: Node.js not found")
    report = run_check(specs_dir)
    assert report.api("demo").lint.status == "skipped"
    assert "lint: skipped: Node.js not found" in render(report)
    assert "0E/0W" not in render(report)


def test_ensure_node_tools_without_npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(NodeToolsMissing) as caught:
        ensure_node_tools(tmp_path)
    assert str(caught.value) == NODE_MISSING
    assert caught.value.exit_code == 2


def test_ensure_node_tools_is_a_no_op_when_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "node_modules").mkdir()
    monkeypatch.setattr(shutil, "which", lambda name: None)
    ensure_node_tools(tmp_path)


def test_node_tool_missing_binary(tmp_path: Path) -> None:
    assert node_module.node_tool("spectral", root=tmp_path) is None
