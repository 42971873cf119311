"""Which channel a staff message goes by (e-mail, or a 企业微信 / 钉钉 group robot), and what a
robot says. A digest and a dead letter never go by robot (``BY_EMAIL_ONLY``).

A person's own choice for the message kind (``channels`` in org.yaml) wins over the office's
(``notifications.channels`` in office.yaml); unnamed, e-mail. A robot posts to a group, so a
case's message goes through it only if every member of the group may see the case
(``domain.offices.sight_in``: none of them accused, recused, outside the case's chain and
not a supervisor, or of another office), and the person it is for is one of them; else,
and when the robot's webhook is not configured here, it goes by e-mail, and the outbox row
says why. A robot takes at most ``per_minute`` messages a minute: the next ones are held
until the oldest of the last minute is a minute old, never dropped.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass

from domain.case import Case
from domain.instants import format_local
from domain.labels import DEADLINE_KINDS, MESSAGE_TITLES, label
from domain.offices import sight_in
from domain.permissions import Sight
from notifications.compose import case_link
from notifications.plan import PETITIONER
from notifications.robots import MINUTE, Robot, RobotMessage
from notifications.settings import BY_EMAIL_ONLY, EMAIL, RobotSettings, SmsSettings
from notifications.sms import AliyunSms, Texter, TextMessage
from notifications.sms_tencent import TencentSms
from notifications.transports import PermanentError, TransientError
from services.bootstrap import App
from services.config import Office
from services.progress import query_code
from storage.ports import OutboxRow, UnitOfWork

# Reads a secret kept outside the environment (a Prefect Secret block) by its name.
SecretReader = Callable[[str], str | None]

@dataclass(frozen=True)
class Route:
    """How one message goes: ``channel`` (``email`` or a robot's id) and, for a robot, its
    settings and webhook; ``why``: why e-mail although the person chose a robot."""

    channel: str
    robot: RobotSettings | None = None
    url: str | None = None
    secret: str | None = None
    why: str | None = None


def _secret(ref: str, read_secret: SecretReader | None) -> str | None:
    """The secret ``ref`` names (``env:VAR``, ``block:NAME``); a store that fails is a
    failed try (``TransientError``), never the message left half-done."""
    where, name = ref.split(":", 1)
    if where == "env":
        return os.environ.get(name) or None
    if read_secret is None:
        return None
    try:
        return read_secret(name)
    except Exception as e:  # Prefect's API down, the block gone: whatever its reason
        raise TransientError(f"could not read the secret block '{name}': "
                             f"{type(e).__name__}") from None


def route(app: App, office: Office, row: OutboxRow, case: Case | None,
          read_secret: SecretReader | None = None) -> Route:
    """The channel ``row`` goes by (see the module)."""
    person = app.person(row.recipient) if row.recipient != PETITIONER else None
    if person is None:
        return Route(EMAIL)
    chosen = person.channel(row.kind) or office.notify.channels.get(row.kind) or EMAIL
    robot = office.notify.robots.get(chosen) if row.kind not in BY_EMAIL_ONLY else None
    if robot is None:
        return Route(EMAIL, why=None if chosen == EMAIL else f"no robot '{chosen}' here")
    if row.recipient not in robot.members:
        return Route(EMAIL, why=f"by e-mail: {row.recipient} is not in robot {robot.id}'s "
                     "group")
    if case is not None:
        blind = [m for m in robot.members if sight_in(app.tree, case, m) is Sight.NONE]
        if blind:
            return Route(EMAIL, why=f"by e-mail: {len(blind)} member(s) of robot "
                         f"{robot.id}'s group may not see this case")
    url = _secret(robot.webhook, read_secret)
    if not url:
        return Route(EMAIL, why=f"by e-mail: robot {robot.id}'s webhook ({robot.webhook}) "
                     "is not set here")
    secret = _secret(robot.secret, read_secret) if robot.secret else None
    if robot.secret and not secret:
        return Route(EMAIL, why=f"by e-mail: robot {robot.id}'s signing secret "
                     f"({robot.secret}) is not set here")
    return Route(robot.id, robot, url, secret)


def held_until(uow: UnitOfWork, robot: RobotSettings, now: dt.datetime) -> dt.datetime | None:
    """When the robot may take the next message, if it took its ``per_minute`` in the last
    minute (else None)."""
    sent = uow.sent_via(robot.id, now - dt.timedelta(seconds=MINUTE))
    if len(sent) < robot.per_minute:
        return None
    until = sent[-robot.per_minute] + dt.timedelta(seconds=MINUTE)
    return until if until > now else None


def robot_message(app: App, row: OutboxRow, case: Case | None) -> RobotMessage:
    """What a robot says: the kind, the case's number, the clock concerned; the mention."""
    person = app.person(row.recipient)
    lines = []
    if case is not None:
        lines.append(f"信访件 {case.ref}")
    clock = str(row.payload.get("clock") or "")
    if clock:
        lines.append(f"期限：{label(DEADLINE_KINDS, clock.split('@', 1)[0], '办理期限')}")
    if row.kind == "digest":
        lines.append(f"在办 {len(row.payload.get('rows') or [])} 件")
    lines.append("请登录信访工作台查看办理（详情不在群内发送）。")
    mobiles = (person.mobile,) if person is not None and person.mobile else ()
    name = person.name if person is not None else row.recipient
    web = app.settings.web_base_url
    link = case_link(web, case.ref) if web and case is not None else ""
    return RobotMessage(row.key, f"【{label(MESSAGE_TITLES, row.kind, '信访提醒')}】{name}",
                        "\n".join(lines), mobiles, link)


def robot_for(way: Route, timeout: float) -> Robot:
    assert way.robot is not None and way.url is not None
    return Robot(way.robot.kind, way.url, way.secret, timeout)


DUE_OF = {"acceptance_notice": "handling", "extension_notice": "handling",
          "decision_notice": "review_request"}


def text_message(app: App, office: Office, row: OutboxRow, case: Case | None,
                 read_secret: SecretReader | None = None) -> tuple[Texter, TextMessage]:
    """The SMS for ``row`` (to the petitioner's mobile, ``PETITIONER_SMS``): the office's
    approved template for its kind, its parameters filled from the case; and the client of
    the office's provider (Alibaba Cloud's or Tencent Cloud's). ``PermanentError`` when it
    cannot go (no settings here any more, no number)."""
    sms = office.notify.sms
    template = sms.templates.get(row.kind) if sms is not None else None
    if sms is None or template is None or case is None:
        raise PermanentError(f"no approved SMS template for {row.kind} here "
                             "(notifications.sms.templates)")
    phone = case.petition.petitioner.phone
    if not phone:
        raise PermanentError("the petitioner gave no mobile number")
    due = ""
    clock = DUE_OF.get(row.kind)
    if clock:
        views = {v.kind.value: v for v in case.deadlines(app.rules_for(case), app.clock.now())}
        if clock in views:
            due = views[clock].due_date.format("YYYY年M月D日")
    fields = {"ref": case.ref, "date": format_local(row.queued_at)[:10], "due": due,
              "code": query_code(app, case)}
    params = {name: fields[field] for name, field in template.params}
    message = TextMessage(row.key, phone, sms.sign_name, template.code, params, row.queued_at)
    return texter(app, sms, read_secret), message


def texter(app: App, sms: SmsSettings, read_secret: SecretReader | None = None) -> Texter:
    """The client of the office's SMS provider (Alibaba Cloud's or Tencent Cloud's), its
    credentials read now; ``TransientError`` when they are not set here."""
    key_id = _secret(sms.access_key_id, read_secret)
    secret = _secret(sms.access_key_secret, read_secret)
    if not key_id or not secret:
        pair = "SecretId and SecretKey" if sms.provider == "tencent" else "AccessKey"
        raise TransientError(f"the SMS {pair} ({sms.access_key_id}, "
                             f"{sms.access_key_secret}) is not set here")
    timeout = app.settings.sendgrid_timeout
    if sms.provider == "tencent":
        return TencentSms(key_id, secret, sms.sdk_app_id, sms.region, sms.endpoint, timeout)
    return AliyunSms(key_id, secret, sms.endpoint, timeout)
