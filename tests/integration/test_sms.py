"""Petitioners' SMS through Alibaba Cloud's SMS SDK against a local stand-in of its endpoint:
the SendSms request signed ACS3-HMAC-SHA256 (checked here as the provider checks it), the
approved signature, template and parameters only; flow control held, not dropped; a wrong
template a dead letter the office is told of. Both databases."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import logging
import threading
import urllib.parse
from typing import Any

import pendulum
import pytest
from werkzeug import Request, Response

from domain.errors import ConfigError
from notifications.plan import PETITIONER_SMS
from notifications.settings import SmsSettings, SmsTemplate, notify_from_mapping
from notifications.sms import flow_control_wait
from notifications.transports import EmlTransport
from services import cases as s
from services.bootstrap import App
from services.outbox import MAX_ATTEMPTS, deliver
from tests.conftest import SAMPLE_OFFICE

WAGE = json.loads((SAMPLE_OFFICE / "samples" / "wage-complaint.json").read_text())
KEY_ID, KEY_SECRET = "LTAI-test-key-id", "aliyun-secret-never-logged"
ACCEPTED = SmsTemplate("SMS_461000001", (("no", "ref"), ("due", "due")))


def _texting(app: App, endpoint: str) -> App:
    sms = SmsSettings("示范煤矿信访", "env:TEST_SMS_ID", "env:TEST_SMS_SECRET",
                      {"acceptance_notice": ACCEPTED}, endpoint)
    office = dataclasses.replace(app.office,
                                 notify=dataclasses.replace(app.office.notify, sms=sms))
    return dataclasses.replace(app, office=office, installation=None, _rules={})


def _accepted(app: App, petition: dict[str, Any] = WAGE, ref: str = "XF-1") -> str:
    case = s.register(app, petition, registration_no=ref, actor="qian.hui")
    case = s.route_and_assign(app, case.id, actor="intake")
    s.act(app, case.id, s.ActRequest(s.Act.ACK, str(case.responder)))
    s.act(app, case.id, s.ActRequest(s.Act.ACCEPT, str(case.responder), reason="受理"))
    return case.id


def _sms_rows(app: App) -> list[Any]:
    with app.uow() as uow:
        return [r for r in uow.messages(limit=500) if r.recipient == PETITIONER_SMS]


def acs3_signature(request: Request, secret: str) -> str:
    """The provider's check of an ACS3-HMAC-SHA256 request (Alibaba Cloud's V3 signature):
    the canonical request (method, path, sorted query, the signed headers, the payload's
    hash) hashed, then HMAC-SHA256 with the AccessKey secret."""
    def enc(text: str) -> str:
        return urllib.parse.quote(text, safe="-_.~")
    pairs = urllib.parse.parse_qsl(request.query_string.decode(), keep_blank_values=True)
    query = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(pairs))
    auth = request.headers["Authorization"]
    signed = auth.split("SignedHeaders=")[1].split(",")[0].split(";")
    headers = "".join(f"{h}:{request.headers[h].strip()}\n" for h in signed)
    canonical = "\n".join([request.method, request.path, query, headers, ";".join(signed),
                           request.headers["x-acs-content-sha256"]])
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    return hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


@pytest.fixture
def texting(app: App, httpserver, monkeypatch) -> App:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TEST_SMS_ID", KEY_ID)
    monkeypatch.setenv("TEST_SMS_SECRET", KEY_SECRET)
    return _texting(app, httpserver.url_for("").rstrip("/"))


def test_the_acceptance_sms_is_the_approved_template_signed_and_sent_once(
        texting, httpserver, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)  # the SDK's and the HTTP client's debug lines too
    _accepted(texting)
    checked: list[bool] = []

    def provider(request: Request) -> Response:
        signature = request.headers["Authorization"].rsplit("Signature=", 1)[1]
        checked.append(signature == acs3_signature(request, KEY_SECRET))
        ok = checked[-1] and request.headers["x-acs-action"] == "SendSms"
        answer = {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0",
                  "RequestId": "F655A8D5"} if ok else {
            "Code": "IncompleteSignature", "Message": "The request signature does not conform"}
        return Response(json.dumps(answer), status=200 if ok else 400,
                         content_type="application/json")

    httpserver.expect_request("/", method="POST").respond_with_handler(provider)
    report = deliver(texting, EmlTransport(tmp_path))
    assert checked == [True], "the SDK's request did not carry a valid ACS3 signature"
    (request, _), = httpserver.log
    q = dict(urllib.parse.parse_qsl(request.query_string.decode()))
    assert request.headers["x-acs-version"] == "2017-05-25"
    assert (q["PhoneNumbers"], q["SignName"], q["TemplateCode"]) == (
        WAGE["petitioner"]["phone"], "示范煤矿信访", "SMS_461000001")
    params = json.loads(q["TemplateParam"])
    assert params == {"no": "XF-1", "due": "2027年1月19日"}  # 60 days from acceptance
    (row,) = _sms_rows(texting)
    assert (row.status, row.channel, row.ref) == ("sent", "sms",
                                                  "aliyun-sms:900619746936498440^0")
    assert report.counts["sent"] >= 2  # and the written notice itself, by e-mail
    assert deliver(texting, EmlTransport(tmp_path)).counts["sent"] == 0
    assert len(httpserver.log) == 1
    assert caplog.records and KEY_SECRET not in caplog.text


@pytest.mark.parametrize("message,wait", [
    ("触发分钟级流控Permits:1", 60), ("触发小时级流控Permits:5", 3600)])
def test_the_providers_flow_control_holds_the_sms_not_counting_a_try(
        texting, httpserver, tmp_path, message, wait):
    """Held as long as the provider's minute or hour, again and again (more often than a
    message has tries), never dropped; then it goes."""
    _accepted(texting)
    for _ in range(MAX_ATTEMPTS + 2):
        httpserver.expect_oneshot_request("/").respond_with_json(
            {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": message})
        deliver(texting, EmlTransport(tmp_path))
        (row,) = _sms_rows(texting)
        assert (row.status, row.attempts) == ("queued", 0)
        assert "BUSINESS_LIMIT_CONTROL" in row.error
        assert pendulum.instance(row.next_attempt_at) == texting.clock.now().add(seconds=wait)
        texting.clock.advance(seconds=wait + 1)
    httpserver.expect_oneshot_request("/").respond_with_json({"Code": "OK", "BizId": "2^0"})
    deliver(texting, EmlTransport(tmp_path))
    assert _sms_rows(texting)[0].status == "sent"


def test_a_day_limit_waits_for_the_providers_next_day():
    now = pendulum.datetime(2026, 11, 25, 22, 30, tz="Asia/Shanghai")
    assert flow_control_wait("isv.BUSINESS_LIMIT_CONTROL", "触发天级流控Permits:10", now) \
        == 90 * 60 + 60
    assert flow_control_wait("isv.DAY_LIMIT_CONTROL", "", now) == 90 * 60 + 60


def test_a_send_that_got_no_answer_is_asked_after_not_sent_twice(texting, httpserver, tmp_path):
    """The first SendSms is taken but answered too late (a read timeout). Before trying
    again the provider's record is asked (QuerySendDetails, by number and day): the message
    with this OutId is there, so it is not sent again."""
    slow = dataclasses.replace(texting, settings=dataclasses.replace(
        texting.settings, sendgrid_timeout=2.0))
    _accepted(slow)
    taken: list[str] = []
    release = threading.Event()

    def provider(request: Request) -> Response:
        q = dict(urllib.parse.parse_qsl(request.query_string.decode()))
        if request.headers["x-acs-action"] == "SendSms":
            taken.append(q["OutId"])
            release.wait(timeout=30)  # taken, but the answer comes too late
            return Response(json.dumps({"Code": "OK", "BizId": "1^0"}),
                            content_type="application/json")
        found = [{"OutId": out, "PhoneNum": q["PhoneNumber"], "SendStatus": 3}
                 for out in taken]
        return Response(json.dumps({"Code": "OK", "TotalCount": len(found),
                                    "SmsSendDetailDTOs": {"SmsSendDetailDTO": found}}),
                        content_type="application/json")

    httpserver.expect_request("/").respond_with_handler(provider)
    try:
        deliver(slow, EmlTransport(tmp_path))
    finally:
        release.set()
    (row,) = _sms_rows(slow)
    assert (row.status, row.attempts) == ("queued", 1) and "no answer" in row.error
    texting.clock.advance(minutes=5)
    deliver(texting, EmlTransport(tmp_path))  # the usual timeout: nothing slow now
    (row,) = _sms_rows(texting)
    assert row.status == "sent" and row.ref.startswith("aliyun-sms:out-id:")
    assert len(taken) == 1  # one SendSms in all


def test_a_send_the_provider_never_took_is_sent_after_asking(texting, httpserver, tmp_path):
    _accepted(texting)
    actions: list[str] = []

    def provider(request: Request) -> Response:
        actions.append(request.headers["x-acs-action"])
        if actions == ["SendSms"]:
            return Response("busy", status=503)  # not taken
        if actions[-1] == "QuerySendDetails":
            return Response(json.dumps({"Code": "OK", "TotalCount": 0,
                                        "SmsSendDetailDTOs": {"SmsSendDetailDTO": []}}),
                            content_type="application/json")
        return Response(json.dumps({"Code": "OK", "BizId": "3^0"}),
                        content_type="application/json")

    httpserver.expect_request("/").respond_with_handler(provider)
    deliver(texting, EmlTransport(tmp_path))
    texting.clock.advance(minutes=5)
    deliver(texting, EmlTransport(tmp_path))
    assert actions[0] == actions[-1] == "SendSms" and actions.count("SendSms") == 2
    assert set(actions[1:-1]) == {"QuerySendDetails"}  # each day since it was queued
    assert _sms_rows(texting)[0].ref == "aliyun-sms:3^0"


def test_a_template_the_provider_refuses_is_a_dead_letter_the_office_is_told_of(
        texting, httpserver, tmp_path):
    _accepted(texting)
    httpserver.expect_request("/").respond_with_json(
        {"Code": "isv.SMS_TEMPLATE_ILLEGAL", "Message": "模板不合法(不存在或被拉黑)"})
    deliver(texting, EmlTransport(tmp_path))
    (row,) = _sms_rows(texting)
    assert row.status == "dead" and "SMS_TEMPLATE_ILLEGAL" in row.error
    with texting.uow() as uow:
        assert any(r.kind == "dead_letter" and r.recipient == "li.ming"
                   for r in uow.messages(limit=500))


def test_no_sms_is_queued_without_a_template_for_the_kind_or_a_number(app, tmp_path):
    _accepted(app)  # the sample office has no SMS settings
    assert _sms_rows(app) == []
    no_phone = {**WAGE, "petitioner": {k: v for k, v in WAGE["petitioner"].items()
                                       if k != "phone"} | {"email": "p@example.org"}}
    texting = _texting(app, "http://127.0.0.1:9")
    _accepted(texting, no_phone, "XF-2")
    assert _sms_rows(texting) == []
    _accepted(texting, {**WAGE, "petitioner": {**WAGE["petitioner"],
                                               "id_number": "142601198001015678"}}, "XF-3")
    assert len(_sms_rows(texting)) == 1  # with a number and a template: queued


@pytest.mark.parametrize("sms,problem", [
    ({"sign_name": "x", "access_key_id": "LTAI5t", "access_key_secret": "env:S",
      "templates": {}}, "never the secret itself"),
    ({"sign_name": "x", "access_key_id": "env:I", "access_key_secret": "env:S",
      "templates": {"acceptance_notice": {"code": "SMS_1", "params": {"name": "petitioner"}}}},
     "carries one of ref, date, due"),
    ({"sign_name": "x", "access_key_id": "env:I", "access_key_secret": "env:S",
      "templates": {"assignment": {"code": "SMS_1"}}}, "unknown field"),
])
def test_bad_sms_settings_are_refused_naming_the_field(sms, problem):
    with pytest.raises(ConfigError, match=problem):
        notify_from_mapping({"sms": sms})


def test_a_send_whose_fate_cannot_be_asked_is_not_sent_again_blind(texting, httpserver,
                                                                  tmp_path):
    """The AccessKey may send but not query (a RAM policy): after a try without an answer
    the message is a failed try, not a second text."""
    _accepted(texting)
    actions: list[str] = []

    def provider(request: Request) -> Response:
        actions.append(request.headers["x-acs-action"])
        if actions == ["SendSms"]:
            return Response("busy", status=503)
        return Response(json.dumps({"Code": "Forbidden.RAM", "Message": "no permission",
                                    "RequestId": "R"}), status=403,
                        content_type="application/json")

    httpserver.expect_request("/").respond_with_handler(provider)
    deliver(texting, EmlTransport(tmp_path))
    texting.clock.advance(minutes=5)
    deliver(texting, EmlTransport(tmp_path))
    (row,) = _sms_rows(texting)
    assert (row.status, row.attempts) == ("queued", 2) and "not sent again blind" in row.error
    assert actions.count("SendSms") == 1
