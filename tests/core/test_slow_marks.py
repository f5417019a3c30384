"""The central list of slow tests (root conftest.py) names tests that exist: a renamed test must not
silently drop into the quick session, nor a stale entry hide that it marks nothing."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import conftest

ROOT = Path(__file__).resolve().parents[2]


def test_every_slow_module_exists() -> None:
    assert [m for m in conftest.SLOW_MODULES if not (ROOT / m).is_file()] == []


@pytest.mark.parametrize("nodeid", conftest.SLOW_TESTS)
def test_every_slow_test_is_defined(nodeid: str) -> None:
    path, name = nodeid.split("[", 1)[0].split("::", 1)
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    assert name in {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def test_a_listed_test_is_marked_slow(pytester: pytest.Pytester) -> None:
    """The hook marks by node id; -m "not slow" then deselects it."""
    pytester.makeconftest(
        "import pytest\n"
        "SLOW = ('test_x.py::test_slow',)\n"
        "def pytest_collection_modifyitems(config, items):\n"
        "    for item in items:\n"
        "        if item.nodeid.split('[', 1)[0] in SLOW:\n"
        "            item.add_marker(pytest.mark.slow)\n"
    )
    pytester.makepyfile(test_x="def test_slow():\n    pass\n\ndef test_quick():\n    pass\n")
    pytester.makeini("[pytest]\nmarkers =\n    slow: slow\n")
    result = pytester.runpytest("-m", "not slow", "-p", "no:xdist", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, deselected=1)
