"""An office's public door (网上信访), office.yaml ``online``: whether it is open, its own
texts (what it accepts, how it treats personal data), whether an ID number is required, the
attachments' smaller cap, and the approved SMS templates for the sign-in code and for the
registration number (through the office's SMS provider, ``notifications.sms``).

The templates' parameters are fixed, so an office names only the template: the code's
template carries the six digits (Aliyun variable ``code``; Tencent ``{1}``); the
registration's carries the registration number and the query code (Aliyun ``no`` and
``code``; Tencent ``{1}`` and ``{2}``). The registration's SMS is queued with the
registration itself (``notifications.plan``: a case the door registered) as message kind
``online_registered``, and the outbox sends it, retried like any notice.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from domain.errors import ConfigError
from domain.fields import Fields
from notifications.plan import ONLINE_REGISTERED
from notifications.settings import NotifySettings, SmsTemplate

REGISTERED = ONLINE_REGISTERED  # the outbox's message kind of the registration's SMS
DEFAULT_NOTICE = "本办受理本单位职责范围内的建议意见、检举控告和申诉求决。"
DEFAULT_PRIVACY = "您提交的个人信息仅用于办理本信访事项，依法保密。"


@dataclass(frozen=True)
class OnlineSettings:
    enabled: bool = False
    notice: str = DEFAULT_NOTICE
    privacy: str = DEFAULT_PRIVACY
    id_number_required: bool = False
    max_mb: int = 10
    code_template: SmsTemplate | None = None
    registered_template: SmsTemplate | None = None


def _template(code: str, provider: str, fields: tuple[tuple[str, str], ...]) -> SmsTemplate:
    if provider == "tencent":
        return SmsTemplate(code, tuple((str(i), f) for i, (_, f) in enumerate(fields, 1)))
    return SmsTemplate(code, fields)


def online_from_mapping(data: Any, notify: NotifySettings) -> OnlineSettings:
    """The ``online`` block; an open door needs the office's SMS provider
    (``notifications.sms``) and the code's template."""
    f = Fields(data, "online", ("enabled", "notice", "privacy", "id_number_required",
                                "max_mb", "sms_code_template", "sms_registered_template"))
    enabled = f.typed("enabled", bool, False)
    max_mb = f.typed("max_mb", int, OnlineSettings.max_mb)
    if not 1 <= max_mb <= 100:
        raise ConfigError("expected 1 to 100 (MB)", field=f.at("max_mb"))
    sms = notify.sms
    provider = sms.provider if sms is not None else "aliyun"
    code = _template(f.text("sms_code_template"), provider, (("code", "sms_code"),)) \
        if f.has("sms_code_template") else None
    registered = _template(f.text("sms_registered_template"), provider,
                           (("no", "ref"), ("code", "code"))) \
        if f.has("sms_registered_template") else None
    if enabled and (sms is None or code is None):
        raise ConfigError("the public door signs petitioners in by an SMS code: it needs "
                          "notifications.sms and online.sms_code_template",
                          field=f.at("enabled"))
    return OnlineSettings(enabled, f.text("notice", DEFAULT_NOTICE),
                          f.text("privacy", DEFAULT_PRIVACY),
                          f.typed("id_number_required", bool, False), max_mb, code, registered)


def with_registered_template(notify: NotifySettings, online: OnlineSettings
                             ) -> NotifySettings:
    """``notify`` whose SMS templates include the registration's (the outbox sends it)."""
    if notify.sms is None or online.registered_template is None:
        return notify
    templates = {**notify.sms.templates, REGISTERED: online.registered_template}
    return dataclasses.replace(notify, sms=dataclasses.replace(notify.sms,
                                                               templates=templates))
