"""The one table of Schemathesis built-in checks whose failures are HYGIENE, not conformance findings.

A built-in check judges generic HTTP behaviour. Where no vendor page promises that behaviour, a
failure of the check is recorded with ``hygiene()`` under ``HYGIENE-<CHECK-NAME>`` and never
fails a test: what a page does promise is a rule, judged by its own check or scenario, so a target
that breaks it is a violation (exit 1), never a defect of the suite. A failure of a check (or of a
check on an API) not listed here fails the test as a defect of the suite: the table must say what it means.
``NOT_RUN`` lists the built-ins the property layer does not run at all, and why.
"""

from __future__ import annotations

from dataclasses import dataclass

ALL_APIS = ("capillary-badges", "capillary-points", "capillary-rewards", "thanx", "juspay")
CAPILLARY = ("capillary-badges", "capillary-points", "capillary-rewards")


@dataclass(frozen=True)
class HygieneEntry:
    check: str
    apis: tuple[str, ...]
    reason: str
    # Only for a generated request that breaks the documented request schema (Schemathesis' negative mode).
    negative_only: bool = False


# Every built-in that can fail outside Schemathesis' stateful phase (which the layer does not run) has an
# entry for the APIs where no page promises what it checks. Juspay's status_code_conformance has one for
# invalid requests only: the page documents the statuses of the requests it describes, and drift judges
# an answer outside them to a valid one.
HYGIENE: tuple[HygieneEntry, ...] = (
    HygieneEntry(
        "negative_data_rejection",
        ALL_APIS,
        "Schemathesis expects every schema-violating request to be refused with a 4xx. Rewards answers HTTP 200 "
        "in all cases, so its refusals are a documented status.code (400 'must not be null', 10007, ...): the "
        "property layer counts those as rejections and drops this failure. Beyond that, the pages promise "
        "refusals only for the cases they name (a missing txnId or command, an unknown id); a violation the "
        "target tolerates (an extra query parameter, a missing x-routing-id, which the prose only recommends) "
        "breaks no documented behaviour. Rejection shares are reported per operation in success-reach.json.",
    ),
    HygieneEntry(
        "positive_data_acceptance",
        ALL_APIS,
        "Schemathesis expects schema-valid data to be accepted (2xx/401/403/404/409). Schema-valid is not "
        "promised-to-succeed: an id that names nothing, a badge of another customer, more points than were "
        "redeemed are refused with documented error codes (badges 814, points 804/817/887, rewards in a 200 "
        "envelope, Thanx 422, Juspay 400). Whether valid requests reach the vendor's success is measured by the "
        "success-reach figures and judged by the scenarios.",
    ),
    HygieneEntry(
        "unsupported_method",
        ALL_APIS,
        "No vendor page documents the answer to an undeclared HTTP method (405 and an Allow header are HTTP "
        "hygiene, not a documented behaviour of any of the five APIs).",
    ),
    HygieneEntry(
        "allow_header_conformance",
        ALL_APIS,
        "No vendor page documents OPTIONS or the Allow header.",
    ),
    HygieneEntry(
        "status_code_conformance",
        CAPILLARY,
        "The Capillary pages document an envelope and error codes, not HTTP statuses (rewards: '200 in all "
        "cases'; badges and points list codes without statuses: BADGE-GAP-814-HTTP-STATUS, "
        "POINTS-GAP-ERROR-HTTP-STATUS). A status the spec does not list is judged by the envelope checks "
        "(REWARDS-HTTP-200, BADGE-ENVELOPE, POINTS-ENVELOPE), not by the status table.",
    ),
    HygieneEntry(
        "status_code_conformance",
        ("thanx",),
        "The Thanx page documents 202 and 422 (and the errors page 401, 404); the answer to a malformed or "
        "incomplete request is undocumented (THANX-GAP-MISSING-MERCHANT-ID, THANX-GAP-ACCEPT-VERSION). A 4xx there "
        "is a refusal, judged by THANX-MERCHANT-REQUIRED; 5xx are failures of not_a_server_error.",
    ),
    HygieneEntry(
        "content_type_conformance",
        ("juspay",),
        "The Juspay page fences its response samples as plain text and never states the answers' media type "
        "(JUSPAY-GAP-RESPONSE-CONTENT-TYPE): the body is judged by the rules and the schema rules whatever its "
        "Content-Type says.",
    ),
    HygieneEntry(
        "missing_required_header",
        ("juspay",),
        "x-routing-id is tagged Required but the prose only recommends it (JUSPAY-CONFLICT-ROUTING-ID-REQUIRED, "
        "JUSPAY-GAP-MISSING-ROUTING-ID): a target that accepts a request without it breaks no documented rule.",
    ),
    HygieneEntry(
        "not_a_server_error",
        ALL_APIS,
        "No page says how a request it does not describe (a generated id, a mutated body or header) is answered, "
        "and none promises that nothing answers 5xx: a server error is generic HTTP behaviour, recorded and shown "
        "with its reproduction. The documented requests (provisioned resources, the documented refusals) are "
        "sent by the scenarios, where a 5xx instead of the documented answer violates that answer's rule.",
    ),
    HygieneEntry(
        "status_code_conformance",
        ("juspay",),
        "The Juspay page documents 200, 400 and 401 for the requests it describes (JUSPAY-UNKNOWN-400: 'Mandate "
        "not found', JUSPAY-REVOKE-REVOKED-400, JUSPAY-BAD-KEY-401), which the scenarios judge. How it answers a "
        "request that breaks the documented request schema (a mutated path, body or header) it does not say.",
        negative_only=True,
    ),
    HygieneEntry(
        "content_type_conformance",
        (*CAPILLARY, "thanx"),
        "No Capillary or Thanx page states the media type of its answers; their samples are JSON bodies. The "
        "body is judged by the schema rules and the envelope rules (BADGE-ENVELOPE, POINTS-ENVELOPE, "
        "REWARDS-HTTP-200, THANX-ENVELOPE), which parse it whatever its Content-Type says.",
    ),
    HygieneEntry(
        "missing_required_header",
        ("thanx",),
        "Accept-Version is the one required header besides the credentials (judged by the auth scenarios). The "
        "page asks the client to send v4.0 (THANX-ACCEPT-VERSION, a rule on the client's requests) and says only "
        "'Any other value … undefined behavior' (THANX-GAP-ACCEPT-VERSION) of the server's side, so a target that "
        "answers a request without it breaks no documented rule.",
    ),
    HygieneEntry(
        "response_schema_conformance",
        ALL_APIS,
        "An answer of an operation under test at a status with a schema rule is judged by that rule "
        "(<API>-SCHEMA-<OPERATION>-<STATUS>), which then owns this check. What is left are the setup "
        "operations (preconditions from vendor-setup.md, not revokes) and statuses no page gives a body for: "
        "a mismatch there is shown, and a setup answer the suite cannot use makes its scenario skip.",
    ),
)

NOT_RUN: dict[str, str] = {
    "ignored_auth": "It re-sends the request itself, outside conformance.http (no tenant, no redaction, no "
    "recording); authentication is judged by the auth scenarios of every API.",
}


def hygiene_reason(check: str, api: str, *, negative: bool = False) -> str | None:
    """The documented reason a failure of ``check`` on ``api`` is hygiene, or None when it is a finding.

    ``negative``: the request broke the documented request schema on purpose (a generated negative case).
    """
    for entry in HYGIENE:
        if entry.check == check and api in entry.apis and (negative or not entry.negative_only):
            return entry.reason
    return None


def hygiene_id(check: str) -> str:
    """``negative_data_rejection`` → ``HYGIENE-NEGATIVE-DATA-REJECTION``."""
    return "HYGIENE-" + check.upper().replace("_", "-")
