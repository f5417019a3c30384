"""Every active rule is bound to a scenario or a registered check; a new unbound rule fails here."""

from __future__ import annotations

import ast
from pathlib import Path

from conformance.checks.registry import load_all
from conformance.clientgate.rules import JUDGED_RULES
from conformance.rules import active_rules

SUITE = Path(__file__).resolve().parents[2] / "conformance" / "suite"


def rules_named_in_marks() -> set[str]:
    """Rule IDs named in @pytest.mark.rules(...) anywhere in the suite, including pytest.param marks."""
    found: set[str] = set()
    for path in SUITE.rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "rules":
                found |= {a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)}
            if isinstance(node, ast.Tuple) and len(node.elts) >= 2:
                # Parametrized stories bind their rule through a (state, RULE-ID) table fed to pytest.param marks.
                found |= {
                    e.value
                    for e in node.elts
                    if isinstance(e, ast.Constant) and isinstance(e.value, str) and e.value.isupper() and "-" in e.value
                }
    return found


def test_every_active_rule_has_a_bound_scenario_or_check() -> None:
    bound = rules_named_in_marks() | {rid for check in load_all().values() for rid in check.rules}
    # Client-request rules are judged on a client library's traffic by the client gate.
    bound |= set(JUDGED_RULES)
    unbound = sorted(set(active_rules()) - bound)
    assert unbound == [], f"rules with no scenario or check: {unbound}"


def test_marks_and_checks_name_only_catalogued_rules() -> None:
    catalogue = set(active_rules())
    named = {rid for check in load_all().values() for rid in check.rules}
    assert named - catalogue == set()
    marked = {r for r in rules_named_in_marks() if r.split("-")[0] in {"BADGE", "POINTS", "REWARDS", "THANX", "JUSPAY"}}
    assert {r for r in marked if "-GAP-" not in r and "-CONFLICT-" not in r} - catalogue == set()
