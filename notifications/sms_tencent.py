"""SMS to petitioners through Tencent Cloud SMS (腾讯云短信), the alternative to Alibaba
Cloud's (``notifications.sms``), with its official SDK (``tencentcloud-sdk-python-sms``:
SendSms of API 2021-01-11, signed TC3-HMAC-SHA256 by the SDK).

Tencent's template parameters are positional (``TemplateParamSet``, for {1}, {2}, …) and its
numbers E.164 (a mainland mobile's 11 digits become ``+86…``). ``SendStatusSet[0].Code``
``Ok`` is sent; its frequency limits (``LimitExceeded.*``: a number's 30 seconds, hour or
day, the application's day) are ``Held`` until then, not a failed try; an internal error or
no answer is ``TransientError``; any other code (a template, signature, number, SdkAppId or
key it refuses) is ``PermanentError``. The SecretKey never appears in an error, and the
SDK's debug lines (the whole request: the number and the parameters) are not logged.

A try that got no answer may have been taken, and Tencent has no look-up by our own id.
What it has is a number's delivery receipts (PullSmsSendStatusByPhoneNumber, at most 7 days
back), each carrying the ``SessionContext`` its request carried: here the outbox key. So
before a message is sent again, the receipts since it was queued are read: one with its key
→ taken, not sent again; one without any SessionContext (the application does not echo it
back: Tencent turns that on when asked) → nobody can tell, ``Unconfirmed`` (a dead letter
the office sees, never a second text); none → sent. A receipt exists only once the carrier
has reported (seconds, as a rule; later for a phone that is off), so a SendSms that may have
been taken is tried again only after ``RECEIPT_WAIT``, not the outbox's first 30 s; a
receipt later still (a phone off for longer) can mean a second text.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

import pendulum

from notifications.sms import PROVIDER_TZ, TextMessage, until_next_day
from notifications.transports import (
    Held,
    PermanentError,
    TransientError,
    Unconfirmed,
    redact,
    scrub,
)

RECEIPT_WAIT = 300.0  # seconds before asking the receipts about a try that may have gone
LOOK_BACK = dt.timedelta(days=7) - dt.timedelta(hours=1)  # the API's 7 days, less a margin
CONTEXT_MAX = 500  # SessionContext: under 512 bytes
WAITS = {"LimitExceeded.PhoneNumberThirtySecondLimit": 30.0,
         "LimitExceeded.PhoneNumberOneHourLimit": 3600.0}
DAILY = {"LimitExceeded.PhoneNumberDailyLimit", "LimitExceeded.DailyLimit",
         "LimitExceeded.PhoneNumberSameContentDailyLimit", "LimitExceeded.AppDailyLimit",
         "LimitExceeded.AppMainlandChinaDailyLimit", "LimitExceeded.AppGlobalDailyLimit",
         "LimitExceeded.AppCountryOrRegionDailyLimit"}
# Limits that no wait lifts: over 200 numbers in a request, a region the application bars.
NEVER = {"LimitExceeded.PhoneNumberCountLimit", "LimitExceeded.AppCountryOrRegionInBlacklist"}
# The SDK's names for an exchange that brought no answer of the API's (no connection, an
# HTTP status other than 200).
NO_ANSWER = {"ClientNetworkError", "ServerNetworkError"}
_SDK_LOG = logging.getLogger("tencentcloud_sdk_common")


def limit_wait(code: str, now: pendulum.DateTime | None = None) -> float:
    """Seconds a ``LimitExceeded.*`` code holds a message: 30 s, an hour, or (a day's
    limit) until the provider's next day, China time; 60 s for a limit it does not time."""
    if code in WAITS:
        return WAITS[code]
    if code in DAILY:
        return until_next_day(now or pendulum.now(PROVIDER_TZ))
    return 60.0


def verdict(code: str, said: str) -> Exception:
    """What a Tencent error code means to the outbox."""
    if code.startswith("LimitExceeded.") and code not in NEVER:
        return Held(said, limit_wait(code))
    if code == "RequestLimitExceeded" or code.startswith("RequestLimitExceeded."):
        return Held(said, 60.0)  # the API's own calls a second
    if code == "InternalError" or code.startswith("InternalError."):
        return TransientError(said)
    return PermanentError(said)  # FailedOperation, InvalidParameterValue, AuthFailure, …


def e164(phone: str) -> str:
    """``13812341234`` (or ``86…``, ``0086…``) → ``+8613812341234``; ``+…`` as it is."""
    number = re.sub(r"[\s()-]", "", phone)
    if re.fullmatch(r"\+[1-9]\d{6,14}", number):
        return number
    mainland = re.fullmatch(r"(?:\+?86|0086)?(1\d{10})", number)
    if mainland is None:
        raise PermanentError("the petitioner's number is neither a mainland mobile number "
                             "(11 digits) nor E.164 (+country code…)")
    return "+86" + mainland.group(1)


def positional(params: Mapping[str, str]) -> list[str]:
    """The parameters named "1", "2", … as Tencent's ``TemplateParamSet``."""
    if not all(name.isdigit() for name in params):
        raise PermanentError("Tencent's template parameters are positional (notifications."
                             "sms.templates: params is a list)")
    return [params[name] for name in sorted(params, key=int)]


def _surely_not_sent(cause: BaseException | None) -> bool:
    """Whether a failed exchange never reached the provider (no connection made)."""
    from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

    inner = cause.args[0] if isinstance(cause, OSError) and cause.args else None
    reason = inner.reason if isinstance(inner, MaxRetryError) else inner
    return isinstance(reason, ConnectTimeoutError | NewConnectionError)


class TencentSms:
    name = "tencent-sms"

    def __init__(self, secret_id: str, secret_key: str, sdk_app_id: str,
                 region: str = "ap-guangzhou", endpoint: str = "sms.tencentcloudapi.com",
                 timeout: float = 10.0) -> None:
        self._id, self._key = secret_id, secret_key
        self.sdk_app_id, self.region = sdk_app_id, region
        self.endpoint, self.timeout = endpoint, timeout
        # The SDK logs each request whole at DEBUG (the number, the parameters): not here.
        _SDK_LOG.setLevel(logging.INFO)
        redact(_SDK_LOG, secret_key)

    def _clean(self, text: str) -> str:
        return scrub(text, self._key)

    def _client(self) -> Any:
        # Loaded by the first SMS sent, not by every process that imports the transports.
        from tencentcloud.common.credential import Credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111.sms_client import SmsClient

        scheme, _, host = self.endpoint.rpartition("://")
        http = HttpProfile(protocol=scheme or "https", endpoint=host.rstrip("/"),
                           reqTimeout=self.timeout)
        return SmsClient(Credential(self._id, self._key), self.region,
                         ClientProfile(signMethod="TC3-HMAC-SHA256", httpProfile=http))

    def _call(self, what: str, call: Callable[[Any], Any], *, sends: bool = False) -> Any:
        """``call(client)``: the API's answer; its errors as the outbox knows them. A send
        that may have reached the provider is retried after ``RECEIPT_WAIT``."""
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
            TencentCloudSDKException,
        )

        try:
            return call(self._client())
        except TencentCloudSDKException as e:
            code, message = str(e.code or ""), str(e.message or "")
            cause = e.__cause__ or e.__context__
            if code in NO_ANSWER or isinstance(cause, OSError | ValueError | LookupError):
                wait = None if not sends or _surely_not_sent(cause) else RECEIPT_WAIT
                raise TransientError(self._clean(f"Tencent SMS {what}: unreachable: {code}: "
                                                 f"{message[:300]}"), wait) from None
            failure = verdict(code, self._clean(f"Tencent SMS {what}: {code}: "
                                                f"{message[:300]}"))
            if sends and type(failure) is TransientError:
                # An internal error or timeout of the provider's: it may have gone all the same.
                failure.retry_after = RECEIPT_WAIT
            raise failure from None

    def already_sent(self, m: TextMessage, phone: str) -> str | None:
        """The SerialNo of ``m``'s delivery receipt (its SessionContext), if one came back
        since ``m`` was queued; ``Unconfirmed`` if a receipt there carries no
        SessionContext (whether it is ``m``'s, nobody can tell)."""
        from tencentcloud.sms.v20210111 import models

        now = pendulum.now("UTC")
        begin = now - LOOK_BACK
        if m.queued_at is not None:
            begin = max(begin, pendulum.instance(m.queued_at).subtract(minutes=1))
        request = models.PullSmsSendStatusByPhoneNumberRequest()
        request.BeginTime = int(min(begin, now).timestamp())
        request.Offset, request.Limit = 0, 100
        request.PhoneNumber, request.SmsSdkAppId = phone, self.sdk_app_id
        answer = self._call("PullSmsSendStatusByPhoneNumber",
                            lambda c: c.PullSmsSendStatusByPhoneNumber(request))
        receipts = answer.PullSmsSendStatusSet or []
        context = m.key[-CONTEXT_MAX:]
        for receipt in receipts:
            if receipt.SessionContext == context:
                return str(receipt.SerialNo or context)
        if any(not receipt.SessionContext for receipt in receipts):
            raise Unconfirmed("Tencent SMS: an earlier SendSms got no answer and this "
                              "number's delivery receipts carry no SessionContext (ask "
                              "Tencent to return it): it may have gone, so it is not sent "
                              "again")
        return None

    def send(self, m: TextMessage, *, tried: bool = False) -> str:
        """Send ``m``; ``tried``: an earlier try got no answer, so the number's receipts are
        read first (``already_sent``)."""
        from tencentcloud.sms.v20210111 import models

        phone = e164(m.phone)
        if tried:
            serial = self.already_sent(m, phone)
            if serial is not None:
                return f"tencent-sms:{serial}"
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [phone]
        request.SmsSdkAppId, request.SignName = self.sdk_app_id, m.sign_name
        request.TemplateId, request.TemplateParamSet = m.template_code, positional(m.params)
        request.SessionContext = m.key[-CONTEXT_MAX:]
        answer = self._call("SendSms", lambda c: c.SendSms(request), sends=True)
        statuses = answer.SendStatusSet or []
        if not statuses:
            raise TransientError("Tencent SMS SendSms: an answer without the number's status",
                                 RECEIPT_WAIT)
        status = statuses[0]
        code = str(status.Code or "")
        if code == "Ok":
            return f"tencent-sms:{status.SerialNo}"
        raise verdict(code, self._clean(f"Tencent SMS SendSms: {code}: "
                                        f"{str(status.Message or '')[:300]}"))
