"""Each check reports what it finds; a specs directory with findings makes ``specs check`` exit 1."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from conformance.speccheck import render, run_check
from conformance.speccheck.cli import main
from tests.speccheck.conftest import repin

Edit = Callable[[Path, str, str], None]


def test_counts_on_the_good_fixture(specs_dir: Path) -> None:
    report = run_check(specs_dir, lint=False)
    assert report.ok, render(report)
    demo = report.api("demo")
    assert demo.operations == 1
    assert demo.examples == 3
    assert demo.rules_by_confidence == {"documented": 1, "inferred": 1, "assumed": 0}
    assert demo.conflicts == ["DEMO-CONFLICT-STATE"]
    assert demo.gaps == ["DEMO-GAP-REASON-LENGTH"]
    assert demo.table_rows == 6
    assert demo.lint.status == "skipped"
    text = render(report)
    assert "DEMO-CONFLICT-STATE [demo]" in text
    assert "sandbox choice: The sandbox accepts any length." in text
    assert "lint: skipped: --no-lint was given" in text


def test_missing_quote_is_reported(specs_dir: Path, edit: Edit, capsys: pytest.CaptureFixture[str]) -> None:
    edit(
        specs_dir / "demo.yaml",
        "x-source-quote: The revoked widget.\n          content",
        "x-source-quote: The widget that was revoked.\n          content",
    )
    report = run_check(specs_dir, lint=False)
    assert not report.ok
    (failure,) = report.api("demo").quote_failures
    assert failure == (
        "/paths/~1widgets~1revoke/post/responses/200: x-source-quote not found in demo-revoke.md:"
        " 'The widget that was revoked.'"
    )
    assert main(["specs", "check", "--specs-dir", str(specs_dir), "--no-lint"]) == 1
    assert "quotes not found (1)" in capsys.readouterr().out


def test_quote_tolerates_whitespace_escapes_and_entities(specs_dir: Path, edit: Edit) -> None:
    # The page has "widget\_id\*" in a table, "&quot;REVOKED&quot;" and a line break inside the sentence.
    edit(
        specs_dir / "demo.yaml",
        "x-source-quote: This API revokes an issued widget.",
        "x-source-quote: 'revoked; a widget   that was already revoked returns error 901.'",
    )
    report = run_check(specs_dir, lint=False)
    assert report.api("demo").quote_failures == []


def test_missing_provenance_is_reported(specs_dir: Path, edit: Edit) -> None:
    edit(
        specs_dir / "demo.yaml",
        "          x-source: {page: demo-revoke.md, section: Request body parameters}\n"
        "          x-source-quote: Why the widget is revoked, for the audit log.\n",
        "",
    )
    report = run_check(specs_dir, lint=False)
    assert report.api("demo").provenance_missing == [
        "/components/schemas/RevokeRequest/properties/reason: property reason has no x-source or x-source-quote"
    ]


def test_uncovered_table_row_is_reported(specs_dir: Path, edit: Edit) -> None:
    page = specs_dir / "sources" / "demo-revoke.md"
    edit(page, "| legacy ", "| legacy    | Boolean   | Deprecated; always false.              |\n| expiry ")
    repin(specs_dir, "demo-revoke.md")
    report = run_check(specs_dir, lint=False)
    demo = report.api("demo")
    assert demo.uncovered_rows == ["demo-revoke.md:20: Response parameters / expiry (response field)"]
    assert not report.ok
    assert "table rows without a spec node or x-not-modelled entry (1)" in render(report)


def test_x_not_modelled_covers_a_row(specs_dir: Path, edit: Edit) -> None:
    # Without its x-not-modelled entry the "legacy" row is uncovered; with it, it is covered.
    assert run_check(specs_dir, lint=False).api("demo").uncovered_rows == []
    edit(specs_dir / "demo.yaml", "      row: legacy\n", "      row: legacy-field\n")
    demo = run_check(specs_dir, lint=False).api("demo")
    assert demo.uncovered_rows == ["demo-revoke.md:19: Response parameters / legacy (response field)"]


def test_x_not_modelled_for_a_modelled_row_is_reported(specs_dir: Path, edit: Edit) -> None:
    edit(specs_dir / "demo.yaml", "      row: legacy\n", "      row: state\n")
    demo = run_check(specs_dir, lint=False).api("demo")
    assert any("names a row the spec now models" in problem for problem in demo.problems)


def test_uncovered_error_code(specs_dir: Path, edit: Edit) -> None:
    edit(specs_dir / "demo.yaml", "        - code: 901", "        - code: 902")
    demo = run_check(specs_dir, lint=False).api("demo")
    assert demo.uncovered_rows == ["demo-revoke.md:25: API-specific error codes / 901 (error code)"]


def test_duplicate_rule_ids_are_reported(specs_dir: Path) -> None:
    second = specs_dir / "rules" / "demo.yaml"
    extra = specs_dir / "rules" / "other.yaml"
    text = second.read_text(encoding="utf-8").replace("api: demo", "api: other")
    extra.write_text(text.replace("DEMO-REVOKE-TWICE-901", "OTHER-REVOKE-TWICE-901"), encoding="utf-8")
    report = run_check(specs_dir, lint=False)
    assert not report.ok
    (duplicate,) = report.global_problems
    assert "rules[0] DEMO-REVOKE-ISSUED-ONLY: duplicate rule id (first used in" in duplicate
    assert "demo.yaml" in duplicate


def test_rule_format_and_references_are_checked(specs_dir: Path, edit: Edit) -> None:
    rules = specs_dir / "rules" / "demo.yaml"
    edit(rules, "id: DEMO-REVOKE-ISSUED-ONLY", "id: demo-lowercase")
    edit(
        rules,
        "operation: revokeWidget\n    source: {page: demo-revoke.md, section: Revoke a widget}\n    quote: a",
        "operation: revokeGadget\n    source: {page: demo-revoke.md, section: Revoke a widget}\n    quote: a",
    )
    problems = run_check(specs_dir, lint=False).api("demo").problems
    assert any("rules.0.id: String should match pattern" in problem for problem in problems)
    edit(rules, "id: demo-lowercase", "id: DEMO-REVOKE-ISSUED-ONLY")
    problems = run_check(specs_dir, lint=False).api("demo").problems
    assert any("operation 'revokeGadget' is not an operationId in demo.yaml" in problem for problem in problems)


def test_manifest_hash_mismatch_is_reported(specs_dir: Path) -> None:
    page = specs_dir / "sources" / "demo-revoke.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nEdited after pinning.\n", encoding="utf-8")
    report = run_check(specs_dir, lint=False)
    assert not report.ok
    (problem,) = report.manifest_problems
    assert "sha256 mismatch for demo-revoke.md" in problem


def test_unlisted_source_page_is_reported(specs_dir: Path) -> None:
    (specs_dir / "sources" / "stray.md").write_text("# Stray\n", encoding="utf-8")
    report = run_check(specs_dir, lint=False)
    assert any("stray.md is not listed" in problem for problem in report.manifest_problems)


def test_invalid_example_is_reported(specs_dir: Path, edit: Edit) -> None:
    edit(specs_dir / "demo.yaml", "                    state: REVOKED", "                    state: ISSUED")
    demo = run_check(specs_dir, lint=False).api("demo")
    assert demo.examples == 3
    (failure,) = demo.example_failures
    assert failure.startswith("/paths/~1widgets~1revoke/post/responses/200/content/application~1json/examples/revoked")
    assert "'ISSUED' is not one of ['REVOKED']" in failure


def test_example_through_ref_is_checked(specs_dir: Path, edit: Edit) -> None:
    edit(
        specs_dir / "demo.yaml",
        "              widget_id: w-1\n              reason: mis-issued",
        "              reason: mis-issued",
    )
    (failure,) = run_check(specs_dir, lint=False).api("demo").example_failures
    assert "'widget_id' is a required property" in failure
