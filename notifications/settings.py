"""The office's notification settings (``office.yaml``, section ``notifications``).

Pure: plain data in, a frozen object out; a bad field raises ``ConfigError`` naming it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from domain.errors import ConfigError
from domain.fields import Fields, parse_time

LANGUAGES = ("zh", "en")


@dataclass(frozen=True)
class QuietHours:
    """When non-urgent messages wait: a nightly window (it may cross midnight) and, with
    ``rest_days``, the whole of weekends and holidays (调休 workdays are working days)."""

    start: dt.time = dt.time(22, 0)
    end: dt.time = dt.time(7, 0)
    rest_days: bool = True


ROBOT_KINDS = ("wecom", "dingtalk")
# The staff's message kinds a channel may be chosen for (the petitioner's notices go by
# e-mail or post; a template of each is in templates/<lang>/).
STAFF_KINDS = ("assignment", "reminder", "warning", "breach", "escalation", "extension",
               "leader_request", "due_revised", "digest", "dead_letter", "alert",
               "reception_notice", "reception_reminder", "zero_report_missing",
               "zero_report_overdue", "signal_digest", "extension_request",
               "extension_refused", "report_request", "report_filed", "case_listed",
               "review_measure_reminder", "review_measure_breach")
EMAIL = "email"
# Never through a group robot: a digest lists many cases (not each member may see each), a
# dead letter is about a delivery that failed (perhaps the robot's own).
BY_EMAIL_ONLY = ("digest", "signal_digest", "dead_letter")
ROBOT_ID_MAX = 48  # outbox.channel holds it
SECRET_PREFIXES = ("env:", "block:")


@dataclass(frozen=True)
class RobotSettings:
    """A 企业微信 or 钉钉 group robot: its webhook (with its key) and DingTalk's signing
    secret, each named, never written here (``env:NAME``: an environment variable;
    ``block:NAME``: a Prefect Secret block); who reads its group (``members``: a case's
    message goes through it only if every one of them may see the case); how many messages
    it takes a minute (WeCom: 20)."""

    id: str
    kind: str
    webhook: str
    members: tuple[str, ...]
    secret: str | None = None
    per_minute: int = 20


SMS_KINDS = ("acceptance_notice", "decline_notice", "extension_notice", "decision_notice")
# What an SMS template's parameters may carry: the registration number, the notice's local
# date, the deadline it names, the query code (办理进度查询). Never a name, the subject or
# free text.
SMS_FIELDS = ("ref", "date", "due", "code")


@dataclass(frozen=True)
class SmsTemplate:
    """An approved template and its parameters, each (template variable, field): Aliyun's
    named variables (``${no}``), or Tencent's positions (``{1}``, ``{2}``: named "1", "2")."""

    code: str
    params: tuple[tuple[str, str], ...]


SMS_PROVIDERS = ("aliyun", "tencent")
SMS_COMMON = ("provider", "sign_name", "endpoint", "templates")
# Each provider's own fields: a field of the other one is refused (a half-converted file).
SMS_FIELDS_OF = {"aliyun": (*SMS_COMMON, "access_key_id", "access_key_secret"),
                 "tencent": (*SMS_COMMON, "sdk_app_id", "region", "secret_id", "secret_key")}
SMS_ENDPOINTS = {"aliyun": "dysmsapi.aliyuncs.com", "tencent": "sms.tencentcloudapi.com"}


@dataclass(frozen=True)
class SmsSettings:
    """The petitioners' SMS through Alibaba Cloud's SMS service (短信服务) or Tencent Cloud's
    (腾讯云短信): the approved signature (签名) and a template per notice kind; the
    provider's credential pair named, never written here (env:/block:, as a robot's
    webhook): Aliyun's AccessKey ID and secret, or Tencent's SecretId and SecretKey (in
    office.yaml ``secret_id``, ``secret_key``). Tencent's also names the SMS application
    (``sdk_app_id``, its SdkAppId) and the API's region."""

    sign_name: str
    access_key_id: str
    access_key_secret: str
    templates: dict[str, SmsTemplate]
    endpoint: str = SMS_ENDPOINTS["aliyun"]
    provider: str = "aliyun"
    sdk_app_id: str = ""
    region: str = "ap-guangzhou"


def _sms_params(one: Fields, provider: str) -> tuple[tuple[str, str], ...]:
    """Aliyun: ``{variable: field}``; Tencent: ``[field, ...]`` in the order of {1}, {2}…"""
    raw = one.data.get("params") or ({} if provider == "aliyun" else [])
    where = one.at("params")
    if provider == "tencent":
        if isinstance(raw, str) or not isinstance(raw, list):
            raise ConfigError("Tencent's template parameters are positional: a list of "
                              f"fields in the order of {{1}}, {{2}}, … (one of "
                              f"{', '.join(SMS_FIELDS)})", field=where)
        for i, value in enumerate(raw):
            if value not in SMS_FIELDS:
                raise ConfigError(f"an SMS parameter carries one of {', '.join(SMS_FIELDS)}",
                                  field=f"{where}[{i}]")
        return tuple((str(i), str(value)) for i, value in enumerate(raw, start=1))
    if isinstance(raw, list):
        raise ConfigError("Aliyun's template parameters are named: a mapping of each "
                          "template variable to its field", field=where)
    params = Fields(raw, where, tuple(raw) if isinstance(raw, dict) else ())
    for name in params.data:
        if params.text(name) not in SMS_FIELDS:
            raise ConfigError(f"an SMS parameter carries one of {', '.join(SMS_FIELDS)}",
                              field=params.at(name))
    return tuple((str(n), params.text(n)) for n in params.data)


def _number(f: Fields, name: str, what: str) -> str:
    """A Tencent id written as a number (YAML may read it as one): its digits."""
    value = f.raw(name)
    text = "" if isinstance(value, bool) or not isinstance(value, int | str) \
        else str(value).strip()
    if not (text.isascii() and text.isdigit()):
        raise ConfigError(f"{what} is a number (as the Tencent SMS console shows it)",
                          field=f.at(name))
    return text


def sms_from_mapping(data: object, path: str) -> SmsSettings:
    everything = tuple(dict.fromkeys((*SMS_FIELDS_OF["aliyun"], *SMS_FIELDS_OF["tencent"])))
    provider = Fields(data, path, everything).text("provider", "aliyun")
    if provider not in SMS_PROVIDERS:
        raise ConfigError(f"unknown SMS provider {provider!r}; expected one of "
                          f"{', '.join(SMS_PROVIDERS)}", field=f"{path}.provider")
    f = Fields(data, path, SMS_FIELDS_OF[provider])
    t = Fields(f.raw("templates"), f.at("templates"), SMS_KINDS)
    templates: dict[str, SmsTemplate] = {}
    for kind in t.data:
        one = Fields(t.data[kind], t.at(kind), ("code", "params"))
        code = _number(one, "code", "a Tencent TemplateId") if provider == "tencent" \
            else one.text("code")
        templates[str(kind)] = SmsTemplate(code, _sms_params(one, provider))
    endpoint = f.text("endpoint", SMS_ENDPOINTS[provider])
    if provider == "tencent":
        region = f.text("region", SmsSettings.region)
        if not region.replace("-", "").isalnum() or region != region.lower():
            raise ConfigError(f"expected a Tencent Cloud region such as ap-guangzhou, got "
                              f"{region!r}", field=f.at("region"))
        return SmsSettings(f.text("sign_name"), _secret_ref(f, "secret_id"),
                           _secret_ref(f, "secret_key"), templates, endpoint, provider,
                           _number(f, "sdk_app_id", "sdk_app_id (the SMS application's "
                                   "SdkAppId)"), region)
    return SmsSettings(f.text("sign_name"), _secret_ref(f, "access_key_id"),
                       _secret_ref(f, "access_key_secret"), templates, endpoint)


@dataclass(frozen=True)
class NotifySettings:
    language: str = "zh"
    sender_email: str = "xinfang@petitions.invalid"
    sender_name: str = "信访办公室"
    quiet: QuietHours | None = field(default_factory=QuietHours)
    # Whether breaches and escalations (urgent) go out in quiet hours too.
    urgent_bypasses_quiet_hours: bool = True
    digest_at: dt.time = dt.time(8, 0)
    # Who is told of a message that could not be delivered (a person id).
    alert_to: str | None = None
    # Who prints and posts notices for petitioners without an e-mail address.
    letters_to: str | None = None
    # Who does it for an accusation (检举控告); default: the head of the unit that takes
    # accusations. Never anyone in the accusation's accused set.
    confidential_letters_to: str | None = None
    robots: dict[str, RobotSettings] = field(default_factory=dict)
    # Message kind → channel (``email`` or a robot's id) for every staff recipient; a
    # person's own ``channels`` in org.yaml win. Unnamed kinds go by e-mail.
    channels: dict[str, str] = field(default_factory=dict)
    sms: SmsSettings | None = None


def _secret_ref(f: Fields, name: str) -> str:
    ref = f.text(name)
    if not ref.startswith(SECRET_PREFIXES) or not ref.split(":", 1)[1]:
        raise ConfigError(f"{name} names where the secret is (env:VARIABLE or "
                          "block:PREFECT_SECRET_BLOCK), never the secret itself",
                          field=f.at(name))
    return ref


def robots_from_list(data: object, path: str) -> dict[str, RobotSettings]:
    robots: dict[str, RobotSettings] = {}
    parent, _, name = path.rpartition(".")
    for at, item in Fields({name: data}, parent, (name,)).items(name):
        r = Fields(item, at, ("id", "kind", "webhook", "secret", "members", "per_minute"))
        rid, kind = r.text("id"), r.text("kind")
        if rid == EMAIL or rid in robots:
            raise ConfigError(f"robot id '{rid}' is taken", field=r.at("id"))
        if len(rid) > ROBOT_ID_MAX:
            raise ConfigError(f"robot id '{rid[:20]}…' is longer than {ROBOT_ID_MAX} "
                              "characters", field=r.at("id"))
        if kind not in ROBOT_KINDS:
            raise ConfigError(f"unknown robot kind {kind!r}; expected one of "
                              f"{', '.join(ROBOT_KINDS)}", field=r.at("kind"))
        per_minute = r.typed("per_minute", int, 20)
        if per_minute < 1:
            raise ConfigError("per_minute must be at least 1", field=r.at("per_minute"))
        members = r.text_list("members")
        if not members:
            raise ConfigError("a robot names the members of its group (who read it)",
                              field=r.at("members"))
        robots[rid] = RobotSettings(rid, kind, _secret_ref(r, "webhook"), members,
                                    _secret_ref(r, "secret") if r.has("secret") else None,
                                    per_minute)
    return robots


def refuse_robot_for(kind: str, channel: str, field: str) -> None:
    """A kind of ``BY_EMAIL_ONLY`` chosen for a robot is refused, naming ``field``."""
    if kind in BY_EMAIL_ONLY and channel != EMAIL:
        raise ConfigError(f"a {kind} goes by e-mail only (it may name cases or a failed "
                          "delivery that not every member of a group may see)", field=field)


def notify_from_mapping(data: object, path: str = "notifications") -> NotifySettings:
    f = Fields(data, path, ("language", "sender", "quiet_hours", "urgent_bypasses_quiet_hours",
                            "digest_at", "alert_to", "letters_to", "confidential_letters_to",
                            "robots", "channels", "sms"))
    robots = robots_from_list(f.raw("robots"), f.at("robots")) if f.has("robots") else {}
    channels: dict[str, str] = {}
    if f.has("channels"):
        c = Fields(f.raw("channels"), f.at("channels"), STAFF_KINDS)
        for kind in c.data:
            channel = c.text(kind)
            if channel != EMAIL and channel not in robots:
                raise ConfigError(f"unknown channel '{channel}': email or a robot of "
                                  "notifications.robots", field=c.at(kind))
            refuse_robot_for(str(kind), channel, c.at(kind))
            channels[str(kind)] = channel
    language = f.text("language", "zh")
    if language not in LANGUAGES:
        raise ConfigError(f"unknown language {language!r}; expected one of "
                          f"{', '.join(LANGUAGES)}", field=f.at("language"))
    sender = Fields(f.data.get("sender") or {}, f.at("sender"), ("email", "name"))
    quiet: QuietHours | None = QuietHours()
    if "quiet_hours" in f.data and f.data["quiet_hours"] in (None, False):
        quiet = None
    elif f.has("quiet_hours"):
        q = Fields(f.raw("quiet_hours"), f.at("quiet_hours"), ("start", "end", "rest_days"))
        quiet = QuietHours(parse_time(q.text("start", "22:00"), q.at("start")),
                           parse_time(q.text("end", "07:00"), q.at("end")),
                           q.typed("rest_days", bool, True))
    return NotifySettings(
        language=language,
        sender_email=sender.text("email", NotifySettings.sender_email),
        sender_name=sender.text("name", NotifySettings.sender_name),
        quiet=quiet,
        urgent_bypasses_quiet_hours=f.typed("urgent_bypasses_quiet_hours", bool, True),
        digest_at=parse_time(f.text("digest_at", "08:00"), f.at("digest_at")),
        alert_to=f.text("alert_to") if f.has("alert_to") else None,
        letters_to=f.text("letters_to") if f.has("letters_to") else None,
        confidential_letters_to=f.text("confidential_letters_to")
        if f.has("confidential_letters_to") else None,
        robots=robots, channels=channels,
        sms=sms_from_mapping(f.raw("sms"), f.at("sms")) if f.has("sms") else None)
