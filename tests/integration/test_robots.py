"""Staff messages through 企业微信 and 钉钉 group robots, each played by a local HTTP server
(the exact request, DingTalk's signature, the rate-limit reply), with the outbox's
guarantees: sent once, held (never dropped) at the robot's limit, and never through a group
one of whose members may not see the case. Both databases."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import logging
import socket
import threading
import urllib.parse
from typing import Any

import pendulum
import pytest
from werkzeug import Request, Response

from domain.errors import ConfigError
from notifications.settings import RobotSettings, notify_from_mapping
from notifications.transports import EmlTransport, TransientError
from services import cases as s
from services.bootstrap import App
from services.outbox import MAX_ATTEMPTS, deliver
from services.sending import ROBOT_HOLD, ROBOT_TRIES
from tests.conftest import SAMPLE_OFFICE

WAGE = json.loads((SAMPLE_OFFICE / "samples" / "wage-complaint.json").read_text())
ROBOT_KEY = "wecom-robot-key-never-logged"
SIGNING = "SEC-dingtalk-signing-secret"


def _with_robot(app: App, robot: RobotSettings, kinds: tuple[str, ...] = ("assignment",),
                mobiles: dict[str, str] | None = None) -> App:
    """``app`` whose office sends ``kinds`` through ``robot``, its people with ``mobiles``."""
    office = app.office
    people = {pid: dataclasses.replace(p, mobile=(mobiles or {}).get(pid))
              for pid, p in office.org.people.items()}
    notify = dataclasses.replace(office.notify, robots={robot.id: robot},
                                 channels=dict.fromkeys(kinds, robot.id))
    office = dataclasses.replace(office, notify=notify,
                                 org=dataclasses.replace(office.org, people=people))
    return dataclasses.replace(app, office=office, installation=None, _rules={})


def _messages(app: App) -> dict[tuple[str, str], Any]:
    with app.uow() as uow:
        return {(r.kind, r.recipient): r for r in uow.messages(limit=500)}


def _assigned(app: App, ref: str = "XF-1") -> str:
    case = s.register(app, WAGE, registration_no=ref, actor="qian.hui")
    s.route_and_assign(app, case.id, actor="intake")  # the assignment to lin.na (hr)
    return case.id


def _remind(app: App, case_id: str, person: str) -> None:
    """A reminder to ``person`` about the case, queued beside its assignment."""
    with app.uow() as uow:
        uow.queue([{"key": f"k-reminder-{person}", "case_id": case_id, "kind": "reminder",
                    "recipient": person, "urgent": 0, "queued_at": app.clock.now(),
                    "payload": {"clock": "first_response"}}])
        uow.commit()


WECOM = RobotSettings("hr-group", "wecom", "env:TEST_WECOM_URL", ("wang.fang", "lin.na"))


@pytest.fixture
def wecom(app: App, httpserver, monkeypatch) -> App:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TEST_WECOM_URL",
                       httpserver.url_for(f"/cgi-bin/webhook/send?key={ROBOT_KEY}"))
    return _with_robot(app, WECOM, mobiles={"lin.na": "13900001111"})


def test_wecom_receives_a_short_notice_mentioning_the_person_and_it_goes_once(
        wecom, httpserver, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    _assigned(wecom)
    httpserver.expect_oneshot_request("/cgi-bin/webhook/send", method="POST",
                                      query_string={"key": ROBOT_KEY}).respond_with_json(
        {"errcode": 0, "errmsg": "ok"})
    eml = EmlTransport(tmp_path / "eml")
    assert deliver(wecom, eml).counts["sent"] == 1
    (request, _), = httpserver.log
    body = request.get_json()
    assert body["msgtype"] == "text"
    assert body["text"]["mentioned_mobile_list"] == ["13900001111"]
    content = body["text"]["content"]
    assert content.startswith("【新分办信访件】林娜") and "信访件 XF-1" in content
    for private in ("刘建军", WAGE["subject"], WAGE["content"], "1381234"):
        assert private not in content  # the group reads it: nothing of the petition
    row = _messages(wecom)[("assignment", "lin.na")]
    assert (row.status, row.channel, row.attempts) == ("sent", "hr-group", 1)
    assert not (tmp_path / "eml").exists()  # not by e-mail as well
    assert deliver(wecom, eml).counts["sent"] == 0 and len(httpserver.log) == 1
    ours = [r.getMessage() for r in caplog.records if r.name != "werkzeug"]  # not the stand-in
    assert any("cgi-bin/webhook/send" in m for m in ours)  # httpx logged the request ...
    assert not any(ROBOT_KEY in m for m in ours)  # ... without the robot's key


def test_the_robots_rate_limit_reply_holds_the_message_as_long_as_it_lasts_then_it_goes(
        wecom, httpserver, tmp_path):
    """Held, not a failed try: more 45009 replies than a message has tries, and it still
    goes (not by e-mail, not dropped) once the robot takes it."""
    _assigned(wecom)
    eml = EmlTransport(tmp_path / "eml")
    for _ in range(MAX_ATTEMPTS + 2):  # ten minutes of holds
        httpserver.expect_oneshot_request("/cgi-bin/webhook/send").respond_with_json(
            {"errcode": 45009, "errmsg": f"api freq out of limit, key={ROBOT_KEY}"})
        assert deliver(wecom, eml).counts["held"] == 1
        row = _messages(wecom)[("assignment", "lin.na")]
        assert (row.status, row.attempts) == ("queued", 0)
        assert "45009" in row.error and ROBOT_KEY not in row.error
        assert pendulum.instance(row.next_attempt_at) == wecom.clock.now().add(seconds=60)
        wecom.clock.advance(seconds=61)
    httpserver.expect_oneshot_request("/cgi-bin/webhook/send").respond_with_json(
        {"errcode": 0, "errmsg": "ok"})
    assert deliver(wecom, eml).counts["sent"] == 1
    row = _messages(wecom)[("assignment", "lin.na")]
    assert (row.status, row.channel) == ("sent", "hr-group")
    assert not (tmp_path / "eml").exists()  # not by e-mail as well


def test_a_robot_that_keeps_asking_to_wait_gives_way_to_e_mail(wecom, httpserver, tmp_path):
    _assigned(wecom)
    httpserver.expect_request("/cgi-bin/webhook/send").respond_with_json(
        {"errcode": 45009, "errmsg": "api freq out of limit"})
    eml = EmlTransport(tmp_path / "eml")
    while deliver(wecom, eml).counts["held"]:
        wecom.clock.advance(seconds=61)
    row = _messages(wecom)[("assignment", "lin.na")]
    assert (row.status, row.channel, row.attempts) == ("sent", "email", 1)
    assert "kept it waiting" in row.note and len(list((tmp_path / "eml").iterdir())) == 1
    assert len(httpserver.log) <= ROBOT_HOLD // dt.timedelta(minutes=1) + 2  # asked a minute


def test_a_robot_that_asked_to_wait_is_not_asked_again_in_the_same_batch(
        app, httpserver, monkeypatch, tmp_path):
    monkeypatch.setenv("TEST_WECOM_URL", httpserver.url_for("/cgi-bin/webhook/send?key=k"))
    two = _with_robot(app, WECOM, kinds=("assignment", "reminder"))
    case_id = _assigned(two)
    _remind(two, case_id, "lin.na")
    httpserver.expect_request("/cgi-bin/webhook/send").respond_with_json(
        {"errcode": 45009, "errmsg": "api freq out of limit"})
    assert deliver(two, EmlTransport(tmp_path)).counts["held"] == 2
    assert len(httpserver.log) == 1  # the second was held without a post
    mine = [r for r in _messages(two).values() if r.recipient == "lin.na"]
    assert len(mine) == 2 and all(r.status == "queued" and r.attempts == 0 for r in mine)


class _FailingMail:
    """E-mail that fails (SendGrid answering 503) ``failures`` times, then goes."""

    name = "failing"

    def __init__(self, failures: int) -> None:
        self.failures, self.sent = failures, []  # type: ignore[var-annotated]

    def send(self, envelope: Any) -> str:
        if self.failures:
            self.failures -= 1
            raise TransientError("SendGrid 503")
        self.sent.append(envelope.key)
        return f"mail:{envelope.key}"


def test_a_robot_that_does_not_answer_is_not_posted_again_even_if_the_mail_fails(
        wecom, httpserver, tmp_path):
    """A read timeout: the group may have it, and a robot takes no idempotency key, so it
    goes by e-mail; the e-mail failing once, the next try is e-mail again, never a second
    post to the group."""
    slow = dataclasses.replace(wecom, settings=dataclasses.replace(wecom.settings,
                                                                   sendgrid_timeout=2.0))
    _assigned(slow)
    released, posts = threading.Event(), []

    def late(request: Request) -> Response:
        posts.append(request.path)
        released.wait(timeout=30)
        return Response(json.dumps({"errcode": 0}), content_type="application/json")

    httpserver.expect_request("/cgi-bin/webhook/send").respond_with_handler(late)
    mail = _FailingMail(failures=1)
    try:
        assert deliver(slow, mail).counts["retrying"] == 1
    finally:
        released.set()
    row = _messages(slow)[("assignment", "lin.na")]
    assert (row.status, row.channel) == ("queued", "email")  # never through the robot again
    slow.clock.advance(minutes=5)
    assert deliver(slow, mail).counts["sent"] == 1
    row = _messages(slow)[("assignment", "lin.na")]
    assert (row.status, row.channel, mail.sent) == ("sent", "email", [row.key])
    assert "robot gave way" in row.note
    assert posts == ["/cgi-bin/webhook/send"]  # the one post, never a second


def test_a_post_a_dead_sender_left_unanswered_is_not_posted_again(wecom, httpserver, tmp_path):
    """A sender died between its post and the answer: the row, reclaimed, still says a post
    was under way, so the next sender writes instead."""
    _assigned(wecom)
    with wecom.uow() as uow:
        (row,) = [r for r in uow.claim_messages(wecom.clock.now(), 10, "dead-sender")
                  if r.recipient == "lin.na"]
        uow.settle_message(row.id, "dead-sender", ref="pending:hr-group")
        uow.commit()
    wecom.clock.advance(minutes=30)  # the dead sender's claim goes stale
    assert deliver(wecom, EmlTransport(tmp_path / "eml")).counts["sent"] >= 1
    row = _messages(wecom)[("assignment", "lin.na")]
    assert (row.status, row.channel) == ("sent", "email") and "got no answer" in row.note
    assert httpserver.log == []


def test_digests_and_dead_letters_go_by_e_mail_whatever_the_channels_say(app, httpserver,
                                                                          monkeypatch, tmp_path):
    """Even where a configuration slipped past the check (a robot for dead letters), the
    route sends them by e-mail."""
    monkeypatch.setenv("TEST_WECOM_URL", httpserver.url_for("/cgi-bin/webhook/send?key=k"))
    office = _with_robot(app, dataclasses.replace(WECOM, members=("li.ming", "lin.na")),
                         kinds=("dead_letter",))
    with office.uow() as uow:
        uow.queue([{"key": "dead:x", "case_id": "", "kind": "dead_letter",
                    "recipient": "li.ming", "urgent": 1, "queued_at": office.clock.now(),
                    "payload": {"at": office.clock.now().isoformat(), "failed": {
                        "kind": "assignment", "recipient": "lin.na", "ref": "XF-1",
                        "error": "x"}}}])
        uow.commit()
    assert deliver(office, EmlTransport(tmp_path)).counts["sent"] == 1
    assert _messages(office)[("dead_letter", "li.ming")].channel == "email"
    assert httpserver.log == []


def test_an_unreachable_robot_is_tried_then_the_person_is_written_to(app, tmp_path,
                                                                    monkeypatch):
    monkeypatch.setenv("TEST_WECOM_URL", f"http://127.0.0.1:{_closed_port()}/send?key=k")
    office = _with_robot(app, WECOM)
    _assigned(office)
    for attempt in range(1, ROBOT_TRIES):
        assert deliver(office, EmlTransport(tmp_path)).counts["retrying"] == 1
        assert _messages(office)[("assignment", "lin.na")].attempts == attempt
        office.clock.advance(hours=1)
    assert deliver(office, EmlTransport(tmp_path)).counts["sent"] == 1
    row = _messages(office)[("assignment", "lin.na")]
    assert row.channel == "email" and f"after {ROBOT_TRIES} tries" in row.note


def test_a_secret_store_that_fails_is_a_failed_try_and_holds_no_one_back(app, tmp_path):
    """The robot's webhook is in a Prefect Secret block and reading it raises: that message
    is a failed try (not left claimed to jam every batch), and the others go."""
    robot = dataclasses.replace(WECOM, webhook="block:hr-robot-webhook")
    office = _with_robot(app, robot)
    case_id = _assigned(office)
    _remind(office, case_id, "li.ming")

    def broken(name: str) -> str | None:
        raise ConnectionError("Prefect's API is down")

    report = deliver(office, EmlTransport(tmp_path), read_secret=broken)
    assert report.counts["retrying"] == 1 and report.counts["sent"] == 1, report
    row = _messages(office)[("assignment", "lin.na")]
    assert (row.status, row.attempts) == ("queued", 1)
    assert "could not read the secret block 'hr-robot-webhook'" in row.error


def test_past_its_per_minute_the_next_message_is_held_not_dropped(app, httpserver,
                                                                  monkeypatch, tmp_path):
    monkeypatch.setenv("TEST_WECOM_URL", httpserver.url_for("/cgi-bin/webhook/send?key=k"))
    one = _with_robot(app, dataclasses.replace(WECOM, per_minute=1),
                      kinds=("assignment", "reminder"))
    case_id = _assigned(one)
    _remind(one, case_id, "lin.na")
    httpserver.expect_request("/cgi-bin/webhook/send").respond_with_json({"errcode": 0})
    report = deliver(one, EmlTransport(tmp_path))
    assert (report.counts["sent"], report.counts["held"]) == (1, 1)
    held = next(r for r in _messages(one).values() if r.status == "queued")
    assert "took its 1 this minute" in held.note
    assert pendulum.instance(held.next_attempt_at) == one.clock.now().add(seconds=60)
    assert deliver(one, EmlTransport(tmp_path)).counts["sent"] == 0  # still held
    one.clock.advance(seconds=60)
    assert deliver(one, EmlTransport(tmp_path)).counts["sent"] == 1
    assert len(httpserver.log) == 2 and not list(tmp_path.glob("*.eml"))


def test_a_person_outside_the_robots_group_is_written_to_instead(app, tmp_path,
                                                                  monkeypatch):
    monkeypatch.setenv("TEST_WECOM_URL", "http://127.0.0.1:9/never")
    office = _with_robot(app, dataclasses.replace(WECOM, members=("wang.fang",)))
    _assigned(office)
    assert deliver(office, EmlTransport(tmp_path)).counts["sent"] == 1
    row = _messages(office)[("assignment", "lin.na")]
    assert row.channel == "email" and "lin.na is not in robot hr-group's group" in row.note


def test_a_group_with_a_member_who_may_not_see_the_case_gets_nothing(app, httpserver,
                                                                     monkeypatch, tmp_path):
    monkeypatch.setenv("TEST_WECOM_URL", httpserver.url_for("/cgi-bin/webhook/send?key=k"))
    # The discipline office's robot, whose group holds the accused himself.
    robot = RobotSettings("discipline", "wecom", "env:TEST_WECOM_URL",
                          ("xu.jing", "cao.yan", "dong.xin", "zheng.tao"))
    office = _with_robot(app, robot)
    accusation = {**WAGE, "category": "accusation", "subject": "检举郑涛收受好处",
                  "accused_persons": ["zheng.tao"], "concerns_unit": None}
    case = s.register(office, accusation, registration_no="XF-A", actor="qian.hui")
    s.route_and_assign(office, case.id, actor="intake")
    report = deliver(office, EmlTransport(tmp_path / "eml"))
    assert report.counts["sent"] >= 1 and httpserver.log == []
    assignment = next(r for r in _messages(office).values() if r.kind == "assignment")
    assert assignment.channel == "email" and "may not see this case" in assignment.note
    assert not any("郑涛" in p.read_text(errors="replace") or "zheng.tao" in p.name
                   for p in (tmp_path / "eml").iterdir())


def test_a_robot_without_its_webhook_here_falls_back_to_e_mail(app, tmp_path, monkeypatch):
    monkeypatch.delenv("TEST_WECOM_URL", raising=False)
    office = _with_robot(app, WECOM)
    _assigned(office)
    assert deliver(office, EmlTransport(tmp_path)).counts["sent"] == 1
    row = _messages(office)[("assignment", "lin.na")]
    assert row.channel == "email" and "env:TEST_WECOM_URL) is not set here" in row.note


def test_dingtalk_receives_a_signed_markdown_notice(app, httpserver, monkeypatch, tmp_path):
    monkeypatch.setenv("TEST_DING_URL", httpserver.url_for("/robot/send?access_token=tok"))
    monkeypatch.setenv("TEST_DING_SECRET", SIGNING)
    robot = RobotSettings("hr-ding", "dingtalk", "env:TEST_DING_URL", ("wang.fang", "lin.na"),
                          secret="env:TEST_DING_SECRET")
    office = _with_robot(app, robot, mobiles={"lin.na": "13900002222"})
    _assigned(office)
    seen: list[dict[str, str]] = []

    def signed(request: Request) -> Response:
        args = dict(request.args)
        seen.append(args)
        expected = base64.b64encode(hmac.new(
            SIGNING.encode(), f"{args['timestamp']}\n{SIGNING}".encode(), hashlib.sha256
        ).digest()).decode()
        ok = args.get("sign") == expected and args.get("access_token") == "tok"
        return Response(json.dumps({"errcode": 0 if ok else 310000,
                                    "errmsg": "ok" if ok else "sign not match"}),
                        content_type="application/json")

    httpserver.expect_request("/robot/send", method="POST").respond_with_handler(signed)
    assert deliver(office, EmlTransport(tmp_path)).counts["sent"] == 1
    (request, _), = httpserver.log
    body = request.get_json()
    assert body["msgtype"] == "markdown" and body["at"] == {"atMobiles": ["13900002222"],
                                                            "isAtAll": False}
    assert "XF-1" in body["markdown"]["text"] and "@13900002222" in body["markdown"]["text"]
    assert abs(int(seen[0]["timestamp"]) / 1000 - pendulum.now().timestamp()) < 300
    assert urllib.parse.unquote_plus(request.query_string.decode()).count("sign=") == 1


def test_a_robot_that_refuses_the_message_gives_way_to_e_mail(app, httpserver, monkeypatch,
                                                               tmp_path):
    """A wrong signature (or key): the message is not lost with the robot, it goes by
    e-mail, saying why; neither the webhook's token nor the signing secret in what is kept."""
    token = "ding-access-token-never-kept"
    monkeypatch.setenv("TEST_DING_URL", httpserver.url_for(f"/robot/send?access_token={token}"))
    monkeypatch.setenv("TEST_DING_SECRET", "not-the-robots-secret")
    robot = RobotSettings("hr-ding", "dingtalk", "env:TEST_DING_URL", ("wang.fang", "lin.na"),
                          secret="env:TEST_DING_SECRET")
    office = _with_robot(app, robot)
    _assigned(office)

    def refuse(request: Request) -> Response:  # echoes what it was sent, as some do
        return Response(json.dumps({"errcode": 310000,
                                    "errmsg": f"sign not match: {request.url}"}),
                        content_type="application/json")

    httpserver.expect_request("/robot/send").respond_with_handler(refuse)
    assert deliver(office, EmlTransport(tmp_path / "eml")).counts["sent"] == 1
    rows = _messages(office)
    row = rows[("assignment", "lin.na")]
    assert (row.status, row.channel) == ("sent", "email")
    assert "robot hr-ding" in row.note and "310000" in row.note
    for secret in (token, "not-the-robots-secret"):
        assert secret not in (row.note or "") and secret not in (row.error or "")
    assert len(list((tmp_path / "eml").iterdir())) == 1


def test_digests_and_dead_letters_never_go_by_robot():
    with pytest.raises(ConfigError, match="a digest goes by e-mail only"):
        notify_from_mapping({"robots": [{"id": "r", "kind": "wecom", "webhook": "env:X",
                                         "members": ["li.ming"]}],
                             "channels": {"digest": "r"}})


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("robots,problem", [
    ([{"id": "r", "kind": "wecom", "webhook": "https://qyapi.weixin.qq.com/x?key=abc",
       "members": ["li.ming"]}], "never the secret itself"),
    ([{"id": "r", "kind": "slack", "webhook": "env:X", "members": ["li.ming"]}],
     "unknown robot kind 'slack'"),
    ([{"id": "r", "kind": "wecom", "webhook": "env:X"}], "names the members"),
])
def test_a_bad_robot_is_refused_naming_the_field(robots, problem):
    with pytest.raises(ConfigError, match=problem):
        notify_from_mapping({"robots": robots})


def test_a_channel_that_is_no_robot_is_refused():
    with pytest.raises(ConfigError, match="unknown channel 'wechat'"):
        notify_from_mapping({"channels": {"breach": "wechat"}})
