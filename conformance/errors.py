"""The project's error hierarchy: every error a user can cause maps to one documented exit code."""

from __future__ import annotations


class ConformanceError(Exception):
    """Base class; ``str(error)`` is one paragraph that says what was wrong, where, and what is allowed."""

    exit_code: int = 4


class UsageError(ConformanceError):
    """Bad input from the user: an option, a config file, a spec, a manifest, a cassette."""

    exit_code = 2


class TargetUnreachable(ConformanceError):
    """The target did not answer, or a pre-flight check failed."""

    exit_code = 3


class InternalError(ConformanceError):
    """A defect in the suite itself."""

    exit_code = 4


class PreconditionUnavailable(Exception):
    """The target cannot provide what a scenario needs; the scenario is skipped, never failed."""

    def __init__(self, capability: str, reason: str) -> None:
        super().__init__(f"{capability}: {reason}")
        self.capability = capability
        self.reason = reason


class ExitCode:
    """The documented exit codes of ``conformance run`` (README, 'Exit codes')."""

    OK = 0
    VIOLATIONS = 1
    USAGE = 2
    UNREACHABLE = 3
    INTERNAL = 4
    NOTHING_TESTED = 5
    SIGINT = 130
    SIGTERM = 143
