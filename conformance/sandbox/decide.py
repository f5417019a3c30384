"""Named decision points: the places where a faithful handler asks "what does the page say to do here?".

A handler never branches on a deviation or a profile. It calls a :class:`Point` with the facts at
hand, and the point answers with its *faithful* choice: what the vendor page says, or, where the page
is silent (an ``x-doc-gap``), the sandbox's default choice. A sandbox can be built with other answers:

* a **deviation** (:mod:`conformance.sandbox.deviations`) overrides exactly one point, to break one
  documented rule;
* a **gap profile** (:mod:`conformance.sandbox.gaps`) answers every gap point with another choice
  that is still compatible with the pages, to prove the suite never enforces the sandbox's defaults.

An override either replaces the faithful choice (:func:`instead`) or wraps whatever the profile
chose (:func:`around`), so a deviation breaks the same claim under every profile.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Generic, ParamSpec, TypeVar, cast

from conformance.sandbox.core import SandboxState, TenantState

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Point(Generic[P, R]):
    """A decision point; ``gap`` names the undocumented behaviour it decides, if it decides one."""

    name: str
    faithful: Callable[P, R]
    gap: str | None = None

    def __call__(self, state: SandboxState, /, *args: P.args, **kwargs: P.kwargs) -> R:
        chosen = state.choices.get(self.name)
        if chosen is None:
            return self.faithful(*args, **kwargs)
        return cast(R, chosen(*args, **kwargs))


POINTS: dict[str, Point[Any, Any]] = {}


def point(name: str, *, gap: str | None = None) -> Callable[[Callable[P, R]], Point[P, R]]:
    """Register the decorated function as the faithful choice of the point ``name``."""

    def register(faithful: Callable[P, R]) -> Point[P, R]:
        if name in POINTS:
            raise ValueError(f"decision point {name!r} is defined twice")
        registered = Point(name, faithful, gap)
        POINTS[name] = registered
        return registered

    return register


@dataclass(frozen=True)
class Choice:
    """Another answer for one point; ``wraps`` choices get the profile's answer as their first argument."""

    point: str
    fn: Callable[..., Any]
    wraps: bool = False

    def bind(self, base: Callable[..., Any]) -> Callable[..., Any]:
        if not self.wraps:
            return self.fn
        return lambda *args, **kwargs: self.fn(base, *args, **kwargs)


# Overrides are checked by return type only: their parameters may be named as the override reads best.
def instead(target: Point[P, R], fn: Callable[..., R]) -> Choice:
    """Answer ``target`` with ``fn`` (same arguments) instead of the profile's choice."""
    return Choice(target.name, fn)


def around(target: Point[P, R], fn: Callable[..., R]) -> Choice:
    """Answer ``target`` with ``fn(base, *arguments)``, ``base`` being the profile's choice."""
    return Choice(target.name, fn, wraps=True)


def resolve(profile: dict[str, Choice], deviation: Choice | None) -> dict[str, Callable[..., Any]]:
    """The answers of a sandbox: the profile's choices, then the deviation's override on top."""
    answers = {name: choice.bind(POINTS[name].faithful) for name, choice in profile.items()}
    if deviation is not None:
        base = answers.get(deviation.point, POINTS[deviation.point].faithful)
        answers[deviation.point] = deviation.bind(base)
    return answers


def lock_point(name: str) -> Point[[TenantState], AbstractContextManager[object]]:
    """A point for "runs under the tenant lock": check and write are atomic (race deviations drop it)."""

    def locked(tenant: TenantState) -> AbstractContextManager[object]:
        return tenant.lock

    return point(name)(locked)


def unlocked(tenant: TenantState) -> AbstractContextManager[object]:
    return contextlib.nullcontext()
