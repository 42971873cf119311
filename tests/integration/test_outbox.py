"""Delivering the outbox: SendGrid's v3 mail send played by a local HTTP server (the exact
JSON it receives), its faults, quiet hours, the .eml default. Both databases."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time

import pendulum
import pytest
from werkzeug import Request, Response

from notifications.transports import EmlTransport, SendGridTransport
from services import cases as s
from services.outbox import deliver, queue_digests
from tests.conftest import SAMPLE_OFFICE

KEY = "SG.test-key-never-logged"
WAGE = json.loads((SAMPLE_OFFICE / "samples" / "wage-complaint.json").read_text())


def _messages(app):  # type: ignore[no-untyped-def]
    with app.uow() as uow:
        return {(r.kind, r.recipient): r for r in uow.messages(limit=500)}


def _assigned(app) -> str:  # type: ignore[no-untyped-def]
    case = s.register(app, WAGE, registration_no="XF-1", actor="qian.hui")
    s.route_and_assign(app, case.id, actor="intake")  # queues the assignment to lin.na
    return case.id


def _sendgrid(httpserver, timeout: float = 5.0) -> SendGridTransport:  # type: ignore[no-untyped-def]
    return SendGridTransport(KEY, host=httpserver.url_for("").rstrip("/"), timeout=timeout)


def test_sendgrid_receives_the_exact_v3_payload_and_the_message_is_sent_once(app, httpserver):
    _assigned(app)
    httpserver.expect_oneshot_request("/v3/mail/send", method="POST").respond_with_data(
        "", status=202, headers={"X-Message-Id": "sg-1"})
    report = deliver(app, _sendgrid(httpserver))
    assert report.counts["sent"] == 1
    (request, _), = httpserver.log
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    body = request.get_json()
    assert body["from"] == {"email": "xinfang@mine.example", "name": "示范煤矿信访办公室"}
    assert body["personalizations"] == [{"to": [{"email": "lin.na@mine.example",
                                                 "name": "林娜"}]}]
    assert body["subject"].startswith("【信访交办】XF-1 ")
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
    assert "138****1234" in body["content"][0]["value"]
    assert body["custom_args"] == {"outbox_key": next(iter(_messages(app).values())).key}
    row = _messages(app)[("assignment", "lin.na")]
    assert (row.status, row.ref, row.attempts) == ("sent", "sg-1", 1)
    assert deliver(app, _sendgrid(httpserver)).counts["sent"] == 0  # never twice
    assert len(httpserver.log) == 1


def test_429_waits_for_retry_after_then_sends(app, httpserver):
    _assigned(app)
    httpserver.expect_oneshot_request("/v3/mail/send").respond_with_data(
        '{"errors":[{"message":"rate limited"}]}', status=429, headers={"Retry-After": "120"})
    assert deliver(app, _sendgrid(httpserver)).counts["held"] == 1
    row = _messages(app)[("assignment", "lin.na")]
    assert row.status == "queued" and row.attempts == 0 and "429" in row.error  # not a try
    assert pendulum.instance(row.next_attempt_at) == app.clock.now().add(seconds=120)
    assert deliver(app, _sendgrid(httpserver)).counts["sent"] == 0  # not before its time
    app.clock.advance(seconds=121)
    httpserver.expect_oneshot_request("/v3/mail/send").respond_with_data("", status=202)
    assert deliver(app, _sendgrid(httpserver)).counts["sent"] == 1
    assert len(httpserver.log) == 2


def test_a_500_is_retried_with_backoff(app, httpserver):
    _assigned(app)
    httpserver.expect_oneshot_request("/v3/mail/send").respond_with_data("oops", status=500)
    deliver(app, _sendgrid(httpserver))
    row = _messages(app)[("assignment", "lin.na")]
    assert row.status == "queued" and "SendGrid 500" in row.error
    assert pendulum.instance(row.next_attempt_at) == app.clock.now().add(seconds=30)


def test_a_timeout_and_a_refused_connection_lose_nothing(app, httpserver):
    _assigned(app)

    release = threading.Event()

    def slow(_request: Request) -> Response:
        release.wait(5)
        return Response("", status=202)

    httpserver.expect_oneshot_request("/v3/mail/send").respond_with_handler(slow)
    assert deliver(app, _sendgrid(httpserver, timeout=0.5)).counts["retrying"] == 1
    release.set()  # the stand-in finishes the answer nobody waits for any more
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"  # nothing listens here
    app.clock.advance(minutes=5)
    refused = SendGridTransport(KEY, host=closed, timeout=2)
    assert deliver(app, refused).counts["retrying"] == 1
    row = _messages(app)[("assignment", "lin.na")]
    assert (row.status, row.attempts) == ("queued", 2)
    assert "unreachable" in row.error


def test_a_rejected_message_is_a_dead_letter_and_the_office_is_told(app, httpserver, caplog):
    caplog.set_level(logging.DEBUG)
    _assigned(app)
    httpserver.expect_oneshot_request("/v3/mail/send").respond_with_json(
        {"errors": [{"message": "The to.email is invalid"}]}, status=400)
    report = deliver(app, _sendgrid(httpserver))
    assert report.counts["dead"] == 1, (report, _messages(app))
    rows = _messages(app)
    dead = rows[("assignment", "lin.na")]
    assert dead.status == "dead" and "400" in dead.error and "to.email is invalid" in dead.error
    alert = rows[("dead_letter", "li.ming")]
    assert alert.status == "queued" and alert.urgent == 1
    everything = " ".join(str(v) for r in rows.values() for v in vars(r).values()) + caplog.text
    assert KEY not in everything


def test_quiet_hours_hold_routine_mail_and_let_a_breach_through(app, httpserver, tmp_path):
    app.clock.at = pendulum.datetime(2026, 11, 20, 15, 30)  # 23:30 local, Friday
    case_id = _assigned(app)
    with app.uow() as uow:
        uow.queue([{"key": "k-breach", "case_id": case_id,
                    "kind": "breach", "recipient": "wang.fang", "urgent": 1,
                    "queued_at": app.clock.now(), "payload": {"clock": "handling"}}])
        uow.commit()
    report = deliver(app, EmlTransport(tmp_path / "eml"))
    assert (report.counts["sent"], report.counts["held"]) == (1, 1)
    held = _messages(app)[("assignment", "lin.na")]
    # Saturday and Sunday are rest days: it waits for Monday 07:00.
    assert pendulum.instance(held.next_attempt_at) == pendulum.datetime(2026, 11, 22, 23, 0)
    assert "held for quiet hours until 2026-11-23 07:00" in held.note
    assert [p.name for p in (tmp_path / "eml").iterdir()] == ["k-breach.eml"]


def test_without_a_key_messages_become_eml_files_written_once(app, tmp_path):
    case_id = _assigned(app)
    s.act(app, case_id, s.ActRequest(s.Act.ACK, "lin.na"))
    s.act(app, case_id, s.ActRequest(s.Act.ACCEPT, "lin.na", reason="受理"))
    eml = EmlTransport(tmp_path / "eml")
    assert deliver(app, eml).counts["sent"] == 2  # assignment; acceptance notice (a letter)
    assert deliver(app, eml).counts["sent"] == 0
    notice = next(p for p in (tmp_path / "eml").iterdir() if "petitioner" in p.name)
    text = notice.read_bytes().decode()
    assert "li.ming@mine.example" in text  # no e-mail: the letters desk prints and posts it


def test_each_owning_leader_gets_one_digest_a_working_day(app):
    data = {**WAGE, "headcount": 12, "representatives": 3}
    case = s.register(app, data, registration_no="XF-G", actor="qian.hui")
    s.route_and_assign(app, case.id, actor="intake")
    assert queue_digests(app) == 1 and queue_digests(app) == 0
    digest = _messages(app)[("digest", "zhao.gang")]
    assert [r["ref"] for r in digest.payload["rows"]] == ["XF-G"]
    app.clock.at = pendulum.datetime(2026, 11, 21, 3, 0)  # Saturday
    assert queue_digests(app) == 0


@pytest.fixture(autouse=True)
def _no_real_sendgrid(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.delenv("PETITIONS_SENDGRID_API_KEY", raising=False)


def test_a_sender_overtaken_past_the_reclaim_window_sends_nothing_twice(app, httpserver):
    """A slow SendGrid (1.5 s an answer) and nine messages. The first sender claims all
    nine, sends one, and then stalls past the ten-minute reclaim window; a second sender
    reclaims the eight and sends them. When the first wakes, it sends none of them again:
    every message goes out exactly once."""
    for i in range(9):
        with app.uow() as uow:
            uow.queue([{"key": f"k{i}", "case_id": "", "kind": "digest", "recipient": "lin.na",
                        "urgent": 1, "payload": {"rows": []}, "queued_at": app.clock.now()}])
            uow.commit()
    sent: list[str] = []

    def slow(request: Request) -> Response:
        sent.append(request.get_json()["custom_args"]["outbox_key"])
        time.sleep(1.5)
        return Response("", status=202)

    httpserver.expect_request("/v3/mail/send").respond_with_handler(slow)
    reports = {}
    first = threading.current_thread()
    calls = {"n": 0}
    real_now = app.clock.now

    def stalls() -> object:  # the first sender's third look at the clock: between messages
        if threading.current_thread() is first:
            calls["n"] += 1
            if calls["n"] == 3:
                app.clock.advance(minutes=11)  # type: ignore[attr-defined]
                second = threading.Thread(target=lambda: reports.setdefault(
                    "b", deliver(app, _sendgrid(httpserver, timeout=30), limit=100)))
                second.start()
                second.join(300)
        return real_now()

    app.clock.now = stalls  # type: ignore[method-assign]
    reports["a"] = deliver(app, _sendgrid(httpserver, timeout=30), limit=100)
    assert sorted(sent) == sorted(set(sent)), "a message went out twice"
    assert sorted(sent) == [f"k{i}" for i in range(9)]
    assert (reports["a"].counts["sent"], reports["a"].counts["overtaken"]) == (1, 8)
    assert reports["b"].counts["sent"] == 8
    with app.uow() as uow:
        assert {m.status for m in uow.messages(limit=100)} == {"sent"}


def test_a_provider_that_keeps_asking_to_wait_for_a_day_counts_tries_from_then(app, httpserver):
    """Held, not tried, while the provider asks to wait; a message still held a day after it
    was queued counts its tries from then on, so it ends as a dead letter the office sees
    rather than waiting for ever."""
    _assigned(app)
    httpserver.expect_request("/v3/mail/send").respond_with_data("", status=429,
                                                                  headers={"Retry-After": "60"})
    assert deliver(app, _sendgrid(httpserver)).counts["held"] == 1
    app.clock.advance(hours=72)  # Monday, in working hours
    assert deliver(app, _sendgrid(httpserver)).counts["retrying"] == 1
    assert _messages(app)[("assignment", "lin.na")].attempts == 1


def test_a_retry_after_of_centuries_holds_a_day_and_breaks_nothing(app, httpserver):
    _assigned(app)
    httpserver.expect_request("/v3/mail/send").respond_with_data(
        "", status=429, headers={"Retry-After": "99999999999999"})
    assert deliver(app, _sendgrid(httpserver)).counts["held"] == 1
    row = _messages(app)[("assignment", "lin.na")]
    assert row.status == "queued"
    assert pendulum.instance(row.next_attempt_at) == app.clock.now().add(days=1)
