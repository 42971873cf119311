"""SMS to petitioners through Alibaba Cloud's SMS service (阿里云短信服务), with its official
SDK (``alibabacloud-dysmsapi20170525``: the SendSms action, signed ACS3-HMAC-SHA256).

Mainland SMS carries only an approved signature (签名) and approved templates (模板): a
message is a template code and its parameters (the registration number, dates), never free
text. The provider answers HTTP 200 with a ``Code``: ``OK`` is sent; its flow control
(``isv.BUSINESS_LIMIT_CONTROL``: a number takes one a minute, five an hour, ten a day;
``isv.DAY_LIMIT_CONTROL``: the account's day) is ``Held`` until the minute, the hour or the
provider's day (China time) has passed, not a failed try; a system error is
``TransientError``, any other code ``PermanentError`` (a wrong template, signature or
number). The AccessKey secret never appears in an error.

A request that got no answer may have been taken: before sending a message again, the
provider's own record (QuerySendDetails, by number and day) is asked whether a message with
its ``OutId`` (the outbox key) is there; if so it is not sent twice.

Tencent Cloud's SMS, the alternative (``notifications.sms.provider: tencent``), is
``notifications.sms_tencent``; both are a ``Texter``.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import pendulum

from notifications.transports import Held, PermanentError, TransientError, scrub

LIMITED = ("isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL")
PROVIDER_TZ = "Asia/Shanghai"
LOOK_BACK = 30  # days the provider keeps its send records


def flow_control_wait(code: str, message: str, now: pendulum.DateTime | None = None) -> float:
    """Seconds until the provider's flow control lets the number have another message: its
    minute, its hour, or (its day's, or the account's) the next day, China time."""
    now = now or pendulum.now(PROVIDER_TZ)
    if code == "isv.DAY_LIMIT_CONTROL" or "天级" in message or "day" in message.lower():
        return until_next_day(now)
    if "小时" in message or "hour" in message.lower():
        return 3600.0
    return 60.0


def until_next_day(now: pendulum.DateTime) -> float:
    """Seconds until a minute past the next midnight, China time (a provider's day)."""
    midnight = now.in_timezone(PROVIDER_TZ).add(days=1).start_of("day")
    return float((midnight - now).in_seconds() + 60)


BUSY = {"isp.SYSTEM_ERROR", "SignatureNonceUsed", "Throttling", "ServiceUnavailable"}


@dataclass(frozen=True)
class TextMessage:
    key: str
    phone: str
    sign_name: str
    template_code: str
    params: Mapping[str, str]  # Tencent's are positional: named "1", "2", …
    queued_at: dt.datetime | None = None  # it cannot have gone out before


class Texter(Protocol):
    """An SMS provider's client: sends ``m`` and returns the provider's id for it; ``tried``:
    an earlier try got no answer (the provider may have it: asked first)."""

    name: str

    def send(self, m: TextMessage, *, tried: bool = False) -> str: ...


class AliyunSms:
    name = "aliyun-sms"

    def __init__(self, access_key_id: str, access_key_secret: str,
                 endpoint: str = "dysmsapi.aliyuncs.com", timeout: float = 10.0) -> None:
        self._id, self._secret = access_key_id, access_key_secret
        self.endpoint, self.timeout = endpoint, timeout

    def _clean(self, text: str) -> str:
        return scrub(text, self._secret)

    def _client(self) -> Any:
        # Loaded by the first SMS sent, not by every process that imports the transports.
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi import models as openapi

        scheme, _, host = self.endpoint.rpartition("://")
        return Client(openapi.Config(access_key_id=self._id, access_key_secret=self._secret,
                                     endpoint=host, protocol=scheme or "https"))

    def _call(self, what: str, call: Callable[[Any], Any]) -> Any:
        """``call(runtime)``: the provider's answer; its errors as the outbox knows them."""
        from darabonba.exceptions import TeaException, UnretryableException
        from darabonba.runtime import RuntimeOptions

        ms = int(self.timeout * 1000)
        try:
            return call(RuntimeOptions(read_timeout=ms, connect_timeout=ms, autoretry=False))
        except UnretryableException as e:  # no answer: refused, reset, timed out
            raise TransientError(self._clean(f"Aliyun SMS {what}: unreachable or no answer "
                                             f"(it may have been taken): {e}")) from None
        except TeaException as e:
            status = int(getattr(e, "status_code", None) or 0)
            said = self._clean(f"Aliyun SMS {what}: {status or ''} {e.code}: "
                               f"{str(e.message)[:300]}")
            if str(e.code) in LIMITED or status == 429:
                raise Held(said, flow_control_wait(str(e.code), str(e.message))) from None
            if status >= 500 or e.code in BUSY:
                raise TransientError(said) from None
            raise PermanentError(said) from None
        except OSError as e:
            raise TransientError(self._clean(f"Aliyun SMS {what}: unreachable: {e}")) from None

    def already_sent(self, m: TextMessage) -> bool:
        """Whether the provider's record (China time, each day from the message's queueing
        to today, at most ``LOOK_BACK`` days) holds a message to ``m.phone`` with ``m``'s
        OutId (a try that got no answer was taken). A record it will not show (the
        AccessKey may not query, the service is down) is a failed try, never a blind
        resend."""
        from alibabacloud_dysmsapi20170525 import models

        client = self._client()
        today = pendulum.now(PROVIDER_TZ).start_of("day")
        first = pendulum.instance(m.queued_at).in_timezone(PROVIDER_TZ).start_of("day") \
            if m.queued_at is not None else today.subtract(days=1)
        days = min(max((today - first).in_days(), 0), LOOK_BACK - 1)
        for back in range(days + 1):
            day = today.subtract(days=back)
            request = models.QuerySendDetailsRequest(
                phone_number=m.phone, send_date=day.format("YYYYMMDD"), page_size=50,
                current_page=1)
            try:
                answer = self._call("QuerySendDetails", functools.partial(
                    client.query_send_details_with_options, request))
            except PermanentError as e:  # e.g. Forbidden.RAM: unknown, not "not sent"
                raise TransientError(f"cannot ask whether an earlier try was taken, so it "
                                     f"is not sent again blind: {e}") from None
            body = answer.body
            if str(body.code or "") != "OK":
                raise TransientError(self._clean(
                    f"Aliyun SMS QuerySendDetails: {body.code}: {str(body.message)[:200]}"))
            found = body.sms_send_detail_dtos.sms_send_detail_dto \
                if body.sms_send_detail_dtos else []
            if any(d.out_id == m.key[-64:] for d in found or []):
                return True
        return False

    def send(self, m: TextMessage, *, tried: bool = False) -> str:
        """Send ``m``; ``tried``: an earlier try got no answer, so the provider is asked
        first whether it has it (``already_sent``)."""
        from alibabacloud_dysmsapi20170525 import models

        if tried and self.already_sent(m):
            return f"aliyun-sms:out-id:{m.key[-64:]}"
        client = self._client()
        request = models.SendSmsRequest(
            phone_numbers=m.phone, sign_name=m.sign_name, template_code=m.template_code,
            template_param=json.dumps(dict(m.params), ensure_ascii=False,
                                      separators=(",", ":")), out_id=m.key[-64:])
        response = self._call("SendSms", lambda rt: client.send_sms_with_options(request, rt))
        body = response.body
        code = str(body.code or "")
        if code == "OK":
            return f"aliyun-sms:{body.biz_id}"
        what = self._clean(f"Aliyun SMS {code}: {str(body.message)[:300]}")
        if code in LIMITED:
            raise Held(what, flow_control_wait(code, str(body.message)))
        if code in BUSY:
            raise TransientError(what)
        raise PermanentError(what)
