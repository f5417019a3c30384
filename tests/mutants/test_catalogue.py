"""The deviation catalogue covers the rule catalogue: every active rule can be broken, or says why not."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance.cli import main as cli_main
from conformance.rules import active_rules
from conformance.sandbox import create_app
from conformance.sandbox.deviations import DEVIATIONS, UNBREAKABLE, UnknownDeviation
from conformance.sandbox.rewrites import REWRITES

SANDBOX = Path(__file__).resolve().parents[2] / "conformance" / "sandbox"
KINDS = {
    "precondition", "status-code", "error-code", "envelope", "status-envelope", "async", "counter", "money", "race",
    "auth", "content-type", "field-type", "identifier", "decimal", "validation", "readback", "transition",
    "idempotency",
}  # fmt: skip


def test_every_active_rule_has_a_deviation_or_a_reason_it_cannot_have_one() -> None:
    deviated = {deviation.rule_id for deviation in DEVIATIONS.values()}
    uncovered = sorted(set(active_rules()) - deviated - set(UNBREAKABLE))
    assert uncovered == [], f"rules with neither a deviation nor an UNBREAKABLE reason: {uncovered}"


def test_every_deviation_and_every_reason_names_an_active_rule() -> None:
    rules = active_rules()
    unknown = sorted({d.rule_id for d in DEVIATIONS.values()} - set(rules)) + sorted(set(UNBREAKABLE) - set(rules))
    assert unknown == []
    assert not {d.rule_id for d in DEVIATIONS.values()} & set(UNBREAKABLE), "a rule is both broken and unbreakable"
    assert all(len(reason) > 40 for reason in UNBREAKABLE.values())


def test_deviations_are_well_formed() -> None:
    rules = active_rules()
    for name, deviation in DEVIATIONS.items():
        assert name == deviation.name
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", name), name
        assert deviation.kind in KINDS, (name, deviation.kind)
        assert deviation.description, name
        assert deviation.api == rules[deviation.rule_id].api, name
        assert name.split("-")[0] in deviation.api, f"{name} does not start with its API's short name"


def test_deviations_span_every_kind() -> None:
    assert {deviation.kind for deviation in DEVIATIONS.values()} == KINDS
    assert sum(deviation.kind == "race" for deviation in DEVIATIONS.values()) == 5  # one per API


def test_every_deviation_is_wired_into_the_sandbox() -> None:
    """A name in the catalogue that no hook and no rewrite mentions would be a deviation that deviates nothing."""
    hooks = "\n".join(path.read_text(encoding="utf-8") for path in SANDBOX.glob("*.py") if path.name != "deviations.py")
    unwired = [name for name in DEVIATIONS if f'"{name}"' not in hooks]
    assert unwired == []
    assert set(REWRITES) <= set(DEVIATIONS)


def test_an_unknown_deviation_is_refused_with_the_known_names() -> None:
    with pytest.raises(ValueError, match="unknown deviation 'bogus'; choose from ") as raised:
        create_app(deviation="bogus")
    assert isinstance(raised.value, UnknownDeviation)
    assert all(name in str(raised.value) for name in DEVIATIONS)
    assert create_app(deviation="juspay-race-unlocked").state.sandbox.deviates("juspay-race-unlocked")


# `run` is covered end to end, in a subprocess, by tests/recording/test_cli_from_repo_root.py.
@pytest.mark.parametrize("command", ["serve"])
def test_the_cli_reports_an_unknown_deviation_in_one_line_with_exit_2(
    command: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = [command, "--deviation", "bogus"] + (["--report-dir", str(tmp_path)] if command == "run" else [])
    assert cli_main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("conformance: error: unknown deviation 'bogus'; choose from ")
