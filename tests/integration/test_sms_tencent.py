"""Petitioners' SMS through Tencent Cloud's SMS SDK against a local stand-in of its endpoint:
each request signed TC3-HMAC-SHA256 (checked here as Tencent checks it, a wrong one
refused), the approved signature, template and positional parameters only, to an E.164
number; frequency limits held, not dropped; a refused template a dead letter the office is
told of; a send without an answer looked up in the number's receipts, not sent twice. Both
databases."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

import pendulum
import pytest
from werkzeug import Request, Response

from domain.errors import ConfigError
from notifications.settings import notify_from_mapping
from notifications.sms_tencent import e164, limit_wait
from notifications.transports import EmlTransport, PermanentError
from services.bootstrap import App
from services.outbox import MAX_ATTEMPTS, deliver
from tests.integration.test_sms import WAGE, _accepted, _sms_rows

SECRET_ID, SECRET_KEY = "AKIDtencentsecretid", "tencent-secret-key-never-logged"
APP_ID, TEMPLATE = "1400006666", "1234567"
PHONE = "+86" + WAGE["petitioner"]["phone"]
Answer = Callable[[str, dict[str, Any]], "dict[str, Any] | Response"]


def _tencent(**changes: Any) -> dict[str, Any]:
    """``notifications.sms`` of an office on Tencent Cloud, as office.yaml writes it (a
    field changed to None: left out)."""
    sms = {"provider": "tencent", "sign_name": "示范煤矿信访", "sdk_app_id": APP_ID,
           "secret_id": "env:TEST_TC_ID", "secret_key": "env:TEST_TC_KEY",
           "templates": {"acceptance_notice": {"code": TEMPLATE, "params": ["ref", "due"]}},
           **changes}
    return {k: v for k, v in sms.items() if v is not None}


def _texting(app: App, endpoint: str) -> App:
    sms = notify_from_mapping({"sms": _tencent(endpoint=endpoint)}).sms
    office = dataclasses.replace(app.office,
                                 notify=dataclasses.replace(app.office.notify, sms=sms))
    return dataclasses.replace(app, office=office, installation=None, _rules={})


def tc3_signature(request: Request, secret_key: str) -> str:
    """Tencent's check of a TC3-HMAC-SHA256 request: the canonical request (method, path,
    query, the signed headers lower-cased, the payload's hash) hashed into the string to
    sign with the timestamp and the credential scope (date/service/tc3_request), signed
    with the key derived from "TC3" + SecretKey → date → service → "tc3_request"."""
    fields = dict(part.strip().split("=", 1) for part in
                  request.headers["Authorization"].split(" ", 1)[1].split(","))
    _, date, service, _ = fields["Credential"].split("/")
    signed = fields["SignedHeaders"].split(";")
    headers = "".join(f"{h}:{request.headers[h].strip().lower()}\n" for h in signed)
    canonical = "\n".join([request.method, request.path, request.query_string.decode(),
                           headers, ";".join(signed),
                           hashlib.sha256(request.get_data()).hexdigest()])
    to_sign = "\n".join(["TC3-HMAC-SHA256", request.headers["X-TC-Timestamp"],
                         f"{date}/{service}/tc3_request",
                         hashlib.sha256(canonical.encode()).hexdigest()])

    def step(key: bytes, text: str) -> bytes:
        return hmac.new(key, text.encode(), hashlib.sha256).digest()

    key = step(step(step(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


class StandIn:
    """sms.tencentcloudapi.com: refuses a request whose signature, credential scope or
    timestamp is wrong (AuthFailure, as Tencent answers), keeps each other one (action,
    body, headers) and answers it with ``answer(action, body)``."""

    def __init__(self, answer: Answer, secret_key: str = SECRET_KEY) -> None:
        self.answer, self.secret_key = answer, secret_key
        self.taken: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        self.refused = 0

    def actions(self) -> list[str]:
        return [action for action, _, _ in self.taken]

    def _signed(self, request: Request) -> bool:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("TC3-HMAC-SHA256 Credential="):
            return False
        credential = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
        stamp = int(request.headers["X-TC-Timestamp"])
        day = dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%Y-%m-%d")
        return (credential == [SECRET_ID, day, "sms", "tc3_request"]
                and abs(stamp - pendulum.now().int_timestamp) <= 300
                and auth.rsplit("Signature=", 1)[1] == tc3_signature(request,
                                                                    self.secret_key))

    def __call__(self, request: Request) -> Response:
        if not self._signed(request):
            self.refused += 1
            answer: dict[str, Any] | Response = {"Error": {
                "Code": "AuthFailure.SignatureFailure",
                "Message": "The provided credentials could not be validated."}}
        else:
            action = request.headers["X-TC-Action"]
            body = json.loads(request.get_data())
            self.taken.append((action, body, dict(request.headers)))
            answer = self.answer(action, body)
        if isinstance(answer, Response):
            return answer
        return Response(json.dumps({"Response": {**answer, "RequestId": "req-1"}}),
                        content_type="application/json")


def sent(serial: str = "2433:1001", code: str = "Ok", message: str = "send success"
         ) -> dict[str, Any]:
    return {"SendStatusSet": [{"SerialNo": serial, "PhoneNumber": PHONE, "Fee": 1,
                               "SessionContext": "", "Code": code, "Message": message,
                               "IsoCode": "CN"}]}


def receipts(*contexts: str) -> dict[str, Any]:
    return {"PullSmsSendStatusSet": [
        {"UserReceiveTime": 1795600000, "CountryCode": "86", "SubscriberNumber": PHONE[3:],
         "PhoneNumber": PHONE, "SerialNo": f"2433:receipt-{i}", "ReportStatus": "SUCCESS",
         "Description": "DELIVRD", "SessionContext": context}
        for i, context in enumerate(contexts)]}


@pytest.fixture
def texting(app: App, httpserver, monkeypatch) -> App:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TEST_TC_ID", SECRET_ID)
    monkeypatch.setenv("TEST_TC_KEY", SECRET_KEY)
    return _texting(app, httpserver.url_for("").rstrip("/"))


def _serve(httpserver, answer: Answer, secret_key: str = SECRET_KEY) -> StandIn:  # type: ignore[no-untyped-def]
    stand_in = StandIn(answer, secret_key)
    httpserver.expect_request("/", method="POST").respond_with_handler(stand_in)
    return stand_in


def _dead_letter_to_the_office(app: App) -> bool:
    with app.uow() as uow:
        return any(r.kind == "dead_letter" and r.recipient == "li.ming"
                   for r in uow.messages(limit=500))


def test_the_acceptance_sms_is_the_approved_template_signed_and_sent_once(
        texting, httpserver, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)  # the SDK's and the HTTP client's debug lines too
    _accepted(texting)
    tencent = _serve(httpserver, lambda action, body: sent())
    report = deliver(texting, EmlTransport(tmp_path))
    assert tencent.refused == 0, "the SDK's request did not carry a valid TC3 signature"
    ((action, body, headers),) = tencent.taken
    (row,) = _sms_rows(texting)
    assert (action, headers["X-Tc-Version"], headers["X-Tc-Region"]) == (
        "SendSms", "2021-01-11", "ap-guangzhou")
    assert body == {"PhoneNumberSet": ["+8613812341234"], "SmsSdkAppId": APP_ID,
                    "SignName": "示范煤矿信访", "TemplateId": TEMPLATE,
                    "TemplateParamSet": ["XF-1", "2027年1月19日"],  # {1}, {2}: in that order
                    "SessionContext": row.key}
    assert (row.status, row.channel, row.ref) == ("sent", "sms", "tencent-sms:2433:1001")
    assert report.counts["sent"] >= 2  # and the written notice itself, by e-mail
    assert deliver(texting, EmlTransport(tmp_path)).counts["sent"] == 0
    assert len(tencent.taken) == 1
    assert caplog.records and SECRET_KEY not in caplog.text
    assert "+8613812341234" not in caplog.text  # the SDK's whole-request debug line


def test_a_request_signed_with_another_key_is_refused_and_the_key_never_shown(
        texting, httpserver, tmp_path):
    _accepted(texting)
    tencent = _serve(httpserver, lambda action, body: sent(), secret_key="another-key")
    deliver(texting, EmlTransport(tmp_path))
    (row,) = _sms_rows(texting)
    assert tencent.refused == 1 and tencent.taken == []
    assert row.status == "dead" and "AuthFailure.SignatureFailure" in row.error
    assert SECRET_KEY not in row.error
    assert _dead_letter_to_the_office(texting)


@pytest.mark.parametrize("code,wait", [
    ("LimitExceeded.PhoneNumberThirtySecondLimit", 30),
    ("LimitExceeded.PhoneNumberOneHourLimit", 3600)])
def test_a_frequency_limit_holds_the_sms_not_counting_a_try(
        texting, httpserver, tmp_path, code, wait):
    """Held as long as Tencent's 30 seconds or hour, again and again (more often than a
    message has tries), never dropped; then it goes."""
    _accepted(texting)
    now_code = {"code": code}
    tencent = _serve(httpserver, lambda action, body: sent(
        code=now_code["code"], message="frequency limit" if now_code["code"] != "Ok" else ""))
    for _ in range(MAX_ATTEMPTS + 2):
        deliver(texting, EmlTransport(tmp_path))
        (row,) = _sms_rows(texting)
        assert (row.status, row.attempts) == ("queued", 0)
        assert code in row.error
        assert pendulum.instance(row.next_attempt_at) == texting.clock.now().add(seconds=wait)
        texting.clock.advance(seconds=wait + 1)
    now_code["code"] = "Ok"
    deliver(texting, EmlTransport(tmp_path))
    assert _sms_rows(texting)[0].status == "sent"
    assert tencent.actions() == ["SendSms"] * (MAX_ATTEMPTS + 3)  # no look-up: never unanswered


def test_a_day_limit_waits_for_the_providers_next_day():
    now = pendulum.datetime(2026, 11, 25, 22, 30, tz="Asia/Shanghai")
    for code in ("LimitExceeded.PhoneNumberDailyLimit", "LimitExceeded.DailyLimit",
                 "LimitExceeded.AppDailyLimit"):
        assert limit_wait(code, now) == 90 * 60 + 60


@pytest.mark.parametrize("answer", [
    {"Error": {"Code": "FailedOperation.TemplateIncorrectOrUnapproved",
               "Message": "模板未审批或请求的内容与审核通过的模板内容不匹配"}},
    sent(code="FailedOperation.TemplateIncorrectOrUnapproved", message="模板未审批"),
], ids=["refused-request", "refused-number"])
def test_a_template_tencent_refuses_is_a_dead_letter_the_office_is_told_of(
        texting, httpserver, tmp_path, answer):
    _accepted(texting)
    _serve(httpserver, lambda action, body: answer)
    deliver(texting, EmlTransport(tmp_path))
    (row,) = _sms_rows(texting)
    assert row.status == "dead" and "TemplateIncorrectOrUnapproved" in row.error
    assert _dead_letter_to_the_office(texting)


def test_a_send_that_got_no_answer_is_found_in_the_receipts_not_sent_twice(
        texting, httpserver, tmp_path):
    """The first SendSms is taken but answered too late (a read timeout): it is tried
    again only after the receipts have had time to come (5 minutes), and then the number's
    receipts are read first (PullSmsSendStatusByPhoneNumber): one carries this message's
    SessionContext, so it is not sent again."""
    slow = dataclasses.replace(texting, settings=dataclasses.replace(
        texting.settings, sendgrid_timeout=2.0))
    _accepted(slow)
    release = threading.Event()

    def answer(action: str, body: dict[str, Any]) -> dict[str, Any]:
        if action == "SendSms":
            release.wait(timeout=30)  # taken, but the answer comes too late
            return sent()
        return receipts("another message's key", tencent.taken[0][1]["SessionContext"])

    tencent = _serve(httpserver, answer)
    try:
        deliver(slow, EmlTransport(tmp_path))
    finally:
        release.set()
    (row,) = _sms_rows(slow)
    assert (row.status, row.attempts) == ("queued", 1) and "unreachable" in row.error
    assert pendulum.instance(row.next_attempt_at) == slow.clock.now().add(minutes=5)
    slow.clock.advance(minutes=5, seconds=1)
    deliver(slow, EmlTransport(tmp_path))
    (row,) = _sms_rows(slow)
    assert (row.status, row.ref) == ("sent", "tencent-sms:2433:receipt-1")
    assert tencent.actions() == ["SendSms", "PullSmsSendStatusByPhoneNumber"]
    pull = tencent.taken[1][1]
    assert (pull["PhoneNumber"], pull["SmsSdkAppId"], pull["Offset"], pull["Limit"]) == (
        PHONE, APP_ID, 0, 100)
    # From when it was queued (a minute's margin), at most the API's 7 days back.
    assert pendulum.instance(row.queued_at).int_timestamp - 60 <= pull["BeginTime"] \
        <= pendulum.now().int_timestamp


def test_a_send_tencent_never_took_is_sent_after_reading_the_receipts(
        texting, httpserver, tmp_path):
    _accepted(texting)

    def answer(action: str, body: dict[str, Any]) -> dict[str, Any] | Response:
        if tencent.actions() == ["SendSms"]:
            return Response("bad gateway", status=502)  # perhaps taken: wait for receipts
        return receipts() if action == "PullSmsSendStatusByPhoneNumber" else sent("2433:2")

    tencent = _serve(httpserver, answer)
    deliver(texting, EmlTransport(tmp_path))
    assert _sms_rows(texting)[0].attempts == 1
    texting.clock.advance(minutes=5, seconds=1)
    deliver(texting, EmlTransport(tmp_path))
    assert tencent.actions() == ["SendSms", "PullSmsSendStatusByPhoneNumber", "SendSms"]
    assert _sms_rows(texting)[0].ref == "tencent-sms:2433:2"


def test_a_refused_connection_is_tried_again_at_the_usual_pace(texting, httpserver, tmp_path):
    """No connection was made, so nothing can have gone: the outbox's first 30 s."""
    closed = _texting(texting, "http://127.0.0.1:9")
    _accepted(closed)
    deliver(closed, EmlTransport(tmp_path))
    (row,) = _sms_rows(closed)
    assert (row.status, row.attempts) == ("queued", 1) and "unreachable" in row.error
    assert pendulum.instance(row.next_attempt_at) == closed.clock.now().add(seconds=30)


def test_receipts_that_carry_no_session_context_leave_it_unconfirmed_never_sent_twice(
        texting, httpserver, tmp_path):
    """The application does not echo SessionContext: a receipt for the number may be this
    message's, so it is not sent again; the office is told."""
    _accepted(texting)

    def answer(action: str, body: dict[str, Any]) -> dict[str, Any] | Response:
        if action == "SendSms":
            return Response("bad gateway", status=502)
        return receipts("")

    tencent = _serve(httpserver, answer)
    deliver(texting, EmlTransport(tmp_path))
    texting.clock.advance(minutes=5, seconds=1)
    deliver(texting, EmlTransport(tmp_path))
    (row,) = _sms_rows(texting)
    assert row.status == "dead" and "SessionContext" in row.error
    assert tencent.actions() == ["SendSms", "PullSmsSendStatusByPhoneNumber"]
    assert _dead_letter_to_the_office(texting)


def test_numbers_are_sent_in_e164():
    assert e164("13812341234") == "+8613812341234"
    assert e164("+86 138-1234-1234") == e164("008613812341234") == "+8613812341234"
    assert e164("+85291234567") == "+85291234567"
    with pytest.raises(PermanentError):
        e164("010-12345678")


def test_a_tencent_office_reads_its_settings():
    sms = notify_from_mapping({"sms": _tencent()}).sms
    assert sms is not None
    assert (sms.provider, sms.sdk_app_id, sms.region, sms.endpoint) == (
        "tencent", APP_ID, "ap-guangzhou", "sms.tencentcloudapi.com")
    assert (sms.access_key_id, sms.access_key_secret) == ("env:TEST_TC_ID", "env:TEST_TC_KEY")
    assert sms.templates["acceptance_notice"].params == (("1", "ref"), ("2", "due"))
    numeric = _tencent(sdk_app_id=1400006666,
                       templates={"decision_notice": {"code": 7654321, "params": ["code"]}})
    sms = notify_from_mapping({"sms": numeric}).sms
    assert sms is not None and sms.sdk_app_id == APP_ID
    assert sms.templates["decision_notice"].code == "7654321"


@pytest.mark.parametrize("changes,field,problem", [
    ({"provider": "huawei"}, "sms.provider", "unknown SMS provider 'huawei'"),
    ({"sdk_app_id": None}, "sms.sdk_app_id", "required field is missing"),
    ({"sdk_app_id": "my-app"}, "sms.sdk_app_id", "is a number"),
    ({"secret_key": "plain-secret"}, "sms.secret_key", "never the secret itself"),
    ({"access_key_id": "env:I"}, "sms.access_key_id", "unknown field"),
    ({"region": "Guangzhou"}, "sms.region", "region"),
    ({"templates": {"acceptance_notice": {"code": TEMPLATE, "params": {"no": "ref"}}}},
     "sms.templates.acceptance_notice.params", "positional"),
    ({"templates": {"acceptance_notice": {"code": TEMPLATE, "params": ["ref", "name"]}}},
     "sms.templates.acceptance_notice.params[1]", "carries one of ref, date, due, code"),
    ({"templates": {"acceptance_notice": {"code": "SMS_461000001"}}},
     "sms.templates.acceptance_notice.code", "TemplateId is a number"),
    ({"provider": "aliyun", "sdk_app_id": None, "secret_id": None, "secret_key": None,
      "access_key_id": "env:I", "access_key_secret": "env:S", "templates": {
          "acceptance_notice": {"code": "SMS_1", "params": ["ref"]}}},
     "sms.templates.acceptance_notice.params", "named"),
])
def test_bad_tencent_settings_are_refused_naming_the_field(changes, field, problem):
    with pytest.raises(ConfigError, match=problem) as e:
        notify_from_mapping({"sms": _tencent(**changes)})
    assert e.value.field == f"notifications.{field}" and "\n" not in str(e.value)
