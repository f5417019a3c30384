"""Every input is checked before collection and before the first request: one paragraph, exit 2, no
traceback, and nothing written (a previous run's matrix and JUnit are removed, never left to be misread)."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from conformance.settings import build_settings
from tests.run.conftest import REPO, clean_env, left_behind, run_cli

Case = Callable[[Path], tuple[list[str], dict[str, str], str, list[str]]]


def broken_spec(tmp: Path) -> tuple[list[str], dict[str, str], str, list[str]]:
    specs = tmp / "specs"
    shutil.copytree(REPO / "specs", specs)
    spec = specs / "thanx.yaml"
    spec.write_text(spec.read_text().replace("openapi: 3.1.0", "openapi: 3.1.0\npaths: [", 1))
    prelude = f"import conformance.apis as apis, pathlib; apis.SPECS_DIR = pathlib.Path({str(specs)!r})"
    return ["--apis", "thanx"], {}, prelude, ["thanx.yaml", "line"]


def targets_file(tmp: Path) -> tuple[list[str], dict[str, str], str, list[str]]:
    path = tmp / "targets.toml"
    path.write_text("target = [\n")
    return ["--targets-file", str(path)], {}, "", [str(path), "does not parse", "TOML or YAML"]


def manifest(tmp: Path) -> tuple[list[str], dict[str, str], str, list[str]]:
    path = tmp / "manifest.yaml"
    path.write_text("juspay_mandates: [\n")
    return ["--manifest", str(path)], {}, "", [str(path), "not valid YAML"]


def baseline_unknown_rule(tmp: Path) -> tuple[list[str], dict[str, str], str, list[str]]:
    path = tmp / "baseline.yaml"
    path.write_text("- {rule: THANX-REVOKE-PENDING-42, reason: ticket, expires: 2999-01-01}\n")
    return ["--baseline", str(path)], {}, "", ["THANX-REVOKE-PENDING-42", "did you mean THANX-REVOKE-PENDING-422"]


def corrupted_cassette(tmp: Path) -> tuple[list[str], dict[str, str], str, list[str]]:
    bad = tmp / "cassettes" / "reference" / "test_thanx" / "test_x.yaml"
    bad.parent.mkdir(parents=True)
    bad.write_text("interactions: [\n  - {request: \n")
    args = ["--target", "replay", "--cassette-dir", str(tmp / "cassettes")]
    return args, {}, "", [str(bad), "corrupted", "python3 noxfile.py -s record"]


def unwritable_report_dir(tmp: Path) -> tuple[list[str], dict[str, str], str, list[str]]:
    (tmp / "a-file").write_text("")
    return ["--report-dir", str(tmp / "a-file" / "reports")], {}, "", ["report dir", "is not a directory"]


def api_name(tmp: Path) -> tuple[list[str], dict[str, str], str, list[str]]:
    return ["--apis", "thanks"], {}, "", ["Unknown API 'thanks'", "Did you mean 'thanx'?"]


def bad_variable(tmp: Path) -> tuple[list[str], dict[str, str], str, list[str]]:
    return [], {"CONFORMANCE_SEED": "seven"}, "", ["'seven'", "CONFORMANCE_SEED", "integer"]


def bad_shard(tmp: Path) -> tuple[list[str], dict[str, str], str, list[str]]:
    return ["--shard", "3/2"], {}, "", ["--shard '3/2'", "1 <= K <= N"]


def unknown_deviation(tmp: Path) -> tuple[list[str], dict[str, str], str, list[str]]:
    return ["--deviation", "nope"], {}, "", ["unknown deviation 'nope'", "choose from"]


def production_host(tmp: Path) -> tuple[list[str], dict[str, str], str, list[str]]:
    env = {
        "CONFORMANCE_THANX_BASE_URL": "https://api.thanx.com",
        "CONFORMANCE_THANX_ACCESS_TOKEN": "t",
        "CONFORMANCE_THANX_CLIENT_ID": "c",
    }
    return ["--target", "live", "--apis", "thanx"], env, "", ["api.thanx.com", "production server"]


def missing_settings(tmp: Path) -> tuple[list[str], dict[str, str], str, list[str]]:
    return ["--target", "live", "--apis", "thanx"], {}, "", ["missing settings", "CONFORMANCE_THANX_ACCESS_TOKEN"]


CASES: list[Case] = [
    broken_spec,
    targets_file,
    manifest,
    baseline_unknown_rule,
    corrupted_cassette,
    unwritable_report_dir,
    api_name,
    bad_variable,
    bad_shard,
    unknown_deviation,
    production_host,
    missing_settings,
]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.__name__ for c in CASES])
def test_bad_input_is_one_paragraph_exit_2_before_collection(case: Case, tmp_path: Path) -> None:
    args, env, prelude, needles = case(tmp_path)
    report_dir = tmp_path / "reports"
    report_dir.mkdir()
    (report_dir / "conformance.json").write_text('{"previous": "run"}')  # a stale pass must not survive
    if "--report-dir" not in args:
        args = ["--report-dir", str(report_dir), *args]
    ran = run_cli("run", *args, env=clean_env(**env), prelude=prelude)
    assert ran.code == 2, ran.text[-3000:]
    paragraph = ran.error_paragraph()
    for needle in needles:
        assert needle in paragraph
    assert "collected" not in ran.out, "checked before collection"
    assert "bringing up nodes" not in ran.out
    if case is not unwritable_report_dir:  # there the run's report dir is the unusable path itself
        assert left_behind(report_dir) == dict.fromkeys(left_behind(report_dir), False)
    assert not (report_dir / "allure-results").exists()


@pytest.mark.slow
def test_broken_spec_message_is_the_specs_check_message(tmp_path: Path) -> None:
    args, _env, prelude, _ = broken_spec(tmp_path)
    run = run_cli("run", "--report-dir", str(tmp_path / "r"), *args, prelude=prelude).error_paragraph()
    check = run_cli("specs", "check", "--no-lint", "--specs-dir", str(tmp_path / "specs"))
    assert check.code == 2
    assert run.removeprefix("conformance: error: ") in check.err.replace("\n", " ")


def test_empty_variables_count_as_unset() -> None:
    env = {"CONFORMANCE_THANX_RATE_LIMIT": "", "CONFORMANCE_SEED": "", "CONFORMANCE_ALLOW_PRODUCTION": " "}
    settings = build_settings({}, env=env)
    assert settings.vendor("thanx").rate_limit is None
    assert settings.seed == 20261122
    assert settings.allow_production is False


@pytest.mark.slow
def test_serve_unknown_api_suggests_the_closest(tmp_path: Path) -> None:
    ran = run_cli("serve", "--api", "juspai", "--port", "0", timeout=60)
    assert ran.code == 2
    paragraph = ran.error_paragraph()
    assert "Unknown API 'juspai'" in paragraph
    assert "Did you mean 'juspay'?" in paragraph


@pytest.mark.slow
def test_serve_on_a_port_in_use_is_a_usage_error(tmp_path: Path) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        ran = run_cli("serve", "--host", "127.0.0.1", "--port", str(port), timeout=60)
    assert ran.code == 2
    paragraph = ran.error_paragraph()
    assert f"Cannot listen on 127.0.0.1:{port}" in paragraph
    assert "--port 0" in paragraph
