"""A malformed spec fails with one paragraph naming the file, the location and the problem: exit code 2."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from conformance.speccheck.cli import main
from conformance.speccheck.load import SpecError, load_spec

Edit = Callable[[Path, str, str], None]


def _run(specs_dir: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["specs", "check", "--specs-dir", str(specs_dir), "--no-lint"])
    return code, capsys.readouterr().err


def _one_paragraph(message: str) -> None:
    assert message.strip(), "no error message"
    assert "\n" not in message.strip(), f"not one paragraph: {message!r}"
    assert "Traceback" not in message


def test_good_fixture_passes(specs_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["specs", "check", "--specs-dir", str(specs_dir), "--no-lint"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "result: ok" in out


def test_bad_yaml(specs_dir: Path, edit: Edit, capsys: pytest.CaptureFixture[str]) -> None:
    edit(specs_dir / "demo.yaml", "summary: Revoke a widget", "summary: Revoke: a widget: now")
    code, err = _run(specs_dir, capsys)
    assert code == 2
    _one_paragraph(err)
    assert "demo.yaml" in err
    assert "line 19, column" in err
    assert "invalid YAML" in err


def test_duplicate_key_is_malformed(specs_dir: Path, edit: Edit) -> None:
    edit(specs_dir / "demo.yaml", "summary: Revoke a widget", "summary: Revoke a widget\n      summary: Again")
    with pytest.raises(SpecError, match=r"demo\.yaml: line 20, column 7: invalid YAML: found duplicate key 'summary'"):
        load_spec(specs_dir / "demo.yaml")


def test_broken_ref(specs_dir: Path, edit: Edit, capsys: pytest.CaptureFixture[str]) -> None:
    edit(specs_dir / "demo.yaml", '"#/components/schemas/RevokeRequest"', '"#/components/schemas/RevokeRequst"')
    code, err = _run(specs_dir, capsys)
    assert code == 2
    _one_paragraph(err)
    assert "demo.yaml" in err
    assert "/paths/~1widgets~1revoke/post/requestBody/content/application~1json/schema/$ref (line 38)" in err
    assert "broken $ref '#/components/schemas/RevokeRequst'" in err
    assert "/components/schemas has: RevokeRequest" in err


def test_unknown_type(specs_dir: Path, edit: Edit, capsys: pytest.CaptureFixture[str]) -> None:
    edit(
        specs_dir / "demo.yaml", "        reason:\n          type: string", "        reason:\n          type: datetime"
    )
    code, err = _run(specs_dir, capsys)
    assert code == 2
    _one_paragraph(err)
    assert "demo.yaml" in err
    assert "/components/schemas/RevokeRequest/properties/reason/type (line 84)" in err
    assert "unknown schema type 'datetime'" in err
    assert "Allowed types: array, boolean, integer, null, number, object, string" in err


def test_invalid_openapi(specs_dir: Path, edit: Edit, capsys: pytest.CaptureFixture[str]) -> None:
    edit(specs_dir / "demo.yaml", "      responses:\n", "      responses: 5\n      unused:\n")
    code, err = _run(specs_dir, capsys)
    assert code == 2
    _one_paragraph(err)
    assert "/paths/~1widgets~1revoke/post/responses" in err
    assert "not a valid OpenAPI 3.1.0 document" in err


def test_usage_error_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["specs", "check", "--bogus"]) == 2
    err = capsys.readouterr().err
    _one_paragraph(err)
    assert "unrecognized arguments: --bogus" in err


def test_missing_specs_dir_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--specs-dir", str(tmp_path / "nope"), "--no-lint"]) == 2
    assert "is not a directory" in capsys.readouterr().err
