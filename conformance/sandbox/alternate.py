"""The alternate gap profile: another documented-compatible choice at every gap point."""

from __future__ import annotations

from conformance.sandbox.decide import Choice

ALTERNATE: dict[str, Choice] = {}
