"""Bad gate options are refused before anything starts: one line, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.cli import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--verdict", "v.json"], "apply only with --judge-client"),
        (["serve", "--judge-client", "--min-coverage", "150"], "is not a percentage"),
        (["proxy", "--to", "ftp://example.com"], "is not an http(s) URL"),
        (["proxy", "--to", "https://api.thanx.com"], "marks as production"),
    ],
)
def test_bad_options_are_usage_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []
