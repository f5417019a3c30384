"""``docs diff`` and ``docs pin``: a page copy with one sentence changed marks exactly the quotes of that sentence."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from conformance.apis import SPECS_DIR
from conformance.cli import main
from conformance.drift.pages import Quoter, diff_page, pin_page, quoters
from conformance.speccheck.sources import check_manifest, sha256

# (page, words of one sentence as the snapshot has them, the same words on the changed page, a rule quoting them)
CHANGES = [
    (
        "capillary-badges-revoke-earn.md",
        "Unique identifier of the customer.",
        "Unique identifier of the loyalty member.",
        "BADGE-BODY-CUSTOMERID-REQUIRED",
    ),
    (
        "capillary-points-reverse.md",
        "If not provided, all points may be reversed by default.",
        "If not provided, no points are reversed.",
        "POINTS-FULL-REVERSAL-DEFAULT",
    ),
    (
        "capillary-rewards-user-reward-revoke.md",
        "The endpoint returns HTTP 200 in all cases.",
        "The endpoint returns HTTP 200 in most cases.",
        "REWARDS-HTTP-200",
    ),
    (
        "thanx-issuance-job-revoke.md",
        "Jobs that are pending or processing will return a 422 error.",
        "Jobs that are pending or processing will return a 409 error.",
        "THANX-REVOKE-PENDING-422",
    ),
    (
        "juspay-mandate-revoke.md",
        "Use this API to revoke/cancel an ACTIVE mandate.",
        "Use this API to revoke/cancel an ACTIVE or PAUSED mandate.",
        "JUSPAY-REVOKE-ACTIVE",
    ),
]


def _plain(text: str) -> str:
    """An oracle independent of the matcher under test: no escapes, single spaces."""
    return re.sub(r"\s+", " ", text.replace("\\", "")).strip()


def expected_stale(page: str, sentence: str) -> set[tuple[str, str]]:
    return {(q.kind, q.id) for q in quoters(SPECS_DIR, page) if _plain(sentence) in _plain(q.quote)}


def changed_copy(tmp_path: Path, page: str, old: str, new: str) -> Path:
    text = (SPECS_DIR / "sources" / page).read_text(encoding="utf-8")
    assert text.count(old) == 1
    copy = tmp_path / "saved" / page
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_text(text.replace(old, new), encoding="utf-8")
    return copy


@pytest.mark.parametrize(
    ("page", "old", "new", "rule"), CHANGES, ids=[c[0].split("-")[0] + "-" + c[3] for c in CHANGES]
)
def test_one_changed_sentence_marks_exactly_its_quoters_stale(
    tmp_path: Path, page: str, old: str, new: str, rule: str
) -> None:
    expected = expected_stale(page, old)
    assert ("rule", rule) in expected
    result = diff_page(changed_copy(tmp_path, page, old, new), SPECS_DIR)
    assert {(q.kind, q.id) for q in result.stale} == expected
    assert result.changed_sections
    assert result.checked == len(quoters(SPECS_DIR, page))


@pytest.mark.parametrize("page", [c[0] for c in CHANGES])
def test_an_identical_copy_marks_nothing(tmp_path: Path, page: str) -> None:
    copy = tmp_path / page
    shutil.copyfile(SPECS_DIR / "sources" / page, copy)
    result = diff_page(copy, SPECS_DIR)
    assert result.stale == []
    assert result.changed_sections == []


def test_an_html_copy_is_read_as_its_text(tmp_path: Path) -> None:
    """A saved HTML page: tags, entities and paragraphs differ from the snapshot; only the changed words count."""
    page, old, new, rule = CHANGES[3]
    text = (SPECS_DIR / "sources" / page).read_text(encoding="utf-8").replace(old, new)
    body = "".join(f"<p>{html.escape(line)}</p>\n" for line in text.splitlines())
    copy = tmp_path / "thanx-issuance-job-revoke.html"
    copy.write_text(f"<!DOCTYPE html><html><head><script>var x = 1;</script></head><body>{body}</body></html>")
    result = diff_page(copy, SPECS_DIR)
    assert {(q.kind, q.id) for q in result.stale} == expected_stale(page, old)
    assert ("rule", rule) in {(q.kind, q.id) for q in result.stale}


def test_docs_diff_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page, old, new, rule = CHANGES[2]
    assert main(["docs", "diff", str(changed_copy(tmp_path, page, old, new))]) == 1
    out = capsys.readouterr().out
    assert rule in out
    same = tmp_path / page
    shutil.copyfile(SPECS_DIR / "sources" / page, same)
    assert main(["docs", "diff", str(same)]) == 0
    assert main(["docs", "diff", str(tmp_path / "nowhere.md")]) == 2
    unknown = tmp_path / "some-other-page.md"
    unknown.write_text("text")
    assert main(["docs", "diff", str(unknown)]) == 2
    assert "--as PAGE" in capsys.readouterr().err


@pytest.fixture
def specs_copy(tmp_path: Path) -> Path:
    target = tmp_path / "specs"
    shutil.copytree(SPECS_DIR, target)
    return target


def test_pin_refuses_while_quotes_would_go_stale(tmp_path: Path, specs_copy: Path) -> None:
    page, old, new, _rule = CHANGES[1]
    before = (specs_copy / "sources" / page).read_bytes()
    manifest = (specs_copy / "sources" / "manifest.yaml").read_bytes()
    assert main(["docs", "pin", str(changed_copy(tmp_path, page, old, new)), "--specs-dir", str(specs_copy)]) == 1
    assert (specs_copy / "sources" / page).read_bytes() == before
    assert (specs_copy / "sources" / "manifest.yaml").read_bytes() == manifest


def test_pin_adopts_a_copy_once_the_specs_quote_it(tmp_path: Path, specs_copy: Path) -> None:
    page, old, new, rule = CHANGES[1]
    copy = changed_copy(tmp_path, page, old, new)
    stale: list[Quoter] = pin_page(copy, specs_copy).stale
    assert stale
    # The specs are updated: every quote of the old sentence (folded over YAML lines or not) quotes the new one.
    wrapped = re.compile(r"\s+".join(re.escape(word) for word in old.split()))
    for path in [*specs_copy.glob("*.yaml"), *(specs_copy / "rules").glob("*.yaml")]:
        text = path.read_text(encoding="utf-8")
        path.write_text(wrapped.sub(new, text), encoding="utf-8")
    assert main(["docs", "pin", str(copy), "--specs-dir", str(specs_copy)]) == 0
    sources = specs_copy / "sources"
    assert (sources / page).read_text(encoding="utf-8") == copy.read_text(encoding="utf-8")
    entry = next(e for e in yaml.safe_load((sources / "manifest.yaml").read_text()) if e["file"] == page)
    assert entry["sha256"] == sha256(sources / page)
    assert check_manifest(sources) == []
    assert rule in {q.id for q in quoters(specs_copy, page)}
    assert "# Pinned snapshots" in (sources / "manifest.yaml").read_text()  # comments kept


def test_docs_diff_output_writes_markdown_and_json(tmp_path: Path) -> None:
    page, old, new, rule = CHANGES[0]
    stem = tmp_path / "out" / "pages"
    assert main(["docs", "diff", str(changed_copy(tmp_path, page, old, new)), "--output", str(stem)]) == 1
    data = json.loads(stem.with_suffix(".json").read_text())
    assert data["pages"][0]["page"] == page
    assert rule in {q["id"] for q in data["pages"][0]["stale"]}
    assert rule in stem.with_suffix(".md").read_text()
