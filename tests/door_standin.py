"""A stand-in of Alibaba Cloud's SMS endpoint for the public door's tests and demo: it
answers SendSms as the provider does and keeps what each number was sent (its template and
parameters), so a test reads the sign-in code as a petitioner reads their phone."""

from __future__ import annotations

import dataclasses
import json
import threading
import urllib.parse
from typing import Any

from werkzeug import Request, Response

from notifications.settings import SmsSettings
from services.bootstrap import App
from services.door_config import OnlineSettings, _template

KEY_ID, KEY_SECRET = "LTAI-door-test", "door-secret-never-logged"
CODE_TEMPLATE, REGISTERED_TEMPLATE = "SMS_900000001", "SMS_900000002"


class Phones:
    """What the stand-in was asked to send, by number: (template code, parameters)."""

    def __init__(self) -> None:
        self.sent: dict[str, list[tuple[str, dict[str, str]]]] = {}
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        q = dict(urllib.parse.parse_qsl(request.query_string.decode()))
        if request.headers.get("x-acs-action") != "SendSms":
            return Response(json.dumps({"Code": "OK", "SmsSendDetailDTOs": None}),
                            content_type="application/json")
        with self.lock:
            self.sent.setdefault(q["PhoneNumbers"], []).append(
                (q["TemplateCode"], json.loads(q.get("TemplateParam") or "{}")))
        return Response(json.dumps({"Code": "OK", "Message": "OK", "BizId": "1^0",
                                    "RequestId": "R"}), content_type="application/json")

    def last_code(self, phone: str) -> str:
        """The six digits of the last sign-in code sent to ``phone``."""
        codes = [p["code"] for t, p in self.sent.get(phone, []) if t == CODE_TEMPLATE]
        assert codes, f"no code was sent to {phone}"
        return codes[-1]

    def of(self, phone: str, template: str) -> list[dict[str, str]]:
        return [p for t, p in self.sent.get(phone, []) if t == template]


def door_open(app: App, endpoint: str, **online: Any) -> App:
    """``app`` with its public door open, texting through the stand-in at ``endpoint``
    (credentials in TEST_DOOR_SMS_ID/SECRET)."""
    sms = SmsSettings("示范煤矿信访", "env:TEST_DOOR_SMS_ID", "env:TEST_DOOR_SMS_SECRET", {
        "online_registered": _template(REGISTERED_TEMPLATE, "aliyun",
                                       (("no", "ref"), ("code", "code")))}, endpoint)
    settings = OnlineSettings(
        enabled=True, notice="本办受理职责范围内的信访事项（示范）。",
        privacy="个人信息仅用于办理本事项（示范）。",
        code_template=_template(CODE_TEMPLATE, "aliyun", (("code", "sms_code"),)),
        registered_template=sms.templates["online_registered"], **online)
    office = dataclasses.replace(app.office, online=settings,
                                 notify=dataclasses.replace(app.office.notify, sms=sms))
    return dataclasses.replace(app, office=office, installation=None, _rules={})
