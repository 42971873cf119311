"""Petitioners' SMS through Alibaba Cloud's SMS SDK against a local stand-in of its endpoint:
the SendSms request signed ACS3-HMAC-SHA256 (checked here as the provider checks it), the
approved signature, template and parameters only; flow control held, not dropped; a wrong
template a dead letter the office is told of. Both databases."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import urllib.parse
from typing import Any

import pendulum
import pytest
from werkzeug import Request, Response

from domain.errors import ConfigError
from notifications.plan import PETITIONER_SMS
from notifications.settings import SmsSettings, SmsTemplate, notify_from_mapping
from notifications.transports import EmlTransport
from services import cases as s
from services.bootstrap import App
from services.outbox import deliver
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
    assert KEY_SECRET not in caplog.text


def test_the_providers_flow_control_holds_the_sms_then_it_goes(texting, httpserver, tmp_path):
    _accepted(texting)
    httpserver.expect_oneshot_request("/").respond_with_json(
        {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控Permits:1"})
    deliver(texting, EmlTransport(tmp_path))
    (row,) = _sms_rows(texting)
    assert row.status == "queued" and "BUSINESS_LIMIT_CONTROL" in row.error
    assert pendulum.instance(row.next_attempt_at) == texting.clock.now().add(seconds=60)
    texting.clock.advance(seconds=61)
    httpserver.expect_oneshot_request("/").respond_with_json({"Code": "OK", "BizId": "2^0"})
    deliver(texting, EmlTransport(tmp_path))
    assert _sms_rows(texting)[0].status == "sent"


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
