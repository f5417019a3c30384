"""Deviations on demand: named, deliberate breaches of exactly one documented rule each.

``create_app(deviation=NAME)`` (``conformance run|serve --deviation NAME``) starts a sandbox that
misbehaves in one realistic way, so a mutation run can prove the suite notices. The faithful
handlers never test for a deviation: they call named decision points
(:mod:`conformance.sandbox.decide`), and each deviation overrides exactly one of them. The table
below names, per deviation, the rule it breaks and the point it overrides; the override itself is in
:data:`conformance.sandbox.deviant.OVERRIDES` (a deviation that changes only the answer on the wire,
a status code, an envelope, a field type, overrides ``web.answer`` with a rewrite of
:data:`conformance.sandbox.rewrites.REWRITES`). Overrides wrap the gap profile's choice where they can,
so a deviation breaks its rule under every gap profile.

Rules a server cannot break (they constrain what the *client* sends) are listed with the reason in
:data:`UNBREAKABLE`. This module knows rule IDs as plain strings only; it never reads the catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass

API_BY_PREFIX = {
    "BADGE": "capillary-badges",
    "POINTS": "capillary-points",
    "REWARDS": "capillary-rewards",
    "THANX": "thanx",
    "JUSPAY": "juspay",
}


@dataclass(frozen=True)
class Deviation:
    name: str
    rule_id: str
    description: str
    kind: str = "behaviour"
    point: str = ""  # the one decision point (conformance.sandbox.decide) it overrides

    @property
    def api(self) -> str:
        return API_BY_PREFIX[self.rule_id.split("-", 1)[0]]


class UnknownDeviation(ValueError):
    """A deviation name the sandbox does not know; the message lists the known ones."""


# One deviation a line: name | the rule it breaks | kind | the decision point it overrides | what the sandbox
# does instead. The override itself is in conformance.sandbox.deviant.OVERRIDES.
_TABLE = """
# Capillary badges
badges-missing-badgemetaid-accepted      | BADGE-BODY-BADGEMETAID-REQUIRED       | validation      | badges.request-body          | revokeEarn without badgeMetaId revokes the earn named by earnedBadgeId instead of refusing
badges-missing-customerid-accepted       | BADGE-BODY-CUSTOMERID-REQUIRED        | validation      | badges.request-body          | revokeEarn without customerId takes the earn's own customer instead of refusing
badges-missing-earnedbadgeid-accepted    | BADGE-BODY-EARNEDBADGEID-REQUIRED     | validation      | badges.request-body          | revokeEarn without earnedBadgeId revokes the customer's active earn of that badgeMetaId
badges-identifier-email-unresolved       | BADGE-IDENTIFIER-EMAIL                | identifier      | badges.resolve-customer      | X-CAP-CUSTOMER-IDENTIFIER: email does not resolve the customer (814)
badges-identifier-mobile-unresolved      | BADGE-IDENTIFIER-MOBILE               | identifier      | badges.resolve-customer      | X-CAP-CUSTOMER-IDENTIFIER: mobile does not resolve the customer (814)
badges-identifier-externalid-unresolved  | BADGE-IDENTIFIER-EXTERNALID           | identifier      | badges.resolve-customer      | X-CAP-CUSTOMER-IDENTIFIER: externalId does not resolve the customer (814)
badges-identifier-cardnumber-unresolved  | BADGE-IDENTIFIER-CARDNUMBER           | identifier      | badges.resolve-customer      | X-CAP-CUSTOMER-IDENTIFIER: cardNumber does not resolve the customer (814)
badges-default-identifier-mobile         | BADGE-IDENTIFIER-DEFAULT-ID           | identifier      | badges.default-identifier    | without the identifier header customerId is read as a mobile number, not the Capillary ID
badges-customerid-echoed-as-sent         | BADGE-RESPONSE-CUSTOMERID-NUMERIC     | field-type      | badges.echoed-customer       | data.customerId echoes a numeric identifier as sent (a mobile, a card number) instead of the Capillary ID
badges-revoke-answers-active             | BADGE-REVOKE-INACTIVE                 | status-envelope | web.answer                   | a successful revokeEarn answers data.isActive true (rendered before the write)
badges-echo-ids-swapped                  | BADGE-REVOKE-ECHO                     | status-envelope | web.answer                   | the success answer swaps data.badgeMetaId and data.earnedBadgeId
badges-error-object-not-list             | BADGE-ENVELOPE                        | envelope        | web.answer                   | refusals carry a single `error` object instead of the `errors` list
badges-second-revoke-other-code          | BADGE-REVOKE-TWICE-814                | error-code      | badges.not-present           | revoking an already revoked earn is refused with 815 'already revoked' instead of 814
badges-unknown-earn-404                  | BADGE-UNKNOWN-EARN-814                | error-code      | badges.not-present           | an unknown or mismatched earn is refused HTTP 404 code 404 instead of 814
badges-stale-listing                     | BADGE-STATE-INACTIVE-AFTER            | readback        | badges.listing-served        | getCustomerBadges serves the listing cached at its first read, so a revoke is not reflected
badges-auth-presence-only                | BADGE-AUTH-REQUIRED                   | auth            | capillary-badges.credentials-valid | any Authorization or OAuth header is accepted; only their absence is refused
badges-race-unlocked                     | BADGE-RACE-ONE-SUCCESS                | race            | badges.lock                  | revokeEarn runs without the tenant lock: two concurrent revokes both succeed
badges-isactive-as-string                | BADGE-SCHEMA-REVOKE-200               | field-type      | web.answer                   | data.isActive of a successful revokeEarn is the string "false", not a boolean
# Capillary points
points-missing-redemptionid-latest       | POINTS-BODY-REDEMPTIONID-REQUIRED     | validation      | points.request-body          | a reversal without redemptionId reverses the customer's latest redemption
points-missing-identifier-inferred       | POINTS-BODY-IDENTIFIER-REQUIRED       | validation      | points.request-body          | a reversal without identifier takes the redemption's own customer
points-missing-identifier-type-id        | POINTS-BODY-IDENTIFIER-TYPE-REQUIRED  | validation      | points.request-body          | an identifier without type defaults to ID instead of being refused
points-missing-identifier-value-inferred | POINTS-BODY-IDENTIFIER-VALUE-REQUIRED | validation      | points.request-body          | an identifier without value takes the redemption's own customer
points-phone-type-unknown                | POINTS-IDENTIFIER-TYPES               | identifier      | points.resolve-customer      | identifier.type PHONE is not recognised (only MOBILE): the customer does not resolve
points-default-reverses-available-only   | POINTS-FULL-REVERSAL-DEFAULT          | money           | points.requested             | without pointsToBeReversed only the unexpired part of the redemption is reversed
points-partial-reverses-everything       | POINTS-PARTIAL-REVERSAL               | money           | points.requested             | a partial reversal reverses (and reports) everything still reversible
points-two-decimals-only                 | POINTS-DECIMAL-3-ACCEPTED             | decimal         | points.too-precise           | the decimal limit is two places: 12.125 is refused with 878
points-four-decimals-truncated           | POINTS-DECIMAL-4-878                  | decimal         | points.too-precise           | more than three decimals are truncated and reversed instead of refused with 878
points-reversed-cumulative               | POINTS-REVERSED-LE-REQUESTED          | money           | points.reported              | pointsReversed reports the redemption's cumulative reversed points, not this reversal's
points-details-drop-expired              | POINTS-DETAILS-SUM                    | money           | points.details               | pointsReversedDetails.expired is always 0, so the details no longer add up
points-over-reversal-capped              | POINTS-OVER-REVERSAL-REFUSED          | money           | points.requested             | more points than remain are capped to the remainder and reversed instead of refused
points-no-duplicate-window               | POINTS-DUPLICATE-902                  | precondition    | points.duplicate             | no duplicate detection at all: a repeated reversal, even of a fully reversed redemption, is never refused with 902
points-balance-credited-twice            | POINTS-BALANCE-CREDITED               | money           | points.credit                | a reversal credits the customer's balance twice
points-second-reversal-credited          | POINTS-SECOND-REVERSAL-REFUSED        | money           | points.checks-apply          | a fully reversed redemption still credits an explicit pointsToBeReversed (double refund)
points-program-flag-ignored              | POINTS-PROGRAM-DISABLED-818           | precondition    | points.program-allows        | the program's reversal switch is ignored: the reversal goes through
points-ineligible-804                    | POINTS-CUSTOMER-INELIGIBLE-901        | error-code      | points.ineligible-code       | an ineligible customer is refused with 804 instead of 901
points-limit-off-by-one                  | POINTS-LIMIT-903                      | precondition    | points.limit-reached         | the reversal limit is checked with > instead of >=: one reversal too many is accepted
points-lock-ignored                      | POINTS-LOCKED-904                     | precondition    | points.customer-locked       | a customer's reversal lock is ignored: the reversal goes through
points-886-applied                       | POINTS-RETRYABLE-886                  | money           | points.failed-reversal       | a reversal answered 886 was applied anyway (the error comes after the write)
points-896-remembered                    | POINTS-RETRYABLE-896                  | precondition    | points.failed-reversal       | a reversal answered 896 locks the customer's reversals, so its retry is refused (904)
points-898-reported-886                  | POINTS-RETRYABLE-898                  | error-code      | points.failed-reversal       | a service-unavailable failure is reported as 886 instead of 898
points-success-without-warnings          | POINTS-ENVELOPE                       | envelope        | web.answer                   | successful reversals omit the warnings array
points-generic-validation-code           | POINTS-ERROR-CODES-DOCUMENTED         | error-code      | web.answer                   | validation errors use the gateway's generic code 400 instead of 887
points-echo-type-lowercased              | POINTS-RESPONSE-ECHO                  | status-envelope | web.answer                   | the echoed identifier.type is normalised to lower case
points-reversalid-per-redemption         | POINTS-REVERSALID-UNIQUE              | field-type      | points.reversal-id           | reversalId is the redemption's id, shared by every reversal of it
points-unknown-redemption-latest         | POINTS-UNKNOWN-REDEMPTION-REFUSED     | identifier      | points.find-redemption       | an unknown redemptionId falls back to the customer's latest redemption
points-identifier-not-matched            | POINTS-IDENTIFIER-MISMATCH-REFUSED    | money           | points.owner-matches         | the identifier is not matched against the redemption's customer
points-readback-available-only           | POINTS-STATE-READBACK                 | readback        | points.reversed-in-listing   | getCustomerRedemptions counts only points returned to the available balance
points-auth-presence-only                | POINTS-AUTH-REQUIRED                  | auth            | capillary-points.credentials-valid | any Authorization or OAuth header is accepted; only their absence is refused
points-race-unlocked                     | POINTS-RACE-ONE-SUCCESS               | race            | points.lock                  | reversePoints runs without the tenant lock: two concurrent full reversals both credit
points-reversalid-numeric                | POINTS-SCHEMA-REVOKE-200              | field-type      | web.answer                   | reversalId of a successful reversal is a JSON number, not the documented string
# Capillary rewards
rewards-refusal-http-400                 | REWARDS-HTTP-200                      | status-code     | web.answer                   | refused revokes come with HTTP 400 instead of 200
rewards-refusal-success-true             | REWARDS-SUCCESS-IFF-200               | status-envelope | web.answer                   | refusals say status.success true (the request was processed)
rewards-txnid-as-string                  | REWARDS-TXNID-ECHO                    | field-type      | web.answer                   | txnId is echoed as a string
rewards-refusal-with-state               | REWARDS-CANCELLED-ON-SUCCESS          | status-envelope | web.answer                   | refusals carry state null and userRewardCount 0
rewards-count-is-transactions            | REWARDS-USERREWARDCOUNT               | counter         | rewards.user-reward-count    | userRewardCount counts transactions (always 1), not user rewards
rewards-missing-txnid-10007              | REWARDS-TXNID-REQUIRED-400            | validation      | rewards.missing-txnid        | a revoke without txnId is looked up and answered 10007 instead of 400 'must not be null'
rewards-flag-default-on                  | REWARDS-FLAG-DEFAULT-OFF              | precondition    | rewards.revoke-enabled       | REVOKE_ENABLE defaults to true for an org that never set it
rewards-flag-off-refunds                 | REWARDS-FLAG-OFF-13005                | money           | rewards.flag-off             | with REVOKE_ENABLE false the points are reversed before the flag refuses with 13005
rewards-unknown-txn-10008                | REWARDS-NOT-FOUND-10007               | error-code      | web.answer                   | an unknown txnId is answered 10008 instead of 10007
rewards-empty-txn-revoked                | REWARDS-NO-USER-REWARDS-10008         | precondition    | rewards.refusal-code         | a transaction without user rewards is 'revoked' (200) instead of 10008
rewards-first-reward-checked-only        | REWARDS-NON-ISSUED-13003              | precondition    | rewards.checked-rewards      | only the first user reward's state is checked before revoking
rewards-cancelled-revoke-idempotent      | REWARDS-SECOND-REVOKE-13003           | precondition    | rewards.refusal-code         | revoking an already cancelled transaction answers 200 again
rewards-redeemed-revocable               | REWARDS-REDEEMED-13003                | precondition    | rewards.revocable-states     | REDEEMED user rewards are revoked like ISSUED ones
rewards-reverse-redeemed-blocked         | REWARDS-REDEEMED-AFTER-REVERSE        | precondition    | rewards.blocked              | a reward once REDEEMED stays non-revocable (13003) even after reverse-redeem
rewards-1018-cancels                     | REWARDS-1018-STATE-UNCHANGED          | transition      | rewards.after-1018           | a revoke answered 1018 has already cancelled the user rewards
rewards-1018-not-recorded                | REWARDS-1018-ATTEMPT-RECORDED         | transition      | rewards.record-attempt       | a revoke answered 1018 leaves no attempt record
rewards-1018-blocks-retry                | REWARDS-1018-RETRY-SUCCEEDS           | transition      | rewards.blocked              | after a 1018 the transaction stays locked: the retry is refused with 13003
rewards-first-reward-cancelled-only      | REWARDS-ALL-TOGETHER                  | transition      | rewards.cancelled            | a successful revoke cancels only the first user reward
rewards-refund-first-reward-only         | REWARDS-POINTS-REFUNDED               | money           | rewards.refunded             | the refund covers only the first user reward's points
rewards-refund-per-reward                | REWARDS-POINTS-REFUNDED-ONCE          | money           | rewards.reversals-counted    | one points reversal per user reward instead of one per transaction
rewards-reversal-without-points          | REWARDS-NO-POINTS-NO-REVERSAL         | money           | rewards.carries-points       | a points reversal is attempted even when no reward carries points (and fails with 1018)
rewards-no-reversal-reference            | REWARDS-REVERSAL-REFERENCE            | transition      | rewards.reversal-reference   | the points reversal reference is not recorded against the revoke
rewards-audit-not-stored                 | REWARDS-AUDIT-FIELDS                  | transition      | rewards.stored-audit         | revokedBy and revokeReason are not stored
rewards-event-time-null                  | REWARDS-EVENT-TIME-DEFAULT            | transition      | rewards.stored-audit         | without revokedEventDateTime no revoke time is recorded
rewards-already-revoked-13010            | REWARDS-STATUS-CODES-DOCUMENTED       | error-code      | rewards.refusal-code         | revoking a cancelled transaction is answered with the undocumented code 13010
rewards-auth-presence-only               | REWARDS-AUTH-REQUIRED                 | auth            | capillary-rewards.credentials-valid | any Authorization or OAuth header is accepted; only their absence is refused
rewards-race-unlocked                    | REWARDS-RACE-ONE-SUCCESS              | race            | rewards.lock                 | revokeUserReward runs without the tenant lock: two concurrent revokes both refund
rewards-stale-issual                     | REWARDS-STATE-READBACK                | readback        | rewards.issual-served        | getIssual serves the transaction as cached at its first read
rewards-status-without-message           | REWARDS-SCHEMA-REVOKE-200             | status-envelope | web.answer                   | the revoke answer's status object lacks the documented message
# Thanx
thanx-completed-revoke-200               | THANX-REVOKE-COMPLETED-202            | status-code     | thanx.revoke-status          | revoking a completed job answers 200 instead of 202
thanx-partly-failed-job-422              | THANX-REVOKE-FAILED-202               | precondition    | thanx.revocable              | a failed job that issued some rewards is refused with 422
thanx-zero-success-422                   | THANX-REVOKE-ZERO-SUCCESS-202         | precondition    | thanx.revocable              | a failed job that issued nothing is refused with 422 (nothing to revoke)
thanx-202-shows-old-state                | THANX-202-STATE-REVOKING              | async           | thanx.revoke-answer          | the 202 body shows the job as it was before the revoke (completed or failed)
thanx-pending-revocable                  | THANX-REVOKE-PENDING-422              | precondition    | thanx.revocable              | a pending job is accepted for revocation (202)
thanx-processing-revocable               | THANX-REVOKE-PROCESSING-422           | precondition    | thanx.revocable              | a processing job is accepted for revocation (202)
thanx-revoking-revocable                 | THANX-REVOKE-REVOKING-422             | precondition    | thanx.revocable              | a job already revoking is accepted again (202)
thanx-revoked-revocable                  | THANX-REVOKE-REVOKED-422              | precondition    | thanx.revocable              | a revoked job is accepted again (202) and goes back to revoking
thanx-revocation-rolls-back              | THANX-EVENTUALLY-REVOKED              | async           | thanx.revocation-result      | a revoking job ends back in completed instead of revoked
thanx-revocation-never-finishes          | THANX-EVENTUALLY-REVOKED              | async           | thanx.revocation-result      | a revoked job stays revoking for good: the background revocation never finishes
thanx-revoke-touches-completed-at        | THANX-COUNTERS-UNCHANGED              | counter         | thanx.after-revoke           | a revoke rewrites completed_at
thanx-failure-count-includes-unprocessed | THANX-COUNTERS-CONSISTENT             | counter         | web.answer                   | failure_count counts unprocessed identifiers as failed
thanx-epoch-timestamps                   | THANX-TIMESTAMPS-ISO8601              | field-type      | web.answer                   | created_at, started_at and completed_at are epoch seconds
thanx-revoke-unwrapped                   | THANX-ENVELOPE                        | envelope        | web.answer                   | the revoke's 202 body is the job itself, without the issuance_job wrapper
thanx-id-without-prefix                  | THANX-ID-ECHO                         | status-envelope | web.answer                   | the 202 body's issuance_job.id drops the job_ prefix
thanx-revoke-merchant-inferred           | THANX-MERCHANT-REQUIRED               | validation      | thanx.revoke-merchant        | a revoke without merchant_id uses the job's own merchant
thanx-get-merchant-inferred              | THANX-GET-MERCHANT-REQUIRED           | validation      | thanx.get-merchant           | getIssuanceJob without merchant_id uses the job's own merchant
thanx-other-merchant-403                 | THANX-OTHER-MERCHANT-NOT-FOUND        | auth            | thanx.not-found              | another merchant's job is refused 403 FORBIDDEN, revealing that it exists
thanx-unknown-job-code                   | THANX-UNKNOWN-JOB-NOT-FOUND           | error-code      | thanx.not-found              | an unknown job id gets 404 with code NOT_FOUND instead of RESOURCE_NOT_FOUND
thanx-scope-not-checked                  | THANX-SCOPE-REWARDS-ISSUE             | auth            | thanx.scope-granted          | a token without rewards.issue may revoke
thanx-bad-token-403                      | THANX-AUTH-REQUIRED                   | auth            | web.answer                   | a missing or invalid token is answered 403 FORBIDDEN instead of 401 AUTHENTICATION_GENERIC
thanx-race-unlocked                      | THANX-RACE-ONE-SUCCESS                | race            | thanx.lock                   | revokeIssuanceJob runs without the tenant lock: two concurrent revokes both get 202
thanx-issue-201                          | THANX-ISSUE-202-PENDING               | status-code     | web.answer                   | issueCampaignRewards answers 201 instead of 202
thanx-idempotent-replay-reissues         | THANX-IDEMPOTENCY-REPLAY              | idempotency     | thanx.replays                | a repeated issue with the same key and body creates a second job
thanx-idempotency-ignores-body           | THANX-IDEMPOTENCY-CONFLICT-422        | idempotency     | thanx.same-request           | a key reused with another body replays the first answer instead of 422
thanx-identifier-limit-unenforced        | THANX-ISSUE-MAX-IDENTIFIERS           | validation      | thanx.identifier-limit       | more than 10,000 identifiers are accepted
thanx-summary-missing-on-completed       | THANX-SUMMARY-ON-COMPLETED            | status-envelope | web.answer                   | getIssuanceJob of a completed job carries no summary (the schema allows leaving it out; the page adds it on completed)
thanx-job-requeued                       | THANX-JOB-LIFECYCLE                   | async           | thanx.requeues               | an issued job goes back from processing to pending once before it finishes
thanx-rate-limit-503                     | THANX-RATE-LIMIT-429                  | status-code     | web.answer                   | rate limiting is answered 503 instead of 429
thanx-revoke-without-variant-id          | THANX-SCHEMA-REVOKE-202               | status-envelope | web.answer                   | the revoke's 202 issuance_job lacks the documented variant_id
thanx-job-progress-as-string             | THANX-SCHEMA-GETISSUANCEJOB-200       | field-type      | web.answer                   | getIssuanceJob shows progress_percent as a string
thanx-revoke-401-without-message         | THANX-SCHEMA-REVOKE-401               | status-envelope | web.answer                   | the revoke's 401 error object lacks the documented message
thanx-get-401-code-numeric               | THANX-SCHEMA-GETISSUANCEJOB-401       | field-type      | web.answer                   | getIssuanceJob's 401 error code is the number 401, not the documented string
thanx-revoke-404-without-message         | THANX-SCHEMA-REVOKE-404               | status-envelope | web.answer                   | the revoke's 404 error object lacks the message
thanx-get-404-without-code               | THANX-SCHEMA-GETISSUANCEJOB-404       | status-envelope | web.answer                   | getIssuanceJob's 404 error object lacks the code
# Juspay
juspay-revoke-202                        | JUSPAY-REVOKE-ACTIVE                  | status-code     | juspay.revoked               | a successful revoke answers 202 instead of 200
juspay-echo-order-id                     | JUSPAY-MANDATE-ID-ECHO                | status-envelope | juspay.revoked               | the revoke answer's mandate_id is the mandate's order id
juspay-readback-lags                     | JUSPAY-STATE-READBACK                 | readback        | juspay.lags                  | the first check_status right after a revoke still reports ACTIVE
juspay-paused-revocable                  | JUSPAY-REVOKE-NON-ACTIVE-REFUSED      | precondition    | juspay.revocable             | a PAUSED mandate is revoked instead of refused
juspay-revoked-message                   | JUSPAY-REVOKE-REVOKED-400             | error-code      | juspay.not-active            | a second revoke says 'Mandate already revoked' instead of 'Mandate Not in Active State'
juspay-implicit-revokes-terminal         | JUSPAY-TERMINAL-STATES                | transition      | juspay.revocable             | should_do_implicit_revoke revokes a mandate in any state, terminal ones included
juspay-gateway-failure-no-message        | JUSPAY-GATEWAY-FAILURE-ACTIVE         | status-envelope | juspay.gateway-failure       | the gateway-failure answer lacks gateway_response_message
juspay-gateway-failure-502               | JUSPAY-GATEWAY-FAILURE-HTTP-200       | status-code     | juspay.gateway-failure       | the gateway-failure answer comes with HTTP 502
juspay-implicit-ignored                  | JUSPAY-IMPLICIT-REVOKE                | transition      | juspay.implicit              | should_do_implicit_revoke is ignored: a gateway failure leaves the mandate ACTIVE
juspay-implicit-not-persisted            | JUSPAY-IMPLICIT-REVOKE-READBACK       | readback        | juspay.implicit-persisted    | an implicit revoke answers REVOKED but the mandate stays ACTIVE
juspay-unknown-404                       | JUSPAY-UNKNOWN-400                    | status-code     | web.answer                   | an unknown mandate is answered 404 instead of 400
juspay-bad-key-code                      | JUSPAY-BAD-KEY-401                    | auth            | web.answer                   | an invalid API key gets error_code UNAUTHORIZED instead of access_denied
juspay-errors-as-html                    | JUSPAY-SCHEMA-REVOKE-400              | content-type    | web.answer                   | 400 refusals come as a text/html gateway page instead of the JSON error body
juspay-status-failed                     | JUSPAY-STATUS-ENUM                    | field-type      | web.answer                   | a FAILURE mandate reports mandate_status FAILED
juspay-command-defaults-check-status     | JUSPAY-COMMAND-REQUIRED               | validation      | juspay.command               | a request without command is treated as check_status
juspay-merchantid-optional               | JUSPAY-MERCHANTID-REQUIRED            | auth            | juspay.missing-merchant      | a request without x-merchantid is accepted (the merchant is taken from the key)
juspay-race-unlocked                     | JUSPAY-RACE-ONE-SUCCESS               | race            | juspay.lock                  | the mandate command runs without the tenant lock: two concurrent revokes both answer REVOKED
juspay-refusal-without-status            | JUSPAY-SCHEMA-REVOKE-400              | status-envelope | web.answer                   | 400 refusals lack the documented status field
juspay-gateway-code-numeric              | JUSPAY-SCHEMA-REVOKE-200              | field-type      | web.answer                   | the gateway-failure answer's gateway_response_code is the number 200, not the documented string
juspay-401-without-status                | JUSPAY-SCHEMA-REVOKE-401              | status-envelope | web.answer                   | 401 refusals lack the documented status field
"""
_ROWS = [line.split("|", 4) for line in _TABLE.strip().splitlines() if not line.startswith("#")]

DEVIATIONS: dict[str, Deviation] = {
    name.strip(): Deviation(name.strip(), rule.strip(), description.strip(), kind.strip(), where.strip())
    for name, rule, kind, where, description in _ROWS
}

_CLIENT = "it constrains the request the suite's client sends, and a server cannot make the client send anything else"
UNBREAKABLE: dict[str, str] = {
    "THANX-ACCEPT-VERSION": f"client-request: {_CLIENT} (the Accept-Version header).",
    "THANX-CONTENT-TYPE-JSON": f"client-request: {_CLIENT} (the JSON body and its Content-Type).",
    "JUSPAY-BASIC-AUTH": f"client-request: {_CLIENT} (Basic auth with the key and an empty password).",
    "JUSPAY-FORM-ENCODED": f"client-request: {_CLIENT} (the form-encoded body).",
    "JUSPAY-ROUTING-ID-SENT": f"client-request: {_CLIENT} (the x-routing-id header).",
    "JUSPAY-ROUTING-ID-CONSISTENT": (
        f"client-request: {_CLIENT} (the same x-routing-id per customer); the sandbox only records what "
        "it received, and falsifying that record would test the recorder, not a vendor behaviour."
    ),
    # Judged on a client library's traffic by the client gate, not on a server.
    "THANX-CLIENTID-SENT": f"client-request: {_CLIENT} (the X-ClientId header).",
    "THANX-BEARER-AUTH": f"client-request: {_CLIENT} (the Bearer Authorization header).",
    "BADGE-IDENTIFIER-SUPPORTED-VALUES": f"client-request: {_CLIENT} (the X-CAP-CUSTOMER-IDENTIFIER value).",
    "REWARDS-TXNID-INTEGER": f"client-request: {_CLIENT} (txnId as a JSON integer).",
    "JUSPAY-IMPLICIT-REVOKE-VALUE": f"client-request: {_CLIENT} (the should_do_implicit_revoke value).",
    "JUSPAY-STATUS-BEFORE-RESEND": f"client-request: {_CLIENT} (check_status before re-sending a revoke).",
}


def check_name(name: str | None) -> None:
    """Raise :class:`UnknownDeviation` (a ValueError) listing the known names when ``name`` is not one."""
    if name is not None and name not in DEVIATIONS:
        raise UnknownDeviation(f"unknown deviation {name!r}; choose from {', '.join(sorted(DEVIATIONS))}")
