"""Sessions of the conformance project. On a fresh machine run ``python3 noxfile.py -s <session>``.

Run directly, this file bootstraps itself: it creates ``.venv`` with the project, its dev tools and
nox (once, and again whenever pyproject.toml changes), then re-runs itself there. Sessions run in
that one environment (``venv_backend="none"``) so the two quickstart commands share one install.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"


def _stamp() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def ensure_venv() -> None:
    """Create or refresh .venv; a no-op when pyproject.toml has not changed since the last install."""
    marker = VENV / ".installed"
    if marker.is_file() and marker.read_text() == _stamp():
        return
    if not PYTHON.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "-q"]
    # Dependency groups (PEP 735) need pip 25.1 or newer.
    subprocess.run([*pip, "install", "--upgrade", "pip>=25.1"], check=True)
    subprocess.run([*pip, "install", "-e", str(ROOT), "--group", "dev"], check=True, cwd=ROOT)
    marker.write_text(_stamp())


if __name__ == "__main__" and Path(sys.prefix).resolve() != VENV.resolve():
    ensure_venv()
    os.chdir(ROOT)
    os.execv(str(PYTHON), [str(PYTHON), str(Path(__file__).resolve()), *sys.argv[1:]])

import nox  # noqa: E402

nox.options.default_venv_backend = "none"
nox.options.sessions = ["tests"]


def tool(name: str) -> str:
    return str(BIN / name)


def node_available() -> bool:
    if shutil.which("npm") is None:
        print("Node.js/npm not found: the HTML report and the spec linter are skipped (install Node 18+ for them).")
        return False
    if not (ROOT / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], check=True, cwd=ROOT)
    return True


@nox.session(python=False)
def conformance(session: nox.Session) -> None:
    """Run the conformance suite (reference sandbox unless a live target is configured) and write reports/."""
    ensure_venv()
    session.run(tool("conformance"), "run", *session.posargs, success_codes=[0, 1])
    if node_available():
        session.run(tool("conformance"), "report")


@nox.session(python=False)
def tests(session: nox.Session) -> None:
    """Run the project's own tests except the slow end-to-end ones (pass pytest options after --)."""
    ensure_venv()
    node_available()
    session.run(tool("python"), "-m", "pytest", "-n", "2", "-m", "not slow", *session.posargs)


@nox.session(python=False, name="tests-all")
def tests_all(session: nox.Session) -> None:
    """Run every test of the project, the slow end-to-end ones included: what CI runs (options after --)."""
    ensure_venv()
    node_available()
    session.run(tool("python"), "-m", "pytest", "-n", "2", *session.posargs)


@nox.session(python=False)
def lint(session: nox.Session) -> None:
    """Ruff: lint and format check."""
    ensure_venv()
    session.run(tool("ruff"), "check", ".", *session.posargs)
    session.run(tool("ruff"), "format", "--check", ".")


@nox.session(python=False)
def typecheck(session: nox.Session) -> None:
    """Mypy, strict, on the library code."""
    ensure_venv()
    session.run(tool("mypy"), *session.posargs)


@nox.session(python=False)
def specs(session: nox.Session) -> None:
    """Validate, lint and trace every spec back to its page; print the counts."""
    ensure_venv()
    node_available()
    session.run(tool("conformance"), "specs", "check", *session.posargs)


@nox.session(python=False)
def report(session: nox.Session) -> None:
    """Render the dashboard and the one-file HTML report of the last run (Node 18+; fails with exit 5 without it)."""
    ensure_venv()
    node_available()  # runs `npm ci` when node_modules is missing
    session.run(tool("conformance"), "report", *session.posargs)


@nox.session(python=False)
def record(session: nox.Session) -> None:
    """Re-record cassettes/reference/ from the reference sandbox over real HTTP (options after -- go to run)."""
    ensure_venv()
    session.run(tool("conformance"), "run", "--target", "record", *session.posargs)


@nox.session(python=False)
def replay(session: nox.Session) -> None:
    """Re-check the committed cassettes offline: no sandbox, no network."""
    ensure_venv()
    session.run(tool("conformance"), "run", "--target", "replay", *session.posargs)


@nox.session(python=False)
def serve(session: nox.Session) -> None:
    """Serve the reference sandbox on 127.0.0.1:8080 (pass serve options after --)."""
    ensure_venv()
    session.run(tool("conformance"), "serve", *session.posargs)


@nox.session(python=False)
def stcli(session: nox.Session) -> None:
    """Run Schemathesis' own CLI (st run) on every spec against conformance serve (st options after --)."""
    ensure_venv()
    session.run(tool("python"), "-m", "conformance.tools.stcli", *session.posargs)


@nox.session(python=False)
def mutants(session: nox.Session) -> None:
    """Run the suite against every sandbox deviation and the faithful sandbox; write reports/mutants.json."""
    ensure_venv()
    session.run(tool("python"), "-m", "conformance.tools.mutants", *session.posargs)


@nox.session(python=False)
def explore(session: nox.Session) -> None:
    """Generate ten times the default cases per operation, coverage phase on, against the reference sandbox."""
    ensure_venv()
    args = ["-k", "properties", "--max-examples", "50", "--property-coverage", "--report-dir", "reports/explore"]
    session.run(tool("conformance"), "run", *args, *session.posargs)


@nox.session(python=False)
def bench(session: nox.Session) -> None:
    """Benchmark wall time and throughput per target and of the property layer vs st; writes reports/bench.json."""
    ensure_venv()
    session.run(tool("python"), "-m", "conformance.tools.bench", *session.posargs)


if __name__ == "__main__":
    nox.main()
