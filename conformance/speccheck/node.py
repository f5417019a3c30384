"""The project's Node tools (Spectral, Allure 3), pinned in the root package.json and installed with npm."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from conformance.errors import UsageError

NODE_MISSING = (
    "Node.js/npm not found: the HTML report and the spec linter need Node 18+; install it from your package manager"
)


class NodeToolsMissing(UsageError):
    """Node.js, npm or an npm-installed tool is not available."""


def repo_root() -> Path:
    """The repository root: the nearest directory holding package.json, from this package or the cwd."""
    for start in (Path(__file__).resolve().parent, Path.cwd().resolve()):
        for candidate in (start, *start.parents):
            if (candidate / "package.json").is_file() and (candidate / "pyproject.toml").is_file():
                return candidate
    return Path(__file__).resolve().parents[2]


def node_tool(name: str, root: Path | None = None) -> list[str] | None:
    """The command line that runs ``node_modules/.bin/<name>``, or None if Node or the tool is missing."""
    base = root if root is not None else repo_root()
    binary = base / "node_modules" / ".bin" / name
    if not binary.exists() or shutil.which("node") is None:
        return None
    return [str(binary)]


def ensure_node_tools(root: Path) -> None:
    """Install the pinned Node tools with ``npm ci`` when ``node_modules`` is missing."""
    if (root / "node_modules").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise NodeToolsMissing(NODE_MISSING)
    if not (root / "package-lock.json").is_file():
        raise NodeToolsMissing(f"{root / 'package-lock.json'} is missing: `npm ci` installs only from a lock file.")
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"], cwd=root, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        lines = [line for line in (result.stderr or result.stdout).splitlines() if line.strip()]
        last = lines[-1].strip() if lines else f"exit code {result.returncode}"
        raise NodeToolsMissing(f"`npm ci` failed in {root} (exit code {result.returncode}): {last}")
