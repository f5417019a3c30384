"""The dependency rules of ARCHITECTURE.md, enforced: the diagram there is the one declaration of the layers.

The allowed graph is parsed from the "Layers" block of ARCHITECTURE.md; every import of every module
under conformance/ (module level, inside functions, under TYPE_CHECKING) must follow an arrow of it,
every arrow must be used by some import, and the invariants below must hold of the declaration itself.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "conformance"
ARROW = "──►"
NOTHING = "(nothing)"

# Invariants the declaration must keep: (layer, what it must never import, even if an arrow were added).
FORBIDDEN = [
    ("checks", ("reporting", "pytest_plugin", "suite", "sandbox")),
    ("verdicts", ("reporting", "pytest_plugin", "checks")),
    ("http", ("reporting", "pytest_plugin", "checks", "verdicts")),
    ("reporting", ("pytest_plugin", "suite", "checks", "sandbox")),
    ("provisioners", ("reporting", "pytest_plugin", "suite")),
    ("live", ("reporting", "suite", "sandbox", "checks")),
    ("speccheck", ("suite", "sandbox", "reporting", "pytest_plugin")),
    # drift judges recordings offline with the suite's checks, outcome predicates and spec tooling; no run machinery.
    ("drift", ("sandbox", "pytest_plugin", "runner", "context")),
    # The client gate judges a client library's traffic; it never runs the suite or its reports.
    ("clientgate", ("suite", "pytest_plugin", "reporting", "runner")),
    # The product never reaches into the tools around it, and the suite never into the plugin that loads it.
    ("suite", ("pytest_plugin", "tools", "cli", "runner")),
    ("settings", ("http", "targets", "pytest_plugin")),
]
# Layers that import nothing of conformance: the sandbox is an independent rendering of the docs.
SEALED = ("sandbox", "waits", "errors", "files", "findings")


def parse_layers(text: str) -> dict[str, set[str]]:
    """Layer -> what it may import, from the first fenced block after the "## Layers" heading."""
    section = text.split("## Layers", 1)[1]
    block = section.split("```", 2)[1].split("\n", 1)[1]
    graph: dict[str, set[str]] = {}
    for line in filter(str.strip, block.splitlines()):
        source, _, targets = line.partition(ARROW)
        assert _, f"not an arrow line: {line!r}"
        layer = source.strip()
        assert layer not in graph, f"{layer} is declared twice"
        names = targets.strip()
        graph[layer] = set() if names == NOTHING else {name.strip() for name in names.split(",")}
    return graph


@cache
def declared() -> dict[str, set[str]]:
    return parse_layers((ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8"))


def is_module(dotted: str) -> bool:
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def layer_of(module: str) -> str:
    return module.split(".")[1] if "." in module else module


def imports_in(source: str, package: str) -> set[str]:
    """Every module of conformance ``source`` imports, anywhere in it; ``from a import b`` names a.b if a module."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = parts[: len(parts) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names |= {f"{base}.{a.name}" if is_module(f"{base}.{a.name}") else base for a in node.names}
    return {name for name in names if name == "conformance" or name.startswith("conformance.")}


def imports_of(path: Path) -> set[str]:
    name = module_name(path)
    return imports_in(path.read_text(encoding="utf-8"), name if path.name == "__init__.py" else name.rpartition(".")[0])


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def allows(layer: str, module: str) -> bool:
    short = module.removeprefix("conformance.")
    return any(short == target or short.startswith(target + ".") for target in declared().get(layer, set()))


def cross_layer_imports() -> list[tuple[Path, str, str]]:
    """(file, its layer, imported module) for every import that leaves the file's layer."""
    found = []
    for path in modules():
        layer = layer_of(module_name(path))
        for name in sorted(imports_of(path)):
            # The package root holds only the version string.
            if name != "conformance" and layer_of(name) != layer:
                found.append((path, layer, name))
    return found


def test_every_layer_of_the_package_is_declared() -> None:
    layers = {layer_of(module_name(path)) for path in modules()} - {"conformance"}
    assert layers - set(declared()) == set(), "add a line to ARCHITECTURE.md's Layers block"
    assert set(declared()) - layers == set(), "the Layers block names a layer that does not exist"


def test_every_arrow_points_at_a_module_that_exists() -> None:
    wrong = {f"{layer} ──► {t}" for layer, ts in declared().items() for t in ts if not is_module(f"conformance.{t}")}
    assert wrong == set()


def test_every_import_follows_a_declared_arrow() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} ({layer}) imports {name}"
        for path, layer, name in cross_layer_imports()
        if not allows(layer, name)
    ]
    assert offenders == []


def test_every_declared_arrow_is_used() -> None:
    used = {(layer, name.removeprefix("conformance.")) for _, layer, name in cross_layer_imports()}
    unused = [
        f"{layer} ──► {target}"
        for layer, targets in declared().items()
        for target in sorted(targets)
        if not any(src == layer and (n == target or n.startswith(target + ".")) for src, n in used)
    ]
    assert unused == [], "remove the arrow from ARCHITECTURE.md or it claims an import the code does not make"


def test_the_package_root_imports_nothing() -> None:
    assert imports_of(PACKAGE / "__init__.py") == set()


@pytest.mark.parametrize("layer", SEALED)
def test_sealed_layers_import_nothing_of_conformance(layer: str) -> None:
    assert declared()[layer] == set()


@pytest.mark.parametrize(("layer", "banned"), FORBIDDEN, ids=[layer for layer, _ in FORBIDDEN])
def test_layer_imports_nothing_above_it(layer: str, banned: tuple[str, ...]) -> None:
    reachable = {target.split(".")[0] for target in declared()[layer]}
    assert reachable & set(banned) == set()


def test_nothing_imports_the_tools() -> None:
    assert [layer for layer, targets in declared().items() if "tools" in {t.split(".")[0] for t in targets}] == []


def test_the_sandbox_never_imports_the_client_gate() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((PACKAGE / "sandbox").rglob("*.py"))
        if any(name.startswith("conformance.clientgate") for name in imports_of(path))
    ]
    assert offenders == []


def test_the_parser_reads_arrows_and_refuses_a_duplicate() -> None:
    text = "## Layers\n\n```text\na ──► b, c.d\nb ──► (nothing)\n```\n"
    assert parse_layers(text) == {"a": {"b", "c.d"}, "b": set()}
    with pytest.raises(AssertionError, match="twice"):
        parse_layers(text.replace("b ──► (nothing)", "a ──► b"))


def test_lazy_type_only_and_relative_imports_are_seen() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from conformance.targets import Target\n"
        "def f():\n    from conformance.reporting import run\n    import conformance.suite\n"
        "def g():\n    from ..verdicts import Recorder\n    from . import registry\n"
    )
    assert imports_in(source, "conformance.checks") == {
        "conformance.targets",
        "conformance.reporting.run",
        "conformance.suite",
        "conformance.verdicts",
        "conformance.checks.registry",
    }
