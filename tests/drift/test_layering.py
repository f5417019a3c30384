"""Nothing but the command line imports the drift audit: the suite and the sandbox never depend on it."""

from __future__ import annotations

from tests.core.test_layers import PACKAGE, imports_of


def test_only_the_command_line_imports_drift() -> None:
    importers = [
        str(path.relative_to(PACKAGE.parent))
        for path in sorted(PACKAGE.rglob("*.py"))
        if "drift" not in path.relative_to(PACKAGE).parts
        and any(name.startswith("conformance.drift") for name in imports_of(path))
    ]
    assert importers == ["conformance/cli.py"]
