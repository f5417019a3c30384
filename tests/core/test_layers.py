"""The dependency rules of ARCHITECTURE.md, enforced: a forbidden import fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "conformance"

# (layer, modules it must never import)
FORBIDDEN = [
    ("checks", ("conformance.reporting", "conformance.pytest_plugin", "conformance.suite", "conformance.sandbox")),
    ("verdicts.py", ("conformance.reporting", "conformance.pytest_plugin", "conformance.checks")),
    ("http", ("conformance.reporting", "conformance.pytest_plugin", "conformance.checks", "conformance.verdicts")),
    ("reporting", ("conformance.pytest_plugin", "conformance.suite", "conformance.checks", "conformance.sandbox")),
    ("provisioners", ("conformance.reporting", "conformance.pytest_plugin", "conformance.suite")),
    ("live", ("conformance.reporting", "conformance.suite", "conformance.sandbox", "conformance.checks")),
    ("speccheck", ("conformance.suite", "conformance.sandbox", "conformance.reporting", "conformance.pytest_plugin")),
    # drift judges recordings offline with the suite's checks, outcome predicates and spec tooling; no run machinery.
    ("drift", ("conformance.sandbox", "conformance.pytest_plugin", "conformance.runner", "conformance.context")),
    ("waits.py", ("conformance",)),
    # The client gate judges a client library's traffic; it never runs the suite or its reports.
    ("clientgate", ("conformance.suite", "conformance.pytest_plugin", "conformance.reporting", "conformance.runner")),
]


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_sandbox_never_imports_the_client_gate() -> None:
    offenders = [
        str(path.relative_to(PACKAGE.parent))
        for path in sorted((PACKAGE / "sandbox").rglob("*.py"))
        if any(name.startswith("conformance.clientgate") for name in imports_of(path))
    ]
    assert offenders == []


@pytest.mark.parametrize(("layer", "banned"), FORBIDDEN, ids=[layer for layer, _ in FORBIDDEN])
def test_layer_imports_nothing_above_it(layer: str, banned: tuple[str, ...]) -> None:
    root = PACKAGE / layer
    files = [root] if root.is_file() else sorted(root.rglob("*.py"))
    assert files
    offenders = [
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for path in files
        for name in imports_of(path)
        if name.startswith(banned)
    ]
    assert offenders == []
