"""Vendor-convention checks: one signature, one registry. Checks never know about reports."""

from __future__ import annotations

from conformance.checks.registry import REGISTRY, Check, check, checks_for, run_checks

__all__ = ["REGISTRY", "Check", "check", "checks_for", "run_checks"]
