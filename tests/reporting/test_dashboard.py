"""The dashboard: its SVG structure for the reference run and for a run with one deviation, pinned as goldens,
its determinism, and the page a browser shows.

``golden/dashboard/runs.json`` holds the verdict of every rule of two runs on the reference target: the
reference sandbox as committed, then the same sandbox with the deviation ``badges-echo-ids-swapped`` (which
breaks exactly BADGE-REVOKE-ECHO). Refresh it from ``conformance run`` then ``conformance run --deviation
badges-echo-ids-swapped`` into one report dir (their history.jsonl); refresh the goldens with UPDATE_GOLDEN=1.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from conformance.apis import APIS
from conformance.reporting.dashboard import (
    VERDICT_COLOURS,
    ApiGrid,
    Dashboard,
    TrendPoint,
    build_dashboard,
    render,
    write_dashboard,
)
from conformance.reporting.history import HISTORY_FILE, HistoryEntry, append_history
from conformance.reporting.matrix import Matrix, Row, totals_of
from conformance.reporting.progress import api_of_rule
from conformance.reporting.render import render_markdown
from tests.reporting.conftest import GOLDEN

RUNS = json.loads((GOLDEN / "dashboard" / "runs.json").read_text(encoding="utf-8"))
COLOUR_VERDICT = {colour: verdict for verdict, colour in VERDICT_COLOURS.items()}
SVG_NS = "{http://www.w3.org/2000/svg}"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


def matrix_of(run: dict[str, Any]) -> Matrix:
    rows = []
    for rule_id, verdict in run["verdicts"].items():
        api = api_of_rule(rule_id)
        assert api is not None
        rows.append(
            Row(
                api=api,
                rule_id=rule_id,
                claim="",
                kind="transition",
                operation="op",
                severity="normal",
                source="page.md § s",
                confidence="documented",
                verdict=verdict,
            )
        )
    apis = [api for api in APIS if any(r.api == api for r in rows)]
    totals = {api: totals_of([r for r in rows if r.api == api]) for api in apis} | {"all": totals_of(rows)}
    return Matrix(
        generated_at=run["generated_at"],
        suite_version="0",
        target=RUNS["target"],
        seed=1,
        apis=apis,
        rows=rows,
        totals=totals,
    )


def history_of(runs: list[dict[str, Any]]) -> list[HistoryEntry]:
    return [
        HistoryEntry(
            time=run["generated_at"], target=RUNS["target"], api=api_of_rule(rid) or "", rule_id=rid, verdict=v
        )
        for run in runs
        for rid, v in run["verdicts"].items()
    ]


def _fill(element: ET.Element) -> str | None:
    for node in element.iter():
        match = re.search(r"fill:\s*(#[0-9a-f]{6})", node.get("style", ""))
        if match:
            return match.group(1)
    return None


def structure(svg: bytes) -> dict[str, Any]:
    """What the SVG draws, read back: per API its cells' verdicts (by colour), the changed rules, the trend marks."""
    root = ET.fromstring(svg)
    apis: dict[str, dict[str, Any]] = {}
    for element in root.iter(f"{SVG_NS}g"):
        parts = (element.get("id") or "").split("--")
        if parts[0] == "cell":
            fill = _fill(element)
            apis.setdefault(parts[1], {"cells": {}, "changed": [], "trend_changes": []})["cells"][parts[2]] = (
                COLOUR_VERDICT.get(fill or "", fill)
            )
        elif parts[0] == "changed":
            apis[parts[1]]["changed"].append(parts[2])
        elif parts[0] == "change":
            apis.setdefault(parts[1], {"cells": {}, "changed": [], "trend_changes": []})["trend_changes"].append(
                int(parts[2])
            )
    texts = [" ".join("".join(t.itertext()).split()) for t in root.iter(f"{SVG_NS}text")]
    return {
        "apis": {
            api: {
                "verdicts": dict(sorted(Counter(info["cells"].values()).items())),
                "not_verified": sorted(rid for rid, v in info["cells"].items() if v != "verified"),
                "changed": sorted(info["changed"]),
                "trend_changes": sorted(info["trend_changes"]),
            }
            for api, info in apis.items()
        },
        "summaries": sorted(t for t in texts if " rules · index " in t),
        "cells": {rid: v for info in apis.values() for rid, v in info["cells"].items()},
    }


def check_golden(name: str, actual: dict[str, Any]) -> None:
    path = GOLDEN / "dashboard" / name
    text = json.dumps(actual, indent=1, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} changed; rerun with UPDATE_GOLDEN=1 if intended"


def test_the_reference_run_is_a_grid_of_verified_rules_per_api() -> None:
    reference = RUNS["runs"][0]
    matrix = matrix_of(reference)
    svg, _ = render(build_dashboard(matrix, history_of([reference])))
    drawn = structure(svg)
    # Every rule of the matrix is one cell, in its API's row, coloured by its verdict.
    assert drawn["cells"] == {row.rule_id: row.verdict for row in matrix.rows}
    for api in matrix.apis:
        assert drawn["apis"][api]["verdicts"] == {"verified": sum(r.api == api for r in matrix.rows)}
        assert drawn["apis"][api]["changed"] == []
    assert f"{matrix.totals['thanx'].rules} rules · index 100% · score 100%" in drawn["summaries"]
    del drawn["cells"]
    check_golden("reference.structure.json", drawn)


def test_one_deviation_shows_as_one_red_cell_outlined_as_changed_and_a_marked_drop_in_the_trend() -> None:
    reference, deviation = RUNS["runs"]
    matrix = matrix_of(deviation)
    svg, _ = render(build_dashboard(matrix, history_of([reference, deviation])))
    drawn = structure(svg)
    assert drawn["cells"] == {row.rule_id: row.verdict for row in matrix.rows}
    badges = drawn["apis"]["capillary-badges"]
    assert badges["not_verified"] == ["BADGE-REVOKE-ECHO"]
    assert drawn["cells"]["BADGE-REVOKE-ECHO"] == "violated"
    assert badges["changed"] == ["BADGE-REVOKE-ECHO"]
    assert badges["trend_changes"] == [1]  # the second run, where the rule changed
    assert all(
        not info["changed"] and not info["trend_changes"]
        for api, info in drawn["apis"].items()
        if api != "capillary-badges"
    )
    assert "17 rules · index 100% · score 94%" in drawn["summaries"]
    del drawn["cells"]
    check_golden("deviation.structure.json", drawn)


def test_every_verdict_has_its_own_colour_including_violated_inferred() -> None:
    verdicts = ["verified", "violated", "violated-inferred", "skipped", "untested"]
    assert len(set(VERDICT_COLOURS.values())) == len(VERDICT_COLOURS) == len(verdicts)
    dashboard = Dashboard(
        target="live",
        generated_at="2026-11-23T10:00:00Z",
        grids=[
            ApiGrid(
                api="thanx",
                title="Thanx",
                rules=[(f"THANX-R{n}", v) for n, v in enumerate(verdicts)],
                changed=["THANX-R2"],
                index=0.6,
                score=0.3333,
            )
        ],
        trend={"thanx": [TrendPoint(time="2026-11-23T10:00:00Z", score=0.3333, changed=["THANX-R2"])]},
    )
    drawn = structure(render(dashboard)[0])
    assert drawn["cells"] == {f"THANX-R{n}": v for n, v in enumerate(verdicts)}
    assert drawn["apis"]["thanx"]["changed"] == ["THANX-R2"]
    assert drawn["summaries"] == ["5 rules · index 60% · score 33%"]


def test_the_output_is_deterministic() -> None:
    reference, deviation = RUNS["runs"]
    dashboard = build_dashboard(matrix_of(deviation), history_of([reference, deviation]))
    assert render(dashboard) == render(dashboard)


def test_a_run_writes_the_dashboard_beside_the_matrix_and_the_matrix_links_it(tmp_path: Path) -> None:
    reference, deviation = RUNS["runs"]
    append_history(tmp_path, matrix_of(reference))
    matrix = matrix_of(deviation)
    paths = write_dashboard(matrix, tmp_path)
    assert [p.name for p in paths] == ["dashboard.svg", "dashboard.png", "dashboard.html"]
    assert (tmp_path / "dashboard.png").read_bytes().startswith(b"\x89PNG")
    # The history written before this run is the trend; this run is its last point.
    assert structure((tmp_path / "dashboard.svg").read_bytes())["apis"]["capillary-badges"]["trend_changes"] == [1]
    assert not list(tmp_path.glob(".*.tmp"))
    assert (tmp_path / HISTORY_FILE).is_file()
    assert "](dashboard.png)](dashboard.html)" in render_markdown(matrix)
    page = (tmp_path / "dashboard.html").read_text()
    assert "<svg" in page
    assert "<code>BADGE-REVOKE-ECHO</code> violated (changed)" in page


@pytest.fixture
def chromium() -> str:
    found = next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)
    if found is None:
        pytest.skip("no Chromium on PATH (apt-get install chromium) to open the dashboard")
    return found


def chromium_run(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1400,1100",
        "--virtual-time-budget=5000",
        *args,
    ]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.needs_chromium
@pytest.mark.parametrize("run", [0, 1], ids=["reference", "deviation"])
def test_the_browser_shows_the_dashboard_from_the_file_system(run: int, chromium: str, tmp_path: Path) -> None:
    runs = RUNS["runs"][: run + 1]
    for earlier in runs[:-1]:
        append_history(tmp_path, matrix_of(earlier))
    matrix = matrix_of(runs[-1])
    write_dashboard(matrix, tmp_path)
    page = (tmp_path / "dashboard.html").as_uri()
    dom = chromium_run(chromium, tmp_path / "profile", "--dump-dom", page).stdout
    # The browser parsed the inline SVG: every cell is in the DOM with its colour.
    cells = re.findall(r'<g id="cell--([a-z-]+)--([A-Z0-9-]+)"', dom)
    assert len(cells) == len(matrix.rows)
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", dom)))
    if run:
        assert "BADGE-REVOKE-ECHO violated (changed)" in text
        assert "17 rules · index 100% · score 94%" in text
    else:
        assert "BADGE-REVOKE-ECHO" not in text
        assert text.count("Every rule verified.") == len(matrix.apis)
    shot = tmp_path / "dashboard.png.shot.png"
    chromium_run(chromium, tmp_path / "profile2", f"--screenshot={shot}", page)
    assert shot.is_file()
    assert shot.stat().st_size > 20_000
