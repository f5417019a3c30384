"""Gap profiles: which choice the sandbox makes where the vendor pages are silent.

``faithful`` is the default: each gap point answers with the choice its module documents (and the
spec's ``x-doc-gap`` entry quotes as ``sandbox-choice``). ``alternate`` makes, at every gap point it
lists, another choice that is still compatible with the pages, so a run against it proves the suite
does not enforce the sandbox's own choices. Filled in by :mod:`conformance.sandbox.alternate`.
"""

from __future__ import annotations

from conformance.sandbox.alternate import ALTERNATE
from conformance.sandbox.decide import Choice

PROFILES: dict[str, dict[str, Choice]] = {"faithful": {}, "alternate": ALTERNATE}


class UnknownProfile(ValueError):
    """A gap profile name the sandbox does not know."""


def check_profile(name: str) -> None:
    if name not in PROFILES:
        raise UnknownProfile(f"unknown gap profile {name!r}; choose from {', '.join(PROFILES)}")
