"""Hand-edited copies of committed cassettes, and a judged report of any set of them."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.apis import REPO_ROOT, SPECS_DIR
from conformance.drift.engine import DriftOptions, build_report
from conformance.drift.report import DriftReport

REFERENCE = REPO_ROOT / "cassettes" / "reference"
Interaction = dict[str, Any]
Row = dict[str, Any]


def report_of(*paths: Path, **options: Any) -> DriftReport:
    return build_report(DriftOptions(paths=list(paths), specs_dir=SPECS_DIR, write=False, **options))


def body(interaction: Interaction) -> Any:
    return json.loads(interaction["response"]["body"]["string"])


def set_body(interaction: Interaction, value: Any) -> None:
    interaction["response"]["body"]["string"] = json.dumps(value)


class CassetteCopies:
    """Copies of committed cassettes under ``tmp/reference/<module>/``, edited at one interaction."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def copy(self, relative: str) -> Path:
        source = REFERENCE / relative
        target = self.root / "reference" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        shutil.copyfile(source.with_suffix(".meta.json"), target.with_suffix(".meta.json"))
        return target

    def edit(
        self, relative: str, choose: Callable[[Interaction, Row], bool], change: Callable[[Interaction, Row], None]
    ) -> tuple[Path, int]:
        """Copy ``relative`` and apply ``change`` to the first interaction ``choose`` picks; return it and its index."""
        path = self.copy(relative)
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        meta_path = path.with_suffix(".meta.json")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        rows = {row["interaction"]: row for row in meta["exchanges"] if row.get("interaction") is not None}
        for index, interaction in enumerate(data["interactions"]):
            row = rows.get(index, {})
            if choose(interaction, row):
                change(interaction, row)
                path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
                meta_path.write_text(json.dumps(meta), encoding="utf-8")
                return path, index
        raise AssertionError(f"no interaction of {relative} matches")


@pytest.fixture
def copies(tmp_path: Path) -> CassetteCopies:
    return CassetteCopies(tmp_path / "cassettes")


def revoke(operation: str, status: int | None = None) -> Callable[[Interaction, Row], bool]:
    """Pick the first test exchange of ``operation`` (with HTTP ``status``)."""

    def choose(interaction: Interaction, row: Row) -> bool:
        code = interaction["response"]["status"]["code"]
        return row.get("operation") == operation and row.get("phase") == "test" and status in (None, code)

    return choose
