"""SMS to petitioners through Alibaba Cloud's SMS service (阿里云短信服务), with its official
SDK (``alibabacloud-dysmsapi20170525``: the SendSms action, signed ACS3-HMAC-SHA256).

Mainland SMS carries only an approved signature (签名) and approved templates (模板): a
message is a template code and its parameters (the registration number, dates), never free
text. The provider answers HTTP 200 with a ``Code``: ``OK`` is sent; its flow control
(``isv.BUSINESS_LIMIT_CONTROL``: a number takes a few a minute, a few an hour) and a
system error are ``TransientError`` (held, tried again), any other code ``PermanentError``
(a wrong template, signature or number). The AccessKey secret never appears in an error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from notifications.transports import PermanentError, TransientError

LIMITED = {"isv.BUSINESS_LIMIT_CONTROL": 60.0, "isv.DAY_LIMIT_CONTROL": 3600.0}
BUSY = {"isp.SYSTEM_ERROR", "SignatureNonceUsed", "Throttling", "ServiceUnavailable"}


@dataclass(frozen=True)
class TextMessage:
    key: str
    phone: str
    sign_name: str
    template_code: str
    params: Mapping[str, str]


class AliyunSms:
    name = "aliyun-sms"

    def __init__(self, access_key_id: str, access_key_secret: str,
                 endpoint: str = "dysmsapi.aliyuncs.com", timeout: float = 10.0) -> None:
        self._id, self._secret = access_key_id, access_key_secret
        self.endpoint, self.timeout = endpoint, timeout

    def _clean(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text

    def send(self, m: TextMessage) -> str:
        # Loaded by the first SMS sent, not by every process that imports the transports.
        from alibabacloud_dysmsapi20170525 import models
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi import models as openapi
        from darabonba.exceptions import TeaException, UnretryableException
        from darabonba.runtime import RuntimeOptions

        scheme, _, host = self.endpoint.rpartition("://")
        client = Client(openapi.Config(access_key_id=self._id,
                                       access_key_secret=self._secret, endpoint=host,
                                       protocol=scheme or "https"))
        request = models.SendSmsRequest(
            phone_numbers=m.phone, sign_name=m.sign_name, template_code=m.template_code,
            template_param=json.dumps(dict(m.params), ensure_ascii=False,
                                      separators=(",", ":")), out_id=m.key[-64:])
        ms = int(self.timeout * 1000)
        try:
            response = client.send_sms_with_options(
                request, RuntimeOptions(read_timeout=ms, connect_timeout=ms, autoretry=False))
        except UnretryableException as e:  # no answer: refused, reset, timed out
            raise TransientError(self._clean(f"Aliyun SMS unreachable: {e}")) from None
        except TeaException as e:
            status = int(getattr(e, "status_code", None) or 0)
            what = self._clean(f"Aliyun SMS {status or ''} {e.code}: {str(e.message)[:300]}")
            if status == 429 or status >= 500 or e.code in BUSY:
                raise TransientError(what, LIMITED.get(str(e.code))) from None
            raise PermanentError(what) from None
        except OSError as e:
            raise TransientError(self._clean(f"Aliyun SMS unreachable: {e}")) from None
        body = response.body
        code = str(body.code or "")
        if code == "OK":
            return f"aliyun-sms:{body.biz_id}"
        what = self._clean(f"Aliyun SMS {code}: {str(body.message)[:300]}")
        if code in LIMITED:
            raise TransientError(what, LIMITED[code])
        if code in BUSY:
            raise TransientError(what)
        raise PermanentError(what)
