"""Replay from the in-memory index answers exactly what vcrpy's replay answered, with the same strictness.

Each test writes a small cassette in vcrpy's own format, replays the same requests through vcrpy (the
recorder's matchers, record mode "none") and through the index, and compares what came back.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from conformance import waits
from conformance.http.client import ApiClient
from conformance.http.redact import Redactor
from conformance.http.replay import ReplayTransport, is_replayed, playing
from conformance.recording import NetworkDisabled, build_vcr, sockets_disabled
from conformance.recording.player import CassettePlayer, ReplayMiss

ORIGIN = "http://recorded.target"


def interaction(
    method: str, path: str, body: str = "", *, status: int = 200, answer: str = "{}", form: bool = False
) -> dict[str, Any]:
    content_type = "application/x-www-form-urlencoded" if form else "application/json"
    return {
        "request": {
            "body": body,
            "headers": {"accept": ["application/json"], "content-type": [content_type]},
            "method": method,
            "uri": ORIGIN + path,
        },
        "response": {
            "body": {"string": answer},
            "headers": {"content-type": ["application/json"], "retry-after": ["30"]},
            "status": {"code": status, "message": "OK" if status == 200 else "Too Many Requests"},
        },
    }


# Recorded, in order: what a scenario's cassette typically holds, duplicates and PII included.
RECORDED = [
    interaction("POST", "/points/reverse", '{"requestId":"a1","amount":5,"mobile":"919876543210"}', answer='{"n":1}'),
    interaction("GET", "/jobs/7", answer='{"state":"revoking"}'),
    interaction("GET", "/jobs/7", answer='{"state":"revoked"}'),
    interaction("GET", "/customers/9876543210", answer='{"mobile":"9876543210"}'),
    interaction("POST", "/mandates/m1", "command=revoke&merchant_id=x", answer='{"status":"REVOKED"}', form=True),
    interaction("GET", "/search?b=2&a=1", answer='{"found":true}'),
]


def write_cassette(tmp_path: Path, interactions: list[dict[str, Any]]) -> Path:
    path = tmp_path / "cassette.yaml"
    path.write_text(yaml.safe_dump({"interactions": interactions, "version": 1}))
    return path


def request(method: str, path: str, body: str = "", *, form: bool = False) -> httpx.Request:
    content_type = "application/x-www-form-urlencoded" if form else "application/json"
    headers = {"accept": "application/json", "content-type": content_type, "x-sandbox-tenant": "t1"}
    return httpx.Request(method, "http://replay.invalid" + path, content=body.encode(), headers=headers)


Outcome = tuple[int, bytes] | str


def through_vcrpy(path: Path, requests: list[httpx.Request]) -> tuple[list[Outcome], int]:
    from vcr.errors import CannotOverwriteExistingCassetteException

    outcomes: list[Outcome] = []
    with build_vcr(Redactor(), "none").use_cassette(str(path)) as cassette, httpx.Client() as client:
        for sent in requests:
            try:
                response = client.send(sent)
                outcomes.append((response.status_code, response.read()))
            except CannotOverwriteExistingCassetteException:
                outcomes.append("miss")
        unplayed = len(cassette.data) - sum(1 for count in cassette.play_counts.values() if count)
    return outcomes, unplayed


def through_index(path: Path, requests: list[httpx.Request]) -> tuple[list[Outcome], int]:
    outcomes: list[Outcome] = []
    player = CassettePlayer(path, Redactor())
    with playing(player), httpx.Client(transport=ReplayTransport()) as client:
        for sent in requests:
            try:
                response = client.send(sent)
                outcomes.append((response.status_code, response.read()))
            except ReplayMiss:
                outcomes.append("miss")
    return outcomes, player.unplayed


def both(tmp_path: Path, make: Callable[[], list[httpx.Request]]) -> tuple[list[Outcome], int]:
    path = write_cassette(tmp_path, RECORDED)
    expected, actual = through_vcrpy(path, make()), through_index(path, make())
    assert actual == expected
    return actual


def test_every_recorded_request_gets_its_answer_in_recorded_order(tmp_path: Path) -> None:
    def sent() -> list[httpx.Request]:
        return [
            # another idempotency key and another (masked the same way) phone number: still the recording
            request("POST", "/points/reverse", '{"amount": 5, "mobile": "919876543211", "requestId": "zz"}'),
            request("GET", "/jobs/7"),
            request("GET", "/jobs/7"),
            request("GET", "/customers/9876543211"),
            request("POST", "/mandates/m1", "merchant_id=x&command=revoke", form=True),
            request("GET", "/search?a=1&b=2"),
        ]

    outcomes, unplayed = both(tmp_path, sent)
    assert [o[0] if isinstance(o, tuple) else o for o in outcomes] == [200] * 6
    assert outcomes[1] == (200, b'{"state":"revoking"}')
    assert outcomes[2] == (200, b'{"state":"revoked"}')
    assert unplayed == 0


def test_a_request_without_a_recording_and_one_played_twice_both_miss(tmp_path: Path) -> None:
    def sent() -> list[httpx.Request]:
        return [
            request("POST", "/points/reverse", '{"amount": 6, "mobile": "919876543210", "requestId": "a1"}'),
            request("GET", "/jobs/7"),
            request("GET", "/jobs/7"),
            request("GET", "/jobs/7"),
            request("DELETE", "/jobs/7"),
            request("POST", "/mandates/m1", "merchant_id=x&command=revoke&extra=1", form=True),
        ]

    outcomes, unplayed = both(tmp_path, sent)
    assert [o if o == "miss" else "hit" for o in outcomes] == ["miss", "hit", "hit", "miss", "miss", "miss"]
    assert unplayed == 4


def test_a_miss_names_the_cassette_the_closest_recording_and_what_differs(tmp_path: Path) -> None:
    path = write_cassette(tmp_path, RECORDED)
    player = CassettePlayer(path, Redactor())
    with playing(player), httpx.Client(transport=ReplayTransport()) as client, pytest.raises(ReplayMiss) as miss:
        client.send(request("POST", "/points/reverse", '{"amount": 6, "mobile": "919876543210"}'))
    message = str(miss.value)
    assert str(path) in message
    assert "POST /points/reverse" in message
    assert "Closest recorded request: POST /points/reverse; differs in body: body differs" in message
    assert "python3 noxfile.py -s record" in message


def test_a_replayed_answer_keeps_its_status_headers_and_reason_and_says_it_was_replayed(tmp_path: Path) -> None:
    path = write_cassette(tmp_path, [interaction("GET", "/jobs/7", status=429, answer='{"e":1}')])
    with playing(CassettePlayer(path, Redactor())), httpx.Client(transport=ReplayTransport()) as client:
        response = client.send(request("GET", "/jobs/7"))
    assert (response.status_code, response.reason_phrase, response.headers["retry-after"]) == (
        429,
        "Too Many Requests",
        "30",
    )
    assert response.json() == {"e": 1}
    assert is_replayed(response)


def test_a_replayed_429_is_retried_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_cassette(
        tmp_path, [interaction("GET", "/jobs/7", status=429), interaction("GET", "/jobs/7", answer='{"ok":1}')]
    )
    slept: list[float] = []
    monkeypatch.setattr(waits, "sleep", lambda _what, seconds: slept.append(seconds))
    http = httpx.Client(transport=ReplayTransport())
    client = ApiClient("thanx", "http://replay.invalid", {}, http=http, redactor=Redactor())
    with playing(CassettePlayer(path, Redactor())):
        exchange = client.call("GET", "/jobs/7", retry=True, auth=None)
    assert (exchange.status, slept) == (200, [])


def test_nothing_answers_while_no_cassette_plays() -> None:
    with httpx.Client(transport=ReplayTransport()) as client, pytest.raises(httpx.ConnectError, match="offline"):
        client.get("http://replay.invalid/jobs/7")


def test_a_replay_refuses_sockets() -> None:
    with sockets_disabled(), pytest.raises(NetworkDisabled, match="replay is offline"):
        socket.create_connection(("127.0.0.1", 9))


def test_the_redaction_filter_runs_on_recorded_responses_as_vcrpy_ran_it(tmp_path: Path) -> None:
    answer = '{"mobile":"9876543210","token":"s3cret-token"}'
    path = write_cassette(tmp_path, [interaction("GET", "/me", answer=answer)])
    (via_vcrpy,), _ = through_vcrpy(path, [request("GET", "/me")])
    (via_index,), _ = through_index(path, [request("GET", "/me")])
    assert via_index == via_vcrpy
    assert isinstance(via_index, tuple)
    assert b"s3cret-token" not in via_index[1]


class ReplayTarget:
    run_id = "r"

    def __init__(self) -> None:
        from conformance.settings import Settings

        self.settings = Settings(target="replay", poll_deadline_s=10.0)


def test_a_replayed_poll_never_sleeps_and_judges_its_deadline_on_the_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from conformance.context import DeadlineExceeded, ScenarioContext
    from conformance.verdicts import Recorder

    def no_sleep(seconds: float) -> None:
        raise AssertionError(f"a replay slept {seconds} s")

    monkeypatch.setattr(time, "sleep", no_sleep)
    target: Any = ReplayTarget()
    ctx = ScenarioContext(target, "tenant", Recorder("t", {}, lambda _e: "replay:x", str))
    reads: list[int] = []

    def read(done_after: int) -> str:
        reads.append(1)
        return "revoked" if len(reads) >= done_after else "revoking"

    assert ctx.poll(lambda: read(3), lambda state: state == "revoked", what="the job") == "revoked"
    assert len(reads) == 3
    reads.clear()
    with pytest.raises(DeadlineExceeded, match=r"within 10\.0 s"):
        ctx.poll(lambda: read(100), lambda state: state == "revoked", what="the job")
    # Pauses of 0.05 s doubling up to the 10 s deadline: a read at 0, 0.05, 0.15 … 6.35 and one at 10 s.
    assert len(reads) == 9
