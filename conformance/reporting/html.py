"""``conformance report``: merge shard report dirs, rebuild the matrix, render the dashboard and the HTML report.

``--format`` chooses what is rendered (comma-separated, default ``html,dashboard``):

- ``html``: the Allure 3 report as one self-contained file, ``DIR/report.html``, that opens from the file system;
- ``html-dir``: the Allure 3 report as a directory, ``DIR/allure-report/`` (for very large runs; serve it over HTTP);
- ``dashboard``: ``DIR/dashboard.svg``, ``.png`` and ``.html`` (no Node needed);
- ``matrix``: only the matrix (``conformance.json``, ``conformance.md``), rebuilt when merging shards.

The HTML is rendered offline by the npm ``allure`` command-line pinned in package.json (``npm ci``). When an HTML
format is asked for and Node 18+ or the tool is missing, the command says how to get them and exits
:data:`NO_TOOLS`: a CI step that publishes the report never publishes nothing and stays green.
"""

from __future__ import annotations

import json
import os
import re
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

OK, USAGE, INTERNAL, NO_TOOLS = 0, 2, 4, 5
RESULTS, REPORT, SINGLE_FILE = "allure-results", "allure-report", "report.html"
FORMATS = ("html", "html-dir", "dashboard", "matrix")
DEFAULT_FORMATS = "html,dashboard"
DASHBOARD_ATTACHMENT = "conformance-dashboard-attachment.svg"
ALLURE_TIMEOUT_S = 600
NODE_MAJOR = 18


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")


def parse_formats(value: str | None) -> list[str]:
    """``--format``: a comma-separated subset of :data:`FORMATS`; anything else is a usage error."""
    chosen = [part.strip() for part in (value or DEFAULT_FORMATS).split(",") if part.strip()]
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise UsageError(
            f"--format {value!r} is not a list of report formats; allowed, comma-separated: {', '.join(FORMATS)} "
            f"(default {DEFAULT_FORMATS})."
        )
    return list(dict.fromkeys(chosen))


def _instructions(problem: str) -> str:
    return (
        f"The HTML report cannot be rendered: {problem}. It needs Node.js {NODE_MAJOR} or newer and the project's "
        f"npm tools: install Node.js {NODE_MAJOR}+ (https://nodejs.org), run `npm ci` in {REPO_ROOT}, then run "
        "`conformance report` again. Without Node, `conformance report --format dashboard` renders the dashboard "
        "and `--format matrix` only the matrix."
    )


def _node_major(node: str) -> int | None:
    try:
        done = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.match(r"v?(\d+)\.", done.stdout.strip())
    return int(match.group(1)) if match else None


def find_allure() -> tuple[list[str] | None, str]:
    """The command that runs the pinned Allure 3 CLI, or None and what to do to get it."""
    node = shutil.which("node")
    if node is None:
        return None, _instructions("Node.js was not found on PATH")
    major = _node_major(node)
    if major is None or major < NODE_MAJOR:
        return None, _instructions(f"{node} is Node.js {major if major is not None else '(unknown version)'}")
    for root in (REPO_ROOT, Path.cwd()):
        cli = root / "node_modules" / "allure" / "cli.js"
        if cli.is_file():
            return [node, str(cli)], ""
    return None, _instructions(f"the npm `allure` tool is not installed (no node_modules/allure in {REPO_ROOT})")


def allure_config(report_dir: Path, name: str, *, single_file: bool) -> Path:
    """Allure 3's configuration for this report dir: categories, trend history, the awesome report."""
    options = {"reportName": name, "groupBy": ["epic", "feature", "story"], "singleFile": single_file}
    config = {
        "name": name,
        "output": REPORT,
        "historyPath": "allure-history.jsonl",
        "categories": allure3_categories(),
        "plugins": {"awesome": {"options": options}},
    }
    path = report_dir / "allurerc.json"
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return path


def attach_dashboard(report_dir: Path) -> None:
    """Show the dashboard in the Allure report: a global attachment of the results (Allure 3 ``*-globals.json``)."""
    svg = report_dir / "dashboard.svg"
    results = report_dir / RESULTS
    if not svg.is_file() or not results.is_dir():
        return
    shutil.copyfile(svg, results / DASHBOARD_ATTACHMENT)
    attachment = {"name": "Conformance dashboard", "source": DASHBOARD_ATTACHMENT, "type": "image/svg+xml"}
    globals_path = results / "conformance-dashboard-globals.json"
    globals_path.write_text(json.dumps({"attachments": [attachment], "errors": []}) + "\n", encoding="utf-8")


def _generate(command: list[str], report_dir: Path, output: Path, *, single_file: bool) -> tuple[int, str]:
    target = "conformance"
    matrix_path = report_dir / "conformance.json"
    if matrix_path.is_file():
        target = f"Conformance: {load_matrix(matrix_path).target}"
    config = allure_config(report_dir, target, single_file=single_file)
    argv = [*command, "generate", "--config", str(config), "--output", str(output), str(report_dir / RESULTS)]
    try:
        done = subprocess.run(
            argv, cwd=report_dir, capture_output=True, text=True, timeout=ALLURE_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        return INTERNAL, f"allure generate did not finish within {ALLURE_TIMEOUT_S}s; the matrix is in {report_dir}."
    if done.returncode != 0 or not (output / "index.html").is_file():
        tail = " ".join((done.stderr or done.stdout).split()[-60:])
        return INTERNAL, f"allure generate failed (exit {done.returncode}): {tail}"
    return OK, ""


# Allure's page template loads Google Analytics when opened; a conformance report must open offline and tell nobody.
ANALYTICS_RE = re.compile(
    r"<script async src=\"https://www\.googletagmanager\.com/[^\"]*\"></script>\s*<script>[^<]*?gtag\([^<]*?</script>"
)


def strip_analytics(index: Path) -> None:
    page = index.read_text(encoding="utf-8")
    index.write_text(ANALYTICS_RE.sub("", page), encoding="utf-8")


def render_html(report_dir: Path, command: list[str], *, single_file: bool) -> int:
    """``DIR/report.html`` (one file) or ``DIR/allure-report/`` (a directory), each replaced only when complete."""
    attach_dashboard(report_dir)
    with tempfile.TemporaryDirectory(dir=report_dir, prefix=".allure-") as tmp:
        staging = Path(tmp) / REPORT
        code, message = _generate(command, report_dir, staging, single_file=single_file)
        if code != OK:
            _out(message)
            return code
        strip_analytics(staging / "index.html")
        if single_file:
            destination = report_dir / SINGLE_FILE
            os.replace(staging / "index.html", destination)
            _out(f"HTML report (one file, opens from the file system): {destination}")
            return OK
        destination = report_dir / REPORT
        shutil.rmtree(destination, ignore_errors=True)
        os.replace(staging, destination)
    _out(f"HTML report (directory, serve it over HTTP: npx allure open {destination}): {destination / 'index.html'}")
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
    unfinished = [f"{s} ({m.outcome})" for s, m in zip(shards, matrices, strict=True) if m.outcome != "complete"]
    if unfinished:
        # A shard that was interrupted or tested nothing would leave its rules untested in a merged matrix
        # that could still read as a pass.
        raise UsageError(
            f"The shard(s) {', '.join(unfinished)} did not complete; re-run them before merging, since a "
            "merged matrix must hold every shard's complete result."
        )
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


def _render(report_dir: Path, formats: list[str]) -> int:
    if "dashboard" in formats:
        from conformance.reporting.dashboard import write_dashboard

        for path in write_dashboard(load_matrix(report_dir / "conformance.json"), report_dir):
            _out(f"dashboard: {path}")
    if "matrix" in formats:
        _out(f"matrix: {report_dir / 'conformance.json'}, {report_dir / 'conformance.md'}")
    html_formats = [f for f in formats if f in ("html", "html-dir")]
    if not html_formats:
        return OK
    results = report_dir / RESULTS
    if not results.is_dir() or not any(results.glob("*-result.json")):
        raise UsageError(
            f"{results} holds no Allure results: no HTML report to render (run `conformance run --report-dir "
            f"{report_dir}`, or choose --format dashboard or matrix)."
        )
    command, reason = find_allure()
    if command is None:
        sys.stderr.write(reason + "\n")
        return NO_TOOLS
    worst = OK
    for fmt in html_formats:
        worst = max(worst, render_html(report_dir, command, single_file=fmt == "html"))
    return worst


def report_command(report_dir: Path, merge_dirs: list[Path], formats: str | None = None) -> int:
    """``conformance report [--report-dir DIR] [--merge SHARD_DIR...] [--format FORMATS]``."""
    chosen = parse_formats(formats)
    # Allure runs with the report dir as its working directory: every path handed to it must be absolute.
    report_dir = report_dir.resolve()
    if merge_dirs:
        matrix = merge_shards(report_dir, merge_dirs)
        paths = write_reports(matrix, report_dir)
        paths.append(append_history(report_dir, matrix))
        (report_dir / RESULTS / "categories.json").write_text(json.dumps(CATEGORIES, indent=2) + "\n", encoding="utf-8")
        _out(render_summary(matrix, paths))
    elif not (report_dir / "conformance.json").is_file():
        raise UsageError(
            f"{report_dir} holds no run: no conformance.json (run `conformance run --report-dir "
            f"{report_dir}` first, or pass --merge with shard report dirs)."
        )
    return _render(report_dir, chosen)
