"""How one outbox message is sent by its channel (``services/outbox.py`` claims, settles
and retries them): by e-mail (SendGrid or ``.eml``), through a group robot, or by SMS.

A robot that refuses a message, takes a request without answering (it may have posted it,
and a robot takes no idempotency key), fails ``ROBOT_TRIES`` times, or keeps it waiting
past ``ROBOT_HOLD`` gives way to e-mail; the row is marked so before the e-mail is tried,
so a later try never posts it to the group again. A send that may have gone out without
its answer (a robot's post, an SMS) is marked pending on its row first: a sender that dies
mid-send leaves the mark, and the next try treats it as a try without an answer.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from domain.case import Case
from domain.deadlines import due_text, estimate_note
from notifications.compose import address_of, context, letters_desk
from notifications.plan import PETITIONER, PETITIONER_SMS
from notifications.quiet import next_allowed
from notifications.render import Renderer
from notifications.settings import EMAIL
from notifications.transports import (
    Envelope,
    Held,
    PermanentError,
    TransientError,
    Transport,
    Unconfirmed,
)
from services import channels
from services.bootstrap import App
from services.channels import SecretReader
from services.config import Office
from services.progress import query_code
from storage.ports import OutboxRow

Mark = Callable[..., None]  # records values on the claimed row at once (its own commit)

ROBOT_TRIES = 3  # failed tries through a robot before the message goes by e-mail
ROBOT_HOLD = dt.timedelta(minutes=15)  # held by a robot longer: by e-mail instead
PENDING = "pending:"  # a row's ref while a send that may not answer is under way
log = logging.getLogger(__name__)


class Busy(Exception):
    """A robot took its ``per_minute``, or asked us to wait: held until ``until``."""

    def __init__(self, until: dt.datetime, why: str) -> None:
        super().__init__(why)
        self.until, self.why = until, why


class Undeliverable(Exception):
    """No way to reach the recipient (no address, nor a letters desk who may have it)."""


def sender(app: App, row: OutboxRow, case: Case | None) -> Office:
    """The office a message goes out from: its case's, or (a practice's message) the
    recipient's: its letters desk, templates, sender, quiet hours and calendar."""
    return app.office_of(case) if case is not None else app.for_person(row.recipient).office


def quiet_until(app: App, row: OutboxRow, case: Case | None, now: dt.datetime
                ) -> dt.datetime:
    """When ``row`` may go out: now, or the end of its office's quiet hours."""
    office = sender(app, row, case)
    notify = office.notify
    if row.urgent and notify.urgent_bypasses_quiet_hours:
        return now
    return next_allowed(now, notify.quiet, office.calendar)


def envelope(app: App, row: OutboxRow, case: Case | None,
             renderers: dict[str, Renderer], now: dt.datetime) -> Envelope:
    office = sender(app, row, case)
    notify = office.notify
    renderer = renderers.get(office.id)
    if renderer is None:
        renderer = renderers[office.id] = Renderer(notify.language, office.templates)
    # The case's rules' chart: it holds whom an escalation past the top reaches above.
    org = app.rules_for(case).org if case is not None else office.org
    desk = letters_desk(case, org, notify.letters_to, notify.confidential_letters_to,
                        office.routing.accusation_unit) if case is not None else None
    address = address_of(row.recipient, case, org, desk)
    if not address.email:
        raise Undeliverable(f"no e-mail address for '{row.recipient}'"
                            + (" (nor a letters desk who may have it: notifications."
                               "letters_to, confidential_letters_to)"
                               if address.letter else ""))
    deadlines: dict[str, str] = {}
    notes: dict[str, str] = {}
    if case is not None:
        views = case.deadlines(app.rules_for(case), now)
        deadlines = {v.kind.value: due_text(v) for v in views}
        notes = {v.kind.value: estimate_note(v, notify.language) for v in views}
    ctx = context(row.kind, row.recipient, row.payload, case, org, office=office.name,
                  language=notify.language, to_name=address.name, deadlines=deadlines,
                  notes=notes, web=app.settings.web_base_url or "")
    if case is not None and row.recipient == PETITIONER:  # 办理进度查询: their code
        ctx["query_code"] = query_code(app, case)
    content = renderer.render(row.kind, ctx)
    subject = content.subject
    if address.letter:  # printed and posted by the office
        subject = ("[待寄送] " if notify.language == "zh" else "[to post] ") + subject
    return Envelope(row.key, address.email, address.name, notify.sender_email,
                    notify.sender_name, subject, content.text, content.html)


def send(app: App, row: OutboxRow, case: Case | None, transport: Transport,
         renderers: dict[str, Renderer], now: dt.datetime, read_secret: SecretReader | None,
         busy: dict[str, dt.datetime], mark: Mark) -> tuple[str, channels.Route]:
    """Send ``row`` by its channel: where it went and how (see the module)."""
    office = sender(app, row, case)
    if row.recipient == PETITIONER_SMS:
        texter, text = channels.text_message(app, office, row, case, read_secret)
        tried = row.attempts > 0 or (row.ref or "").startswith(PENDING)
        mark(ref=f"{PENDING}sms")
        return texter.send(text, tried=tried), channels.Route("sms")
    if row.channel == EMAIL:  # a robot gave way to e-mail on an earlier try
        return (transport.send(envelope(app, row, case, renderers, now)),
                channels.Route(EMAIL, why=row.note if (row.note or "").startswith("by e-mail")
                               else "by e-mail: the robot gave way on an earlier try"))
    way = channels.route(app, office, row, case, read_secret)
    if way.robot is None:
        return transport.send(envelope(app, row, case, renderers, now)), way
    ref, instead = _post(app, row, case, way, now, busy, mark)
    if ref is not None:
        return ref, way
    why = instead or "by e-mail"
    log.warning("outbox message %s: %s", row.id, why)
    mark(channel=EMAIL, note=why, ref=None)  # never through the robot again
    return (transport.send(envelope(app, row, case, renderers, now)),
            channels.Route(EMAIL, why=why))


def _post(app: App, row: OutboxRow, case: Case | None, way: channels.Route,
          now: dt.datetime, busy: dict[str, dt.datetime], mark: Mark
          ) -> tuple[str | None, str | None]:
    """Post ``row`` through its robot: the provider's reference, or (None, why) it goes by
    e-mail instead; ``Busy`` or ``Held`` while it is to wait, ``TransientError`` for a
    failed try that may be tried again."""
    robot = way.robot
    assert robot is not None
    if (row.ref or "").startswith(PENDING):  # a sender died mid-post: it may be there
        return None, f"by e-mail: an earlier post to robot {robot.id} got no answer"
    waited = now - row.held_since if row.held_since is not None else dt.timedelta(0)
    until = busy.get(robot.id)
    why = f"held: robot {robot.id} asked to wait"
    if until is None or until <= now:
        with app.uow() as uow:
            until = channels.held_until(uow, robot, now)
        why = f"held: robot {robot.id} took its {robot.per_minute} this minute"
    if until is not None and until > now:
        if waited >= ROBOT_HOLD:
            return None, f"by e-mail: robot {robot.id} kept it waiting {waited}"
        raise Busy(until, why)
    mark(ref=f"{PENDING}{robot.id}")
    try:
        return channels.robot_for(way, app.settings.sendgrid_timeout).send(
            channels.robot_message(app, row, case)), None
    except Held as e:
        if waited >= ROBOT_HOLD:
            return None, f"by e-mail: robot {robot.id} kept it waiting {waited}: {e}"
        busy[robot.id] = now + dt.timedelta(seconds=e.retry_after or 60)
        raise
    except (PermanentError, Unconfirmed) as e:
        return None, f"by e-mail: robot {robot.id}: {e}"
    except TransientError as e:
        if row.attempts + 1 < ROBOT_TRIES:
            raise
        return None, f"by e-mail after {row.attempts + 1} tries: robot {robot.id}: {e}"
