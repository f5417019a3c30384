"""Which vendor operation a request addresses, and on which resource: read from the path, as a vendor would."""

from __future__ import annotations

import re
from dataclasses import dataclass

from conformance.clientgate.traffic import Seen

CONTROL_PREFIX = "/_sandbox"
GATE_PREFIX = "/_clientgate"

_THANX_JOB = re.compile(r"^/partner/issuance_jobs/([^/]+)$")
_THANX_REVOKE = re.compile(r"^/partner/issuance_jobs/([^/]+)/revoke$")
_MANDATE = re.compile(r"^/mandates/([^/]+)$")


@dataclass(frozen=True)
class Operation:
    api: str
    name: str
    resource: str | None = None


def _resource(seen: Seen, field: str) -> str | None:
    body = seen.json()
    value = body.get(field) if isinstance(body, dict) else None
    return None if value is None else str(value)


def identify(seen: Seen) -> Operation | None:
    """The operation of ``seen``, or None for the control API and paths no vendor serves."""
    path, method = seen.path, seen.method.upper()
    if path.startswith((CONTROL_PREFIX, GATE_PREFIX)):
        return None
    if path.startswith("/api_gateway/v1/badges/"):
        if path.endswith("/revokeEarn") and method == "POST":
            return Operation("capillary-badges", "revokeEarn", _resource(seen, "earnedBadgeId"))
        return Operation("capillary-badges", "setup")
    if path == "/v2/points/reverse" and method == "POST":
        return Operation("capillary-points", "reversePoints", _resource(seen, "redemptionId"))
    if path.startswith(("/v1.1/", "/v2/")):
        return Operation("capillary-points", "setup")
    if path.startswith("/api_gateway/rewards/"):
        if path.endswith("/user/reward/revoke") and method == "POST":
            return Operation("capillary-rewards", "revokeUserReward", _resource(seen, "txnId"))
        return Operation("capillary-rewards", "setup")
    if path.startswith("/partner/"):
        if (match := _THANX_REVOKE.match(path)) and method == "POST":
            return Operation("thanx", "revokeIssuanceJob", match.group(1))
        if (match := _THANX_JOB.match(path)) and method == "GET":
            return Operation("thanx", "getIssuanceJob", match.group(1))
        if path == "/partner/campaigns/issue" and method == "POST":
            return Operation("thanx", "issueCampaignRewards")
        return Operation("thanx", "setup")
    if (match := _MANDATE.match(path)) and method == "POST":
        return Operation("juspay", "mandateCommand", match.group(1))
    return None


def juspay_command(seen: Seen) -> str | None:
    """The form ``command`` of a Juspay mandate call (also read from a JSON body, to judge what was meant)."""
    fields = seen.form()
    if fields is None:
        body = seen.json()
        fields = {k: str(v) for k, v in body.items()} if isinstance(body, dict) else {}
    return fields.get("command")
