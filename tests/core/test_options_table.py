"""One options table: flags, pytest options, variables, targets-file keys and the README all come from it,
and the precedence CLI > environment > targets file > default holds for every setting."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from conformance.cli import build_parser
from conformance.settings import OPTIONS, Option, Settings, build_settings, from_cli, readme_table

README = Path(__file__).resolve().parents[2] / "README.md"
PACKAGE = Path(__file__).resolve().parents[2] / "conformance"

# Three distinct valid values per option: (cli, env, file), as text.
SAMPLES: dict[str, tuple[str, str, str]] = {
    "shard": ("1/2", "2/3", "3/4"),
    "apis": ("thanx", "juspay", "capillary-points"),
    "allow_hosts": ("cli.example", "env.example", "file.example"),
    "min_index": ("10", "20", "30"),
    "target": ("live", "record", "replay"),
    "provisioner": ("control", "vendor", "manifest"),
}
BY_KIND = {
    "int": ("1", "2", "3"),
    "float": ("1.5", "2.5", "3.5"),
    "str": ("from-cli", "from-env", "from-file"),
    "path": ("cli/dir", "env/dir", "file/dir"),
}


def two_valued(option: Option) -> bool:
    return option.kind == "bool" or (option.kind == "choice" and len(option.choices) < 3)


def samples(option: Option) -> tuple[str, str, str]:
    """Values for the CLI, the environment and the file; a new option whose values are constrained (a format,
    a range) gets its own entry in SAMPLES."""
    if option.kind == "bool":
        return ("true", "false", "true")  # only two values: cli true beats env false, env false beats file true
    if option.kind == "choice" and option.name not in SAMPLES:
        a, b, c = (
            (list(option.choices) * 3)[-3:] if len(option.choices) >= 3 else (*option.choices[::-1], option.choices[-1])
        )
        return (a, b, c)
    return SAMPLES.get(option.name) or BY_KIND[option.kind]


def toml_value(option: Option, text: str) -> str:
    value: Any = option.from_text(text, "test")
    if option.kind in ("int", "float", "bool"):
        value = json.loads(text)
    return json.dumps(value)


def cli_values(option: Option, text: str) -> dict[str, Any]:
    """Through the generated argparse of `conformance run`, as a user would type it."""
    if option.kind == "bool":
        argv = [option.flag] if text == "true" else [f"--no-{option.flag[2:]}"]
    else:
        argv = [option.flag, text]
    args = build_parser().parse_args(["run", *argv])
    return from_cli({o.dest: getattr(args, o.dest) for o in OPTIONS})


@pytest.mark.parametrize("option", OPTIONS, ids=[o.name for o in OPTIONS])
def test_precedence_cli_env_file_default(option: Option, tmp_path: Path) -> None:
    cli_text, env_text, file_text = samples(option)
    if option.name == "targets_file":  # the file names itself only from the CLI or the environment
        cli_text, env_text = str(tmp_path / "cli.toml"), str(tmp_path / "env.toml")
        for name in (cli_text, env_text):
            Path(name).write_text("")
    targets = tmp_path / "targets.toml"
    file_line = "" if option.name == "targets_file" else f"{option.name} = {toml_value(option, file_text)}\n"
    targets.write_text(file_line)
    env = {"CONFORMANCE_TARGETS_FILE": str(targets)} if option.name != "targets_file" else {}

    def value(cli: dict[str, Any], extra_env: dict[str, str], *, with_file: bool = True) -> Any:
        return getattr(build_settings(cli, env={**(env if with_file else {}), **extra_env}), option.name)

    default = getattr(Settings(), option.name)
    cli_only = value(cli_values(option, cli_text), {}, with_file=False)
    env_only = value({}, {option.env: env_text}, with_file=False)
    assert value({}, {}, with_file=False) == default
    # CLI beats environment beats targets file beats default.
    assert value(cli_values(option, cli_text), {option.env: env_text}) == cli_only != env_only
    if option.name != "targets_file":
        file_only = value({}, {})
        assert file_only != default or two_valued(option)
        assert value({}, {option.env: env_text}) == env_only != file_only
    assert value({}, {option.env: ""}) == value({}, {}), "an empty variable counts as unset"


def test_report_dir_from_the_environment_reaches_conformance_run(tmp_path: Path) -> None:
    from conformance.runner import RunOptions

    args = build_parser().parse_args(["run"])
    values = {o.dest: getattr(args, o.dest) for o in OPTIONS}
    settings = build_settings(from_cli(values), env={"CONFORMANCE_REPORT_DIR": str(tmp_path / "from-env")})
    assert settings.report_dir == tmp_path / "from-env"
    pytest_args = RunOptions(values=values).pytest_args(settings.report_dir)
    assert pytest_args[pytest_args.index("--junitxml") + 1] == str(tmp_path / "from-env" / "junit.xml")


def test_every_option_is_a_pytest_option_of_the_plugin(pytestconfig: pytest.Config) -> None:
    for option in OPTIONS:
        assert pytestconfig.getoption(option.dest) is None or option.name == "report_dir"


def test_readme_settings_table_is_the_generated_one() -> None:
    text = README.read_text(encoding="utf-8")
    table = re.search(r"<!-- settings-table:start -->\n(.*?)<!-- settings-table:end -->", text, re.S)
    assert table is not None, "README lost its settings table markers"
    assert table.group(1) == readme_table(), "README's settings table is stale: paste `python -m conformance.settings`"


def test_readme_lists_every_exit_code() -> None:
    from conformance.errors import ExitCode

    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Exit codes") : text.index("## Provisioners")]
    codes = {int(c) for c in re.findall(r"^\| (\d+) \|", section, re.M)}
    assert codes == {v for k, v in vars(ExitCode).items() if k.isupper()}


def test_only_the_settings_module_reads_the_environment() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "settings.py" and path.parent == PACKAGE:
            continue
        text = path.read_text(encoding="utf-8")
        for n, line in enumerate(text.splitlines(), 1):
            if re.search(r"os\.environ|os\.getenv|environ\.get", line):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{n}")
    assert offenders == []


def test_the_project_tests_see_no_conformance_variable_but_a_temporary_report_dir(
    isolated_environment: Path,
) -> None:
    import os

    names = [n for n in os.environ if n.startswith("CONFORMANCE_")]
    assert names == ["CONFORMANCE_REPORT_DIR"]
    assert Path(os.environ["CONFORMANCE_REPORT_DIR"]) == isolated_environment
    assert not isolated_environment.is_relative_to(Path(__file__).resolve().parents[2])
