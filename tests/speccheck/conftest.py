"""Fixtures of the spec checker tests: a small, passing specs directory copied into ``tmp_path``."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from conformance.speccheck.node import node_tool

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def specs_dir(tmp_path: Path) -> Path:
    """A copy of ``fixtures/good``: one API ("demo") whose every check passes."""
    target = tmp_path / "specs"
    shutil.copytree(FIXTURES / "good", target)
    return target


@pytest.fixture
def edit() -> Callable[[Path, str, str], None]:
    """Replace one exact piece of text in a file (failing loudly if it is not there)."""

    def _edit(path: Path, old: str, new: str) -> None:
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} is not in {path}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return _edit


def repin(specs_dir: Path, page: str) -> None:
    """Re-pin ``page`` in the fixture manifest after a test changed it on purpose."""
    manifest = specs_dir / "sources" / "manifest.yaml"
    digest = hashlib.sha256((specs_dir / "sources" / page).read_bytes()).hexdigest()
    lines = manifest.read_text(encoding="utf-8").splitlines()
    manifest.write_text("\n".join(f"  sha256: {digest}" if "sha256:" in line else line for line in lines) + "\n")


needs_spectral = pytest.mark.skipif(
    node_tool("spectral") is None,
    reason="Spectral is not installed (needs Node 18+ and `npm ci` at the repo root)",
)
