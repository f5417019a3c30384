"""The sandbox is an independent rendering of the vendor docs: it never reads specs/ nor imports the suite."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SANDBOX = Path(__file__).resolve().parents[2] / "conformance" / "sandbox"
SOURCES = sorted(SANDBOX.rglob("*.py"))


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                found.append("." * node.level + (node.module or ""))
            elif node.module:
                found.append(node.module)
                # `from conformance import x` imports the submodule conformance.x.
                if node.module == "conformance":
                    found.extend(f"conformance.{alias.name}" for alias in node.names)
    return found


def test_sources_found() -> None:
    assert len(SOURCES) >= 5


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: path.name)
def test_imports_nothing_of_the_suite(path: Path) -> None:
    offending = [
        name
        for name in imported_modules(path)
        if name.startswith(".")
        or (
            name.split(".")[0] == "conformance"
            and name != "conformance.sandbox"
            and not name.startswith("conformance.sandbox.")
        )
    ]
    assert offending == [], f"{path.name} imports {offending}; the sandbox may import only conformance.sandbox.*"


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: path.name)
def test_never_reads_specs(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    documented = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    literals = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in documented
    ]
    mentions = [text for text in literals if "specs/" in text or text == "specs" or text.endswith(".yaml")]
    assert mentions == [], f"{path.name} names spec files: {mentions}"
    assert not {"yaml", "ruamel"} & {name.split(".")[0] for name in imported_modules(path)}


def test_checker_catches_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from conformance.checks import x\nimport conformance.reporting\nfrom conformance import cli\n")
    assert imported_modules(bad) == ["conformance.checks", "conformance.reporting", "conformance", "conformance.cli"]
