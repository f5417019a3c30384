"""The baseline of accepted deviations: new and expired violations fail, accepted ones do not."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from conformance.errors import UsageError
from conformance.reporting.baseline import apply_baseline, load_baseline

TODAY = dt.date(2026, 6, 1)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "baseline.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_accepted_expired_new_and_stale(tmp_path: Path) -> None:
    baseline = write(
        tmp_path,
        """
- rule: THANX-A
  reason: vendor ticket T-1
  expires: 2026-06-01
- rule: THANX-B
  reason: vendor ticket T-2
  expires: "2026-05-31"
- rule: THANX-GONE
  reason: fixed already
  expires: 2027-01-01
""",
    )
    still, message = apply_baseline(["THANX-A", "THANX-B", "THANX-NEW"], baseline, today=TODAY)
    assert still == ["THANX-B", "THANX-NEW"]
    assert "accepted by the baseline: THANX-A (until 2026-06-01)" in message
    assert "acceptance expired: THANX-B (expired 2026-05-31)" in message
    assert "new (not in the baseline): THANX-NEW" in message
    assert "no longer violated, remove from the baseline: THANX-GONE" in message


def test_everything_accepted(tmp_path: Path) -> None:
    baseline = write(tmp_path, "- {rule: THANX-A, reason: known, expires: 2030-01-01}\n")
    assert apply_baseline(["THANX-A"], baseline, today=TODAY) == (
        [],
        "accepted by the baseline: THANX-A (until 2030-01-01)",
    )


def test_empty_baseline_accepts_nothing(tmp_path: Path) -> None:
    assert apply_baseline(["THANX-A"], write(tmp_path, ""), today=TODAY)[0] == ["THANX-A"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rule: THANX-A\n", "holds a dict, not a list"),
        ("- [unclosed\n", "is not valid YAML"),
        ("- {rule: THANX-A, reason: r}\n", "Entry 1"),
        ("- {rule: THANX-A, reason: r, expires: soon}\n", "is not a date YYYY-MM-DD"),
        ("- {rule: thanx-a, reason: r, expires: 2026-01-01}\n", "rule"),
        ("- {rule: THANX-A, reason: r, expires: 2026-01-01, owner: me}\n", "owner"),
        (
            "- {rule: THANX-A, reason: r, expires: 2026-01-01}\n- {rule: THANX-A, reason: s, expires: 2026-01-01}\n",
            "twice",
        ),
    ],
)
def test_malformed_baseline_is_one_paragraph_usage_error(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(UsageError) as info:
        load_baseline(write(tmp_path, text))
    message = str(info.value)
    assert expected in message
    assert "\n" not in message
    assert str(tmp_path / "baseline.yaml") in message


def test_missing_baseline(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        load_baseline(tmp_path / "nope.yaml")
