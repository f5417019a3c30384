"""The source manifest (``specs/sources/manifest.yaml``): every pinned page exists and its sha256 matches."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from conformance.speccheck.load import display, load_yaml

MANIFEST = "manifest.yaml"
ENTRY_KEYS = ("file", "url", "retrieved", "sha256")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_manifest(sources_dir: Path) -> list[str]:
    """Problems with the manifest; an empty list means every page is listed, present and unchanged."""
    manifest = sources_dir / MANIFEST
    shown = display(manifest)
    if not manifest.is_file():
        return [f"{shown} is missing: every page in {sources_dir.name}/ needs a pinned entry (file, url, sha256)"]
    raw: Any = load_yaml(manifest)
    entries = raw.get("files", raw.get("sources")) if isinstance(raw, dict) else raw
    if not isinstance(entries, list):
        return [f"{shown}: must be a list of {{{', '.join(ENTRY_KEYS)}}}"]
    problems: list[str] = []
    listed: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"{shown}: entry {index}"
        if not isinstance(entry, dict) or any(key not in entry for key in ENTRY_KEYS):
            problems.append(f"{where}: needs {', '.join(ENTRY_KEYS)}")
            continue
        name = str(entry["file"])
        if name in listed:
            problems.append(f"{where}: {name} is listed twice")
        listed.add(name)
        path = sources_dir / name
        if "/" in name or not path.is_file():
            problems.append(f"{where}: {name} does not exist in {sources_dir.name}/")
            continue
        actual = sha256(path)
        if actual != str(entry["sha256"]).lower():
            problems.append(
                f"{where}: sha256 mismatch for {name}: the manifest says {entry['sha256']},"
                f" the file is {actual} (the snapshot changed; re-pin it only if that was meant)"
            )
    for path in sorted(sources_dir.glob("*.md")):
        if path.name not in listed:
            problems.append(f"{display(path)} is not listed in {shown}")
    return problems
