"""YAML documents parsed once per process, and once per content across processes (xdist workers, later runs).

A spec is read by the input checks, the rule catalogue, the outcome predicates and the host checks; with
the pure-Python loader each read of the five specs costs over a second on a loaded machine. Here a file
is parsed with libyaml when it is available, its result kept in memory as ``marshal`` bytes keyed by the
SHA-256 of the loader's name and the text, and also written to a private per-user directory under the
temp dir, so a worker or the next run loads it in milliseconds. Every call returns a fresh object, as
``yaml.safe_load`` does, so no caller sees another's changes. A document marshal cannot hold (dates)
is simply not cached on disk. Nothing here imports the rest of the project.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

SAFE_LOADER: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MEMORY: dict[str, bytes] = {}
# Cassettes are cached too, and every recording is new content: past this many files the oldest half goes.
MAX_DISK_ENTRIES = 4000
_pruned: set[Path] = set()


def _cache_dir() -> Path | None:
    """A directory only this user can write to, or None (then only the in-memory cache is used)."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    path = Path(tempfile.gettempdir()) / f"conformance-yaml-{uid}"
    try:
        path.mkdir(mode=0o700, exist_ok=True)
        info = path.stat()
    except OSError:
        return None
    if hasattr(os, "getuid") and (info.st_uid != uid or info.st_mode & 0o022):
        return None  # someone else's directory: never read what they could have written
    return path


def _read_disk(key: str) -> bytes | None:
    directory = _cache_dir()
    if directory is None:
        return None
    try:
        return (directory / f"{key}.marshal").read_bytes()
    except OSError:
        return None


def _write_disk(key: str, data: bytes) -> None:
    _write_disk_as(key, data, ".marshal")


def _prune(directory: Path) -> None:
    """Once per process and directory: keep the cache bounded, dropping the least recently written files."""
    if directory in _pruned:
        return
    _pruned.add(directory)
    with contextlib.suppress(OSError):
        entries = list(os.scandir(directory))
        if len(entries) <= MAX_DISK_ENTRIES:
            return
        entries.sort(key=lambda entry: entry.stat().st_mtime_ns)
        for entry in entries[: len(entries) - MAX_DISK_ENTRIES // 2]:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)  # a reader that loses the race parses the text again


def _write_disk_as(key: str, data: bytes, suffix: str) -> None:
    directory = _cache_dir()
    if directory is None:
        return
    _prune(directory)
    with contextlib.suppress(OSError):
        handle, temp = tempfile.mkstemp(prefix=f".{key}.", dir=directory)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temp, directory / f"{key}{suffix}")


def load_text(text: str, loader: type[Any] = SAFE_LOADER) -> Any:
    """``yaml.load(text, Loader=loader)``, cached by content; YAML errors propagate unchanged."""
    key = hashlib.sha256(f"{loader.__module__}.{loader.__qualname__}\0{text}".encode()).hexdigest()
    data = _MEMORY.get(key) or _read_disk(key)  # never b"": that marks a remembered check, under another key
    if data is not None:
        with contextlib.suppress(ValueError, EOFError, TypeError):
            value = marshal.loads(data)
            _MEMORY[key] = data
            return value
    try:
        value = yaml.load(text, Loader=loader)  # callers pass safe loaders only
    except yaml.YAMLError:
        if loader is not SAFE_LOADER or SAFE_LOADER is yaml.SafeLoader:
            raise
        # Error messages (line, column, problem) as the pure-Python parser words them, with or without libyaml.
        return yaml.safe_load(text)
    try:
        data = marshal.dumps(value)
    except ValueError:  # a type marshal cannot hold: parsed every time, still correct
        return value
    _MEMORY[key] = data
    _write_disk(key, data)
    return marshal.loads(data)


def load_path(path: Path, loader: type[Any] = SAFE_LOADER) -> Any:
    """The YAML document in ``path`` (OSError and YAML errors propagate as from ``yaml.load``)."""
    return load_text(path.read_text(encoding="utf-8"), loader)


def _marker(tag: str, content: bytes) -> str:
    return hashlib.sha256(tag.encode() + b"\0" + content).hexdigest()


def seen(tag: str, content: bytes) -> bool:
    """Whether ``remember(tag, content)`` was called for the same bytes, in this process or an earlier one."""
    key = _marker(tag, content)
    if key in _MEMORY:
        return True
    directory = _cache_dir()
    return directory is not None and (directory / f"{key}.seen").is_file()


def remember(tag: str, content: bytes) -> None:
    """Note that ``content`` passed the check named by ``tag`` (for instance a spec file that validated)."""
    key = _marker(tag, content)
    _MEMORY[key] = b""
    _write_disk_as(key, b"", ".seen")
