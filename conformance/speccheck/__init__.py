"""Spec checking: proves the hand-written vendor specs in ``specs/`` hold against their sources.

``run_check`` runs every check and returns a :class:`CheckReport`; ``render`` prints it;
``conformance.speccheck.cli.main`` is the ``conformance specs check`` command.
"""

from __future__ import annotations

from conformance.speccheck.check import run_check
from conformance.speccheck.load import SpecError
from conformance.speccheck.report import ApiReport, CheckReport, render

__all__ = ["ApiReport", "CheckReport", "SpecError", "render", "run_check"]
