"""`conformance report`: merging shard dirs, rendering Allure 3 offline, and the page a browser shows."""

from __future__ import annotations

import functools
import html
import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conformance.apis import APIS, REPO_ROOT
from conformance.cli import main
from conformance.errors import UsageError
from conformance.findings import Finding, InferredFinding
from conformance.reporting.allure_bridge import CATEGORIES, FINDING_REGEX, PRECONDITION_REGEX
from conformance.reporting.html import NO_TOOLS, SINGLE_FILE, find_allure, parse_formats, report_command
from conformance.reporting.matrix import is_finding
from tests.reporting.conftest import run_fake

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


@pytest.fixture
def allure_cli() -> list[str]:
    command, reason = find_allure()
    if command is None:
        pytest.skip(reason)
    return command


@pytest.fixture
def chromium() -> str:
    found = next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)
    if found is None:
        pytest.skip("no Chromium on PATH (apt-get install chromium) to render the HTML report")
    return found


def test_without_node_the_report_exits_5_with_the_instructions_and_still_draws_the_dashboard(
    fake_suite: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = tmp_path / "reports"
    run_fake(fake_suite, reports, "--alluredir", str(reports / "allure-results"))
    capsys.readouterr()
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert report_command(reports, []) == NO_TOOLS == 5
    out, err = capsys.readouterr()
    [paragraph] = err.strip().splitlines()
    assert paragraph.startswith("The HTML report cannot be rendered: Node.js was not found on PATH.")
    assert "install Node.js 18+" in paragraph
    assert f"run `npm ci` in {REPO_ROOT}" in paragraph
    assert "--format dashboard" in paragraph
    assert f"dashboard: {reports.resolve() / 'dashboard.svg'}" in out.splitlines()
    assert (reports / "conformance.md").is_file()
    assert not (reports / "allure-report").exists()
    assert not (reports / SINGLE_FILE).exists()


def test_the_cli_exits_5_without_node_and_0_for_formats_that_need_none(
    fake_suite: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = tmp_path / "reports"
    run_fake(fake_suite, reports, "--alluredir", str(reports / "allure-results"))
    (reports / "dashboard.svg").unlink()
    monkeypatch.setenv("PATH", str(tmp_path))
    capsys.readouterr()
    assert main(["report", "--report-dir", str(reports)]) == 5
    assert "npm ci" in capsys.readouterr().err
    assert main(["report", "--report-dir", str(reports), "--format", "dashboard"]) == 0
    assert (reports / "dashboard.svg").is_file()
    assert main(["report", "--report-dir", str(reports), "--format", "matrix"]) == 0
    assert main(["report", "--report-dir", str(reports), "--format", "html,pdf"]) == 2
    err = capsys.readouterr().err
    assert "allowed, comma-separated: html, html-dir, dashboard, matrix" in err
    assert "Traceback" not in err


def test_an_old_node_is_refused_with_the_instructions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("conformance.reporting.html._node_major", lambda node: 16)
    command, reason = find_allure()
    assert command is None
    assert "is Node.js 16" in reason
    assert "Node.js 18 or newer" in reason


def test_formats_are_checked_before_anything_is_written(tmp_path: Path) -> None:
    assert parse_formats(None) == ["html", "dashboard"]
    assert parse_formats("matrix, html-dir,matrix") == ["matrix", "html-dir"]
    with pytest.raises(UsageError, match="not a list of report formats"):
        report_command(tmp_path, [], "single")
    assert list(tmp_path.iterdir()) == []


def test_report_of_an_empty_dir_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="holds no run"):
        report_command(tmp_path, [])


def test_merge_refuses_missing_and_foreign_dirs(fake_suite: pytest.Pytester, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="do not exist"):
        report_command(tmp_path / "merged", [tmp_path / "nope"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match=r"no conformance\.json"):
        report_command(tmp_path / "merged", [tmp_path / "empty"])
    a, b = tmp_path / "a", tmp_path / "b"
    run_fake(fake_suite, a, "--shard", "1/2")
    run_fake(fake_suite, b, "--shard", "2/2", "--seed", "5")
    with pytest.raises(UsageError, match="different targets or seeds"):
        report_command(tmp_path / "merged", [a, b])


SAMPLES = {
    "vendor deviates from its documentation": (
        "failed",
        str(Finding(rule_id="THANX-REVOKE-202", claim="c", received=500, documented=202, curl="curl -X POST x")),
    ),
    "inferred rule not honoured (violated-inferred, gating only with --strict)": (
        "failed",
        str(InferredFinding(rule_id="POINTS-DUPLICATE-902", claim="c", received=[], documented=[902], curl="curl x")),
    ),
    "precondition not available on this target": (
        "skipped",
        "Skipped: JUSPAY-A: precondition not available on this target: vendor: no mandate",
    ),
    "target unreachable": ("broken", "httpx.ConnectError: [Errno 111] Connection refused"),
    "defect in the suite": ("broken", "TypeError: 'NoneType' object is not subscriptable"),
}


def _category_py(status: str, message: str) -> str | None:
    for cat in CATEGORIES:
        if status in cat["matchedStatuses"] and re.fullmatch(cat.get("messageRegex", "[\\s\\S]*"), message):
            return str(cat["name"])
    return None


def test_categories_classify_messages() -> None:
    for expected, (status, message) in SAMPLES.items():
        assert _category_py(status, message) == expected, message
    finding = "conformance.findings.Finding: " + SAMPLES["vendor deviates from its documentation"][1]
    assert re.fullmatch(FINDING_REGEX, finding)
    assert is_finding(finding)
    assert not re.fullmatch(FINDING_REGEX, "AssertionError: status_code_conformance\n    Received: 400")
    assert not re.fullmatch(PRECONDITION_REGEX, "Skipped: flaky")


@pytest.mark.needs_node
def test_categories_classify_the_same_in_javascript(allure_cli: list[str]) -> None:
    script = (
        "const [cats, samples] = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "const out = {};"
        "for (const [name, [status, msg]] of Object.entries(samples)) {"
        "  const hit = cats.find(c => c.matchedStatuses.includes(status) && "
        "    (!c.messageRegex || new RegExp(c.messageRegex).test(msg)));"
        "  out[name] = hit ? hit.name : null; }"
        "console.log(JSON.stringify(out));"
    )
    done = subprocess.run(
        [allure_cli[0], "-e", script],
        input=json.dumps([CATEGORIES, SAMPLES]),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(done.stdout) == {name: name for name in SAMPLES}


@pytest.fixture
def rendered(fake_suite: pytest.Pytester, tmp_path: Path, allure_cli: list[str]) -> Path:
    reports = tmp_path / "reports"
    run_fake(fake_suite, reports, "--alluredir", str(reports / "allure-results"))
    assert report_command(reports, [], "html,html-dir,dashboard") == 0
    return reports


@pytest.mark.needs_node
def test_report_renders_offline(rendered: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = rendered / "allure-report" / "index.html"
    assert index.is_file()
    config = json.loads((rendered / "allurerc.json").read_text())
    assert [c["name"] for c in config["categories"]][:3] == [
        "vendor deviates from its documentation",
        "inferred rule not honoured (violated-inferred, gating only with --strict)",
        "undocumented behaviour",
    ]


@pytest.fixture
def served(rendered: Path) -> Iterator[str]:
    """Allure 3's static report fetches its data, which file:// forbids: serve it on 127.0.0.1."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(rendered / "allure-report"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1400,1000",
        "--virtual-time-budget=10000",
        *args,
    ]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


def _text(dom: str) -> str:
    body = dom[dom.find("<body") :]
    body = re.sub(r"<(script|style)[\s\S]*?</\1>", " ", body)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


@pytest.mark.needs_node
@pytest.mark.needs_chromium
def test_the_browser_shows_the_five_apis_and_their_counts(
    rendered: Path, served: str, chromium: str, tmp_path: Path
) -> None:
    results = [json.loads(p.read_text()) for p in (rendered / "allure-results").glob("*-result.json")]
    # The tree groups by epic, feature and story: a test bound to two rules is a leaf under each story.
    counts = {api.title: 0 for api in APIS.values()}
    for result in results:
        epics = {label["value"] for label in result["labels"] if label["name"] == "epic"}
        stories = {label["value"] for label in result["labels"] if label["name"] == "story"}
        for epic in epics:
            counts[epic] += max(len(stories), 1)
    assert all(counts.values())
    done = _chromium(chromium, tmp_path / "profile", "--dump-dom", served)
    text = _text(done.stdout)
    assert f"Total {len(results)}" in text, text[:2000]
    for title, count in counts.items():
        # Each tree node shows its count per status ("2" or "1 1" for one failed and one passed).
        match = re.search(re.escape(title) + r"((?: \d+)+)", text)
        assert match is not None, (title, text)
        assert sum(int(n) for n in match.group(1).split()) == count, (title, count, match.group(0))
    screenshot = tmp_path / "report.png"
    _chromium(chromium, tmp_path / "profile2", f"--screenshot={screenshot}", served)
    assert screenshot.is_file()
    assert screenshot.stat().st_size > 10_000


def test_without_the_npm_tool_the_report_exits_5_with_the_instructions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("conformance.reporting.html.REPO_ROOT", tmp_path)
    monkeypatch.setattr("conformance.reporting.html._node_major", lambda node: 20)
    monkeypatch.setattr("shutil.which", lambda name: "/usr/bin/node")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "conformance.json").write_text("{}")
    (tmp_path / "allure-results").mkdir()
    (tmp_path / "allure-results" / "x-result.json").write_text("{}")
    assert report_command(tmp_path, [], "html") == 5
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "the npm `allure` tool is not installed" in line
    assert f"run `npm ci` in {tmp_path}" in line


@pytest.mark.needs_node
def test_the_single_file_report_needs_nothing_beside_it(rendered: Path) -> None:
    page = (rendered / SINGLE_FILE).read_text(encoding="utf-8")
    # Every script and stylesheet is inline (data: URIs): nothing to fetch, so file:// works.
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
    assert sources
    assert all(src.startswith("data:") for src in sources), [s[:40] for s in sources if not s.startswith("data:")]
    assert "googletagmanager" not in page  # Allure's analytics are stripped: opening a report tells nobody
    globals_file = json.loads((rendered / "allure-results" / "conformance-dashboard-globals.json").read_text())
    assert globals_file["attachments"][0]["name"] == "Conformance dashboard"


@pytest.mark.needs_node
@pytest.mark.needs_chromium
def test_the_single_file_report_opens_from_the_file_system_and_shows_the_violated_rule(
    rendered: Path, chromium: str, tmp_path: Path
) -> None:
    matrix = json.loads((rendered / "conformance.json").read_text())
    violated = [row for row in matrix["rows"] if row["verdict"] == "violated"]
    assert violated, "the fake suite has a violated rule"
    page = (rendered / SINGLE_FILE).as_uri()
    text = _text(_chromium(chromium, tmp_path / "profile", "--dump-dom", page).stdout)
    # Not a spinner: the tree is rendered, with its totals and the violated test's rule.
    assert f"Total {matrix['tests']['total']}" in text, text[:2000]
    for row in violated:
        assert row["rule_id"] in text, (row["rule_id"], text[:3000])
    attachments = _text(_chromium(chromium, tmp_path / "profile2", "--dump-dom", page + "#/globalAttachments").stdout)
    assert "Conformance dashboard" in attachments


def test_merge_refuses_a_shard_that_did_not_complete(fake_suite: pytest.Pytester, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    run_fake(fake_suite, a, "--shard", "1/2")
    run_fake(fake_suite, b, "--shard", "2/2")
    matrix = json.loads((b / "conformance.json").read_text())
    matrix["outcome"] = "interrupted (SIGINT)"
    (b / "conformance.json").write_text(json.dumps(matrix))
    with pytest.raises(UsageError, match=r"interrupted \(SIGINT\)\) did not complete"):
        report_command(tmp_path / "merged", [a, b], "matrix")
    assert not (tmp_path / "merged" / "conformance.json").exists()
