"""Read-backs whose shape no page documents, searched tolerantly: a value not found is "can't tell", never "none".

Each helper raises :class:`conformance.context.UnreadableShape` when the value is not where any
documented-compatible reading would put it; the caller records a question and skips the rule.
"""

from __future__ import annotations

from typing import Any

from conformance.context import UnreadableShape
from conformance.http.exchange import Exchange


def find_list(value: Any, key: str) -> list[Any] | None:
    """The first list under ``key`` anywhere in ``value`` (where the issual carries its user rewards is undocumented)."""
    if isinstance(value, dict):
        if isinstance(value.get(key), list):
            return list(value[key])
        children: list[Any] = list(value.values())
    elif isinstance(value, list):
        children = value
    else:
        return None
    for child in children:
        found = find_list(child, key)
        if found is not None:
            return found
    return None


def issual_states(readback: Exchange) -> list[Any]:
    """The states of the transaction's user rewards in a getIssual answer.

    Where the answer carries them is undocumented (REWARDS-GAP-ISSUAL-SHAPE): the userRewards list is
    searched anywhere in the body; without it, or with a reward that has no state, the answer cannot tell.
    """
    rewards = find_list(readback.json(), "userRewards")
    if rewards is None:
        raise UnreadableShape("the getIssual answer has no userRewards list anywhere")
    states = [r.get("state") if isinstance(r, dict) else None for r in rewards]
    if not all(isinstance(state, str) for state in states):
        raise UnreadableShape(f"a user reward in the getIssual answer has no state: {rewards}")
    return states
