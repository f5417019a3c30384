"""Specs parsed once per content: the cache gives what yaml.safe_load gives, fresh each time, and errors unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conformance import yamlcache


def test_a_cached_document_equals_a_fresh_parse_and_is_a_new_object(tmp_path: Path) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text("a: [1, 2.5, null, true]\n200: {b: x}\n", encoding="utf-8")
    first, second = yamlcache.load_path(path), yamlcache.load_path(path)
    assert first == second == yaml.safe_load(path.read_text())
    first["a"].append("changed")
    assert yamlcache.load_path(path)["a"] == [1, 2.5, None, True], "no caller sees another's changes"


def test_a_changed_file_is_parsed_again(tmp_path: Path) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text("v: 1\n")
    assert yamlcache.load_path(path) == {"v": 1}
    path.write_text("v: 2\n")
    assert yamlcache.load_path(path) == {"v": 2}


def test_dates_are_parsed_though_not_cached_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text("expires: 2026-12-01\n")
    assert yamlcache.load_path(path) == yaml.safe_load("expires: 2026-12-01\n")


def test_a_syntax_error_reads_as_the_pure_python_parser_words_it() -> None:
    text = "a: [1, 2\nb: c\n"
    with pytest.raises(yaml.YAMLError) as expected:
        yaml.load(text, Loader=yaml.SafeLoader)
    with pytest.raises(yaml.YAMLError) as got:
        yamlcache.load_text(text)
    assert str(got.value) == str(expected.value)


def test_a_remembered_check_is_seen_only_for_the_same_bytes_and_tag() -> None:
    yamlcache.remember("test-check", b"content one")
    assert yamlcache.seen("test-check", b"content one")
    assert not yamlcache.seen("test-check", b"content two")
    assert not yamlcache.seen("another-check", b"content one")


def test_the_disk_cache_stays_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    monkeypatch.setattr(yamlcache, "_cache_dir", lambda: cache)
    monkeypatch.setattr(yamlcache, "MAX_DISK_ENTRIES", 10)
    monkeypatch.setattr(yamlcache, "_pruned", set())
    for n in range(12):
        (cache / f"old{n}.marshal").write_bytes(b"x")
        os.utime(cache / f"old{n}.marshal", ns=(n, n))
    text = f"fresh: '{tmp_path.name}'\n"  # content no earlier test cached in memory
    assert yamlcache.load_text(text) == {"fresh": tmp_path.name}
    left = sorted(p.name for p in cache.iterdir())
    # 12 files were over the bound: the 7 oldest went, then the new document was written.
    assert len(left) == 6
    assert "old11.marshal" in left
    assert "old0.marshal" not in left
