"""One descriptor per API under test: everything the layers need to know about a vendor API.

Layers look values up here (``get_api(key).rule_prefix``, ``.auth_scheme``, ``.rejection`` ...)
instead of branching on API names; ARCHITECTURE.md, "Adding an API", lists what a new API touches.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from conformance.errors import UsageError

REPO_ROOT = Path(__file__).resolve().parent.parent
# A checkout reads specs/ at its root; an installed wheel carries them as conformance/_specs.
SPECS_DIR = (
    REPO_ROOT / "specs" if (REPO_ROOT / "specs" / "rules").is_dir() else Path(__file__).resolve().parent / "_specs"
)

# Capillary accepts a static OAuth token, a client key and secret (exchanged for a token), or a till user.
CAPILLARY_CREDENTIALS = (("oauth_token",), ("client_key", "client_secret"), ("username", "password"))
CAPILLARY_CHECKS = "conformance.checks.capillary"


@dataclass(frozen=True)
class Api:
    """What is specific to one vendor API; the layers read these fields, never the API's name."""

    key: str
    title: str
    vendor: str
    revoke_operation: str
    # First segment of every rule ID of the API (THANX-...); also how a rule ID names its API.
    rule_prefix: str
    # Key of conformance.http.auth.SCHEMES: how a request is authenticated.
    auth_scheme: str
    # Alternative credential sets, most specific first; the last is the one asked for when none is given.
    credentials: tuple[tuple[str, ...], ...]
    # Default requests per second against the vendor's host (vendor-wide; the documented limit, with margin).
    rate_limit: float
    # Key of conformance.suite.properties.outcomes.REJECTIONS: what a documented rejection looks like.
    rejection: str
    # The module whose @check functions judge the API's rules (the registry imports it).
    checks: str
    # The module of its provisioner protocol and kinds, registered there as PROVISIONING.
    provisioning: str
    # A read-only request any valid credentials answer: the doctor's probe of host and credentials.
    probe: tuple[str, str] = ("GET", "/")
    probe_form: tuple[tuple[str, str], ...] = ()
    # Where an answer carries the vendor's error codes: a JSON pointer, ``*`` for every item of a list.
    error_codes: str = "/error/code"
    # A code in that field meaning success (an API reporting its outcome in a 200's body), if any.
    success_code: int | None = None
    # The form field choosing which command the revoke operation runs, and the command that revokes, if the
    # API's one operation runs several (Juspay: command=revoke, command=check_status).
    command_field: str | None = None
    revoke_command: str | None = None
    # The revoke's path template when it names the revoked resource (its one {placeholder}); else the body does.
    resource_path: str | None = None
    # Whether a revoke finishes in the background, so its scenarios poll for the end state (they run longest).
    asynchronous: bool = False
    # Operations besides the revoke whose answers the suite judges against their schema (read-backs).
    judged_operations: frozenset[str] = field(default_factory=frozenset)

    @property
    def spec_path(self) -> Path:
        return SPECS_DIR / f"{self.key}.yaml"

    @property
    def rules_path(self) -> Path:
        return SPECS_DIR / "rules" / f"{self.key}.yaml"

    @property
    def schema_operations(self) -> frozenset[str]:
        return frozenset({self.revoke_operation}) | self.judged_operations

    def missing_credentials(self, creds: Mapping[str, str]) -> list[str]:
        """The credentials still needed: of the first set any of whose names is given, else of the last set."""
        chosen = next((names for names in self.credentials if any(creds.get(n) for n in names)), self.credentials[-1])
        return [name for name in chosen if not creds.get(name)]


def _capillary(key: str, title: str, operation: str, prefix: str, probe: str, *, rewards: bool = False) -> Api:
    # Capillary demo clusters allow 100 requests a minute per key. Rewards always answers HTTP 200, with the
    # outcome (200 for success, else its error code) in status.code; the others list errors with their codes.
    return Api(
        key,
        title,
        "capillary",
        operation,
        prefix,
        "capillary",
        CAPILLARY_CREDENTIALS,
        1.5,
        "status-code" if rewards else "capillary-errors",
        CAPILLARY_CHECKS,
        "conformance.provisioners." + key.replace("-", "_"),
        probe=("GET", probe),
        error_codes="/status/code" if rewards else "/errors/*/code",
        success_code=200 if rewards else None,
    )


APIS: dict[str, Api] = {
    api.key: api
    for api in (
        _capillary(
            "capillary-badges",
            "Capillary badges: revoke earn",
            "revokeEarn",
            "BADGE",
            "/api_gateway/v1/badges/customer/0",
        ),
        _capillary(
            "capillary-points", "Capillary points v2: reverse", "reversePoints", "POINTS", "/v1.1/customer/redemptions"
        ),
        _capillary(
            "capillary-rewards",
            "Capillary rewards: revoke user reward",
            "revokeUserReward",
            "REWARDS",
            "/api_gateway/rewards/core/v1/management/customer/0/issuals/0",
            rewards=True,
        ),
        # Thanx documents 5 requests a second per credential.
        Api(
            "thanx",
            "Thanx: revoke issuance job",
            "thanx",
            "revokeIssuanceJob",
            "THANX",
            "bearer-client-id",
            (("access_token", "client_id"),),
            4.0,
            "http-4xx",
            "conformance.checks.thanx",
            "conformance.provisioners.thanx",
            probe=("GET", "/partner/merchants"),
            resource_path="/partner/issuance_jobs/{id}/revoke",
            asynchronous=True,
            judged_operations=frozenset({"getIssuanceJob"}),
        ),
        # Juspay publishes no limit.
        Api(
            "juspay",
            "Juspay: revoke mandate",
            "juspay",
            "mandateCommand",
            "JUSPAY",
            "basic-api-key",
            (("api_key", "merchant_id"),),
            4.0,
            "http-400",
            "conformance.checks.juspay",
            "conformance.provisioners.juspay",
            probe=("POST", "/mandates/conformance-doctor-probe"),
            probe_form=(("command", "check_status"),),
            error_codes="/error_code",
            command_field="command",
            revoke_command="revoke",
            resource_path="/mandates/{mandate_id}",
        ),
    )
}


def register_api(api: Api) -> Api:
    """Add an API to the catalogue; a key or rule prefix already taken is a defect of the descriptor."""
    if api.key in APIS or any(other.rule_prefix == api.rule_prefix for other in APIS.values()):
        raise ValueError(f"API {api.key!r} or its rule prefix {api.rule_prefix!r} is already registered.")
    APIS[api.key] = api
    return api


def get_api(key: str) -> Api:
    """Return the API called ``key``, or fail with the list of known keys."""
    try:
        return APIS[key]
    except KeyError:
        known = ", ".join(sorted(APIS))
        raise UsageError(f"Unknown API {key!r}: the suite knows {known}.") from None


def api_of_rule(rule_id: str) -> str | None:
    """The API a rule ID belongs to, by its prefix (THANX-... -> thanx)."""
    prefix = rule_id.split("-", 1)[0]
    return next((api.key for api in APIS.values() if api.rule_prefix == prefix), None)


def api_named_in(text: str) -> str | None:
    """The API whose key a test id spells (underscores as dashes), the longest key first."""
    name = text.replace("_", "-")
    return next((key for key in sorted(APIS, key=len, reverse=True) if key in name), None)


def revoking(operation: str | None, form: Mapping[str, str]) -> bool:
    """Whether a call of ``operation`` (with the form fields it sent) is some API's revoke."""
    api = next((a for a in APIS.values() if a.revoke_operation == operation), None)
    if api is None:
        return False
    return api.command_field is None or form.get(api.command_field) == api.revoke_command


def resource_in_path(key: str, path: str) -> str | None:
    """The id of the resource a revoke's ``path`` names, where the API's template puts one."""
    api = APIS.get(key)
    template = api.resource_path.strip("/").split("/") if api is not None and api.resource_path else None
    parts = path.rstrip("/").split("/")
    if template is None or len(parts) < len(template):
        return None
    slot = next(i for i, part in enumerate(template) if part.startswith("{"))
    return parts[len(parts) - len(template) + slot]


def vendor_of(key: str) -> str:
    return get_api(key).vendor


def default_rate_limits() -> dict[str, float]:
    """Vendor -> default requests per second."""
    return {api.vendor: api.rate_limit for api in APIS.values()}


def parse_api_list(value: str | None) -> list[str]:
    """Parse a comma-separated API selection; empty means all."""
    if not value:
        return list(APIS)
    keys = [part.strip() for part in value.split(",") if part.strip()]
    for key in keys:
        get_api(key)
    return keys
