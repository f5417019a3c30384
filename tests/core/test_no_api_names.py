"""No layer branches on an API's name: outside the API's own modules, API facts are looked up.

Every module under conformance/ except the sandbox (an independent rendering of the docs, which keeps
its own knowledge) and the API's own modules (its checks, its provisioning, its scenarios and
property tests, its scenario steps) must not compare anything with a literal API key, test a string
for a key's prefix (``startswith("capillary")``) or ask whether something is in a literal list of keys.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conformance.apis import APIS

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "conformance"
KEYS = frozenset(APIS)


def own_modules() -> set[Path]:
    """The files each API's descriptor and naming convention make its own."""
    own: set[Path] = set()
    for api in APIS.values():
        stem = api.key.replace("-", "_")
        for dotted in (api.checks, api.provisioning):
            own.add(ROOT.joinpath(*dotted.split(".")).with_suffix(".py"))
        own |= {
            PACKAGE / "suite" / "scenarios" / f"test_{stem}.py",
            PACKAGE / "suite" / "properties" / f"test_{stem}.py",
            PACKAGE / "suite" / "scenarios" / f"{stem}_steps.py",
        }
    return own


def _literal_keys(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in KEYS:
        return [node.value]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [key for item in node.elts for key in _literal_keys(item)]
    return []


def branches_on_names(source: str) -> list[tuple[int, str]]:
    """(line, what) of every comparison with a literal API key or a key's prefix in ``source``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            for side in (node.left, *node.comparators):
                found += [(node.lineno, f"compares with {key!r}") for key in _literal_keys(side)]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "startswith"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and any(key.startswith(node.args[0].value) for key in KEYS)
        ):
            found.append((node.lineno, f"tests for the key prefix {node.args[0].value!r}"))
    return found


def modules() -> list[Path]:
    own = own_modules()
    sandbox = PACKAGE / "sandbox"
    return sorted(p for p in PACKAGE.rglob("*.py") if sandbox not in p.parents and p not in own)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_outside_the_apis_own_branches_on_an_api_name(path: Path) -> None:
    found = branches_on_names(path.read_text(encoding="utf-8"))
    assert not found, f"{path.relative_to(ROOT)} branches on API names: " + "; ".join(
        f"line {line} {what}" for line, what in found
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('if api == "thanx":\n    pass\n', 1),
        ('ok = exchange.api in ("juspay", "thanx")\n', 2),
        ('ok = api.startswith("capillary")\n', 1),
        ('ok = "capillary-rewards" != op.api\n', 1),
        ('ok = descriptor.auth_scheme == "bearer-client-id"\n', 0),
        ('API = "thanx"\nclient = ctx.client(API)\n', 0),
    ],
)
def test_the_scan_sees_a_branch_on_a_name_and_only_that(source: str, expected: int) -> None:
    assert len(branches_on_names(source)) == expected


def test_the_own_modules_exist() -> None:
    """The exemptions name real files: a renamed module is not silently exempt under its old name."""
    own = own_modules()
    for api in APIS.values():
        for dotted in (api.checks, api.provisioning):
            assert ROOT.joinpath(*dotted.split(".")).with_suffix(".py") in own
            assert ROOT.joinpath(*dotted.split(".")).with_suffix(".py").is_file()
