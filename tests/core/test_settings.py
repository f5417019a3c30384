"""Configuration precedence: CLI option > environment > targets file > default."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.errors import UsageError
from conformance.settings import build_settings, missing_settings


def write(tmp_path: Path, text: str, name: str = "targets.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_defaults() -> None:
    settings = build_settings({}, env={})
    assert settings.target == "reference"
    assert settings.provisioner_for("juspay") == "control"


def test_cli_beats_env_beats_file(tmp_path: Path) -> None:
    path = write(tmp_path, 'target = "live"\nseed = 1\n[vendors.thanx]\nbase_url = "https://file.invalid"\n')
    env = {"CONFORMANCE_SEED": "2", "CONFORMANCE_TARGETS_FILE": str(path)}
    assert build_settings({}, env=env).seed == 2
    assert build_settings({"seed": 3}, env=env).seed == 3
    assert build_settings({}, env=env).target == "live"
    env["CONFORMANCE_THANX_BASE_URL"] = "https://env.invalid"
    assert build_settings({}, env=env).vendor("thanx").base_url == "https://env.invalid"


def test_yaml_file_interpolates_environment(tmp_path: Path) -> None:
    path = write(tmp_path, "vendors:\n  juspay:\n    api_key: ${KEY}\n", "targets.yaml")
    settings = build_settings({"targets_file": str(path)}, env={"KEY": "k-123"})
    assert settings.vendor("juspay").api_key == "k-123"


def test_a_literal_secret_in_the_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, '[vendors.thanx]\naccess_token = "abc"\n')
    with pytest.raises(
        UsageError, match=r"literal secret at vendors.thanx.access_token.*CONFORMANCE_THANX_ACCESS_TOKEN"
    ):
        build_settings({"targets_file": str(path)}, env={})


def test_an_unset_variable_names_where_it_is_used(tmp_path: Path) -> None:
    path = write(tmp_path, '[vendors.thanx]\naccess_token = "${NOPE}"\n')
    with pytest.raises(UsageError, match=r"\$\{NOPE\}.*vendors.thanx.access_token.*NOPE is not set"):
        build_settings({"targets_file": str(path)}, env={})


def test_bad_values_name_what_is_allowed() -> None:
    with pytest.raises(UsageError, match="Allowed targets: reference, live, record, replay"):
        build_settings({"target": "staging"}, env={})
    with pytest.raises(UsageError, match="Unknown API 'stripe'"):
        build_settings({"apis": ["stripe"]}, env={})


def test_missing_live_settings_are_listed_with_how_to_set_them() -> None:
    settings = build_settings({"target": "live", "apis": ["juspay"]}, env={"CONFORMANCE_JUSPAY_API_KEY": "k"})
    assert missing_settings(settings) == [
        "juspay base URL — --base-url, CONFORMANCE_JUSPAY_BASE_URL or vendors.juspay.base_url",
        "juspay merchant_id — CONFORMANCE_JUSPAY_MERCHANT_ID",
    ]


def test_a_production_host_is_refused_unless_allowed() -> None:
    from conformance.targets import refuse_production

    settings = build_settings({"target": "live"}, env={})
    with pytest.raises(UsageError, match=r"api\.thanx\.com, which specs/thanx\.yaml marks as a production server"):
        refuse_production(settings, {"thanx": "https://api.thanx.com"})
    refuse_production(settings, {"thanx": "https://api.thanxsandbox.com"})
    allowed = build_settings({"target": "live"}, env={"CONFORMANCE_ALLOW_PRODUCTION": "1"})
    refuse_production(allowed, {"thanx": "https://api.thanx.com"})
