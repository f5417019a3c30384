"""Conformance suite for vendor APIs that revoke, reverse and cancel things."""

from __future__ import annotations

__version__ = "0.1.0"
