"""``conformance report``: merge shard report dirs, rebuild the matrix, render the Allure 3 HTML report.

The HTML is rendered offline by the npm ``allure`` command-line pinned in package.json
(``node_modules/.bin/allure``, installed by ``npm ci``). Without Node or the tool the command says so in one
line and exits 0: the matrix (the gate's input) never depends on Node.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from conformance.apis import REPO_ROOT
from conformance.errors import UsageError
from conformance.reporting.allure_bridge import CATEGORIES, allure3_categories
from conformance.reporting.history import append_history
from conformance.reporting.matrix import Matrix, RuleInfo, build_matrix, load_matrix, load_run
from conformance.reporting.render import render_summary
from conformance.reporting.run import now, suite_version, write_reports

OK, USAGE, INTERNAL = 0, 2, 4
RESULTS, REPORT = "allure-results", "allure-report"
ALLURE_TIMEOUT_S = 600


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")


def find_allure() -> tuple[list[str] | None, str]:
    """The command that runs the pinned Allure 3 CLI, or None and the one-line reason it is unavailable."""
    node = shutil.which("node")
    if node is None:
        return None, "Node.js is not installed: the HTML report is skipped (install Node 18+ and run `npm ci`)."
    for root in (REPO_ROOT, Path.cwd()):
        cli = root / "node_modules" / "allure" / "cli.js"
        if cli.is_file():
            return [node, str(cli)], ""
    return None, f"The npm allure tool is not installed: the HTML report is skipped (run `npm ci` in {REPO_ROOT})."


def allure_config(report_dir: Path, name: str) -> Path:
    """Allure 3's configuration for this report dir: categories, trend history, the awesome report."""
    config = {
        "name": name,
        "output": REPORT,
        "historyPath": "allure-history.jsonl",
        "categories": allure3_categories(),
        "plugins": {"awesome": {"options": {"reportName": name, "groupBy": ["epic", "feature", "story"]}}},
    }
    path = report_dir / "allurerc.json"
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return path


def render_html(report_dir: Path) -> int:
    results = report_dir / RESULTS
    if not results.is_dir() or not any(results.glob("*-result.json")):
        _out(f"No Allure results in {results}: nothing to render (run `conformance run --report-dir {report_dir}`).")
        return OK
    command, reason = find_allure()
    if command is None:
        _out(reason)
        return OK
    target = "conformance"
    matrix_path = report_dir / "conformance.json"
    if matrix_path.is_file():
        target = f"Conformance: {load_matrix(matrix_path).target}"
    config = allure_config(report_dir, target)
    argv = [*command, "generate", "--config", str(config), "--output", str(report_dir / REPORT), str(results)]
    try:
        done = subprocess.run(
            argv, cwd=report_dir, capture_output=True, text=True, timeout=ALLURE_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        _out(f"allure generate did not finish within {ALLURE_TIMEOUT_S}s; the matrix is in {report_dir}.")
        return INTERNAL
    index = report_dir / REPORT / "index.html"
    if done.returncode != 0 or not index.is_file():
        tail = " ".join((done.stderr or done.stdout).split()[-60:])
        _out(f"allure generate failed (exit {done.returncode}): {tail}")
        return INTERNAL
    _out(f"HTML report: {index}")
    return OK


def _shard_matrix(shard: Path) -> Matrix:
    path = shard / "conformance.json"
    if not path.is_file():
        raise UsageError(
            f"{shard} is not a shard report dir: it has no conformance.json (give the --report-dir of each "
            "`conformance run --shard K/N`)."
        )
    return load_matrix(path)


def _merge_junit(shards: list[Path], destination: Path) -> None:
    suites = ET.Element("testsuites")
    for shard in shards:
        path = shard / "junit.xml"
        if not path.is_file():
            continue
        root = ET.parse(path).getroot()
        for suite in [root] if root.tag == "testsuite" else list(root):
            suites.append(suite)
    if len(suites):
        ET.ElementTree(suites).write(destination, encoding="utf-8", xml_declaration=True)


def merge_shards(report_dir: Path, shards: list[Path]) -> Matrix:
    """Merge shard report dirs into ``report_dir``: verdicts, bindings, outcomes, Allure results, JUnit."""
    missing = [str(s) for s in shards if not s.is_dir()]
    if missing:
        raise UsageError(
            f"The shard report dir(s) {', '.join(missing)} do not exist; pass the --report-dir of each shard."
        )
    matrices = [_shard_matrix(s) for s in shards]
    targets = {(m.target, m.seed) for m in matrices}
    if len(targets) > 1:
        found = ", ".join(f"{t} (seed {s})" for t, s in sorted(targets))
        raise UsageError(f"The shards ran against different targets or seeds ({found}); merge shards of one run only.")
    catalogue: dict[str, RuleInfo] = {}
    apis: list[str] = []
    for m in matrices:
        catalogue.update({row.rule_id: row.info() for row in m.rows})
        apis += [a for a in m.apis if a not in apis]
    with tempfile.TemporaryDirectory() as tmp:
        staging = Path(tmp)
        (staging / "verdicts").mkdir()
        (staging / RESULTS).mkdir()
        for n, shard in enumerate(shards, 1):
            for source in sorted((shard / "verdicts").glob("*")):
                if source.is_file():
                    shutil.copy2(source, staging / "verdicts" / f"shard{n}-{source.name}")
            if (shard / RESULTS).is_dir():
                for source in (shard / RESULTS).iterdir():
                    if source.is_file():
                        shutil.copy2(source, staging / RESULTS / source.name)
        _merge_junit(shards, staging / "junit.xml")
        report_dir.mkdir(parents=True, exist_ok=True)
        for name in ("verdicts", RESULTS):
            shutil.rmtree(report_dir / name, ignore_errors=True)
            shutil.copytree(staging / name, report_dir / name)
        if (staging / "junit.xml").is_file():
            shutil.copy2(staging / "junit.xml", report_dir / "junit.xml")
    data = load_run(report_dir / "verdicts")
    first = matrices[0]
    return build_matrix(
        list(catalogue.values()),
        data.records,
        data.bindings,
        outcomes=data.outcomes,
        target=first.target,
        seed=first.seed,
        apis=apis,
        generated_at=now(),
        suite_version=suite_version(),
        strict=any(m.strict for m in matrices),  # shards of one strict run stay strict when merged
    )


def report_command(report_dir: Path, merge_dirs: list[Path]) -> int:
    """``conformance report [--report-dir DIR] [--merge SHARD_DIR...]``."""
    # Allure runs with the report dir as its working directory: every path handed to it must be absolute.
    report_dir = report_dir.resolve()
    if merge_dirs:
        matrix = merge_shards(report_dir, merge_dirs)
        paths = write_reports(matrix, report_dir)
        paths.append(append_history(report_dir, matrix))
        (report_dir / RESULTS / "categories.json").write_text(json.dumps(CATEGORIES, indent=2) + "\n", encoding="utf-8")
        _out(render_summary(matrix, paths))
    elif not (report_dir / "conformance.json").is_file() and not (report_dir / RESULTS).is_dir():
        raise UsageError(
            f"{report_dir} holds no run: no conformance.json and no {RESULTS}/ (run `conformance run --report-dir "
            f"{report_dir}` first, or pass --merge with shard report dirs)."
        )
    return render_html(report_dir)
