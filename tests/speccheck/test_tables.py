"""The table readers understand the layouts of the pinned vendor pages."""

from __future__ import annotations

from conformance.speccheck.tables import parse_page

FLATTENED = """Request body parameters

FieldTypeRequiredDescription
txnIdintegerRequiredTransaction ID of the issuance transaction.
revokedEventDateTimestringOptionalThe date and time at which the revoke happened.

Response parameters

FieldTypeDescription
statusobjectObject containing the outcome of the request.
.successbooleanIndicates whether the revoke succeeded.

API-specific error codes

The table below lists the status.code values.

CodeSymbolic nameMessageWhen it occurs
200REWARD_REVOKED_OKReward revoked successfullyThe transaction was revoked.
400must not be nullThe required txnId field is missing from the request body.
"""

TAGGED = """## Headers:

#### x-merchantid:
Merchant ID
- Value: Example:- 7SucJZ2PCyoGY5vvW8Xa26
- Tags: string, Required
## Sample Code Snippets:
#### Request Code Snippet:
## API Responses:
### 400:

#### error_code:
- Description: Mandate not found
- Tags: string
"""

NAME_TYPE = """Parameters

id
string
required
Issuance job ID
merchant_id
string
required
Merchant ID

Response

Returns 202 Accepted with the issuance job object.
created_at
datetime
Job creation timestamp (ISO8601)
"""

PIPE = """# Request Body Parameters

| Parameter            | Type   | Description |
| -------------------- | ------ | ----------- |
| `redemptionId`\\*     | String | Unique.     |
| -`type`\\*            | String | Type.       |

|     |     |
| :-- | :-- |
| URI | /x  |
"""


def _rows(text: str, known: tuple[str, ...] = ()) -> list[tuple[str, str, str]]:
    return [(row.table, row.row, row.kind) for row in parse_page("page.md", text, known)]


def test_flattened_html_tables() -> None:
    assert _rows(FLATTENED) == [
        ("Request body parameters", "txnId", "parameter"),
        ("Request body parameters", "revokedEventDateTime", "parameter"),
        ("Response parameters", "status", "response field"),
        ("Response parameters", ".success", "response field"),
        ("API-specific error codes", "200", "error code"),
        ("API-specific error codes", "400", "error code"),
    ]


def test_flattened_rows_prefer_known_names() -> None:
    text = "Body\n\nFieldTypeDescription\nstringValuestringA field whose name starts with a type.\n"
    assert _rows(text, ("stringValue",)) == [("Body", "stringValue", "parameter")]


def test_tagged_headings() -> None:
    assert _rows(TAGGED) == [
        ("Headers", "x-merchantid", "header"),
        ("API Responses / 400", "error_code", "response field"),
    ]


def test_name_then_type_lines() -> None:
    assert _rows(NAME_TYPE) == [
        ("Parameters", "id", "parameter"),
        ("Parameters", "merchant_id", "parameter"),
        ("Response", "created_at", "response field"),
    ]


def test_pipe_tables_skip_key_value_tables() -> None:
    rows = parse_page("page.md", PIPE)
    assert [(row.row, row.name) for row in rows] == [("redemptionId", "redemptionId"), ("-type", "type")]
