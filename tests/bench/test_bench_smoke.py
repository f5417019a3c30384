"""The benchmark runs end to end with tiny settings and writes a well-formed report.

A benchmark is not a timed test: these assert the structure of what it writes, never a speed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.tools import bench

ROOT = Path(__file__).resolve().parents[2]
TINY_SCENARIO = "test_revoking_an_active_mandate_revokes_it"


def write_allure_result(
    directory: Path, name: str, full_name: str, phases: list[str], apis: list[str] | None = None
) -> None:
    """An Allure result whose steps attach one rendered exchange per phase, nested like allure-pytest does."""
    steps = []
    for index, phase in enumerate(phases):
        source = f"{name}-{index}-attachment.json"
        api = apis[index] if apis else "juspay"
        (directory / source).write_text(json.dumps({"phase": phase, "api": api}))
        steps.append({"name": f"{phase}: GET /x → 200", "attachments": [{"name": "exchange", "source": source}]})
    nested = [{"name": "outer", "steps": steps[1:], "attachments": [{"name": "curl", "source": "none.txt"}]}]
    result = {"name": name, "fullName": full_name, "steps": steps[:1] + nested}
    (directory / f"{name}-result.json").write_text(json.dumps(result))


def test_exchanges_are_counted_per_phase_from_the_allure_results(tmp_path: Path) -> None:
    write_allure_result(
        tmp_path, "a", "conformance.suite.properties.test_juspay#test_juspay", ["setup", "test", "test"]
    )
    write_allure_result(tmp_path, "b", "conformance.suite.scenarios.test_juspay#test_x", ["control", "readback"])

    assert bench.exchange_phases(tmp_path) == {"test": 2, "setup": 1, "control": 1, "readback": 1}
    assert bench.exchange_phases(tmp_path, bench.is_property_result) == {"test": 2, "setup": 1}


def test_exchanges_are_counted_per_api_with_the_provisioner_calls_of_each_api_s_tests(tmp_path: Path) -> None:
    write_allure_result(tmp_path, "a", "x#test_a", ["setup", "test", "readback"], ["control", "juspay", "juspay"])
    write_allure_result(tmp_path, "b", "x#test_b", ["setup", "setup", "test"], ["control", "control", "thanx"])
    write_allure_result(tmp_path, "c", "x#test_c", ["setup"], ["control"])  # no vendor call: counted as control

    phases, per_api = bench.exchange_counts(tmp_path)

    assert sum(phases.values()) == 7
    assert per_api == {
        "control": {"control": 1},
        "juspay": {"control": 1, "vendor": 2},
        "thanx": {"control": 2, "vendor": 1},
    }


def test_junit_outcomes_and_red_nodeids(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    junit.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="conformance.suite.scenarios.test_juspay" name="test_ok" time="0.5"/>'
        '<testcase classname="conformance.suite.scenarios.test_juspay" name="test_bad[x]" time="0.25">'
        '<failure message="no"/></testcase>'
        '<testcase classname="conformance.suite.properties.test_juspay" name="test_juspay[POST /m]" time="1">'
        '<error message="teardown"/></testcase>'
        "</testsuite></testsuites>"
    )

    summary = bench.read_junit(junit)

    assert (summary.tests, summary.passed, summary.failed, summary.errors) == (3, 1, 1, 1)
    assert summary.test_time_s == pytest.approx(1.75)
    assert summary.red == [
        "conformance/suite/scenarios/test_juspay.py::test_bad[x]",
        "conformance/suite/properties/test_juspay.py::test_juspay[POST /m]",
    ]


@pytest.mark.slow
def test_a_tiny_bench_writes_a_valid_report(tmp_path: Path) -> None:
    output = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFORMANCE_")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance.tools.bench",
            "--runs",
            "1",
            "--configs",
            "replay",
            "--apis",
            "juspay",
            "-k",
            TINY_SCENARIO,
            "--work-dir",
            str(tmp_path),
            "--output",
            str(output),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    report = json.loads(output.read_text(encoding="utf-8"))
    assert report["runs"] == 1
    assert {"cpu", "cores", "python", "libraries"} <= set(report["machine"])
    assert len(report["load_average"]["before"]) == len(report["load_average"]["after"]) == 3
    assert [row["name"] for row in report["suite"]] == ["replay"]
    for row in report["suite"]:
        assert set(row["wall_s"]) == {"min", "median", "max"}
        (run,) = row["runs"]
        assert run["tests"]["passed"] >= 1
        assert run["exchanges"] == sum(run["phases"].values()) > 0
    assert report["cassettes"]["tests"] >= 1
    assert report["cassettes"]["source"]
    names = [row["name"] for row in report["properties"]["contenders"]]
    assert len(names) == 3
    assert any(name.startswith("Schemathesis CLI") for name in names)
    assert report["properties"]["operations"] >= 1
    for row in report["properties"]["contenders"]:
        assert row["cases"]["median"] > 0
        assert set(row["cases_per_s_wall"]) == {"min", "median", "max"}
    assert report["profile"] is None
    assert [serve["judge_client"] for serve in report["serve"]] == [True, False]
    assert all(serve["requests"] == 2000 for serve in report["serve"])
    assert "Goals of the performance issue" in done.stdout
    assert "| target | workers |" in done.stdout
    assert "Machine:" in done.stdout
    assert not list(tmp_path.glob("conformance-bench-*")), "the scratch report dirs are removed unless --keep"
