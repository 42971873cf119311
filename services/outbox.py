"""Delivering the outbox, and queueing the leaders' daily digests. The ``outbox-sender``
flow wraps these in tasks, and ``petitions outbox send`` calls them.

A message was queued in the same transaction as the change that caused it. Delivery claims
it (committed, so a second sender skips it), holds it if quiet hours apply, renders it, sends
it and records the result at once, each message in its own transaction. A transient failure
(5xx, timeout, refused connection) is retried with backoff, honouring Retry-After; a
provider's request to wait (429, a robot's or the SMS service's rate limit) holds the message
without counting a try (for a day at most); a permanent one (other 4xx, no address) goes to
``dead`` with its error, and the office is told.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import pendulum
from jinja2 import TemplateError

from domain.case import Case
from domain.deadlines import due_text, estimate_note, standing
from domain.errors import ConfigError, PetitionError
from domain.instants import format_local, local
from notifications.compose import Barred, address_of, context, digest_row, letters_desk
from notifications.plan import PETITIONER, PETITIONER_SMS
from notifications.privacy import first_allowed
from notifications.quiet import next_allowed
from notifications.render import Renderer
from notifications.settings import EMAIL
from notifications.transports import (
    EmlTransport,
    Envelope,
    Held,
    PermanentError,
    SendGridTransport,
    TransientError,
    Transport,
    Unconfirmed,
)
from services import channels
from services.alerts import alert_recipient
from services.bootstrap import App
from services.config import Office
from services.progress import query_code
from storage.ports import OutboxRow

# Reads a secret kept outside the environment (a Prefect Secret block) by its name.
SecretReader = Callable[[str], str | None]

MAX_ATTEMPTS = 8
ROBOT_TRIES = 3  # failed tries through a robot before the message goes by e-mail
HOLD_LIMIT = dt.timedelta(days=1)  # held by a provider's limits longer: failed tries
log = logging.getLogger(__name__)
URGENT_KINDS = ("breach", "escalation")


def backoff(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min ... capped at 1 h."""
    return dt.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def sendgrid_key(app: App, read_secret: SecretReader | None = None) -> str | None:
    """The SendGrid API key: ``PETITIONS_SENDGRID_API_KEY``, else the secret named by
    ``PETITIONS_SENDGRID_SECRET_BLOCK``, read with ``read_secret`` (Prefect's blocks, which
    only the engine's side reads)."""
    s = app.settings
    if s.sendgrid_api_key is not None and s.sendgrid_api_key.get_secret_value():
        return s.sendgrid_api_key.get_secret_value()
    if s.sendgrid_secret_block:
        if read_secret is None:
            raise ConfigError("the SendGrid key is in a Prefect Secret block, which this "
                              "command cannot read", source="PETITIONS_SENDGRID_SECRET_BLOCK")
        return read_secret(s.sendgrid_secret_block)
    return None


def transport_for(app: App, read_secret: SecretReader | None = None) -> Transport:
    key = sendgrid_key(app, read_secret)
    if key:
        return SendGridTransport(key, host=app.settings.sendgrid_host,
                                 timeout=app.settings.sendgrid_timeout)
    return EmlTransport(app.settings.home / "outbox")


@dataclass
class Report:
    counts: Counter[str]

    def __str__(self) -> str:
        return ", ".join(f"{n} {k}" for k, n in sorted(self.counts.items())) or "nothing due"


class _Undeliverable(Exception):
    pass


def _sender(app: App, row: OutboxRow, case: Case | None) -> Office:
    """The office a message goes out from: its case's, or (a practice's message) the
    recipient's: its letters desk, templates, sender, quiet hours and calendar."""
    return app.office_of(case) if case is not None else app.for_person(row.recipient).office


def _quiet_until(app: App, row: OutboxRow, case: Case | None, now: dt.datetime
                 ) -> dt.datetime:
    """When ``row`` may go out: now, or the end of its office's quiet hours."""
    office = _sender(app, row, case)
    notify = office.notify
    if row.urgent and notify.urgent_bypasses_quiet_hours:
        return now
    return next_allowed(now, notify.quiet, office.calendar)


def _envelope(app: App, row: OutboxRow, case: Case | None,
              renderers: dict[str, Renderer], now: dt.datetime) -> Envelope:
    office = _sender(app, row, case)
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
        raise _Undeliverable(f"no e-mail address for '{row.recipient}'"
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
                  notes=notes)
    if case is not None and row.recipient == PETITIONER:  # 办理进度查询: their code
        ctx["query_code"] = query_code(app, case)
    content = renderer.render(row.kind, ctx)
    subject = content.subject
    if address.letter:  # printed and posted by the office
        subject = ("[待寄送] " if notify.language == "zh" else "[to post] ") + subject
    return Envelope(row.key, address.email, address.name, notify.sender_email,
                    notify.sender_name, subject, content.text, content.html)


def deliver(app: App, transport: Transport | None = None, *, limit: int = 100,
            read_secret: SecretReader | None = None) -> Report:
    """Deliver every message whose time has come. Returns what happened, by outcome.

    Fenced: the batch is claimed under a token of its own, and each message's claim is
    renewed just before it is sent. A message another sender has reclaimed meanwhile (this
    batch took longer than the reclaim window) is left to it, and only the claim's holder
    settles a message: no message goes out twice from two live senders. Whatever goes
    wrong with one message (even a bug, or a secret store that fails) is settled on it:
    none is left claimed to block the next batches."""
    transport = transport or transport_for(app, read_secret)
    renderers: dict[str, Renderer] = {}
    token = uuid.uuid4().hex
    counts: Counter[str] = Counter()
    busy: dict[str, dt.datetime] = {}  # robots that asked us to wait, in this batch
    with app.uow() as uow:
        claimed = uow.claim_messages(app.clock.now(), limit, token)
        uow.commit()
    for row in claimed:
        now = app.clock.now()
        with app.uow() as uow:
            held = uow.renew_claim(row.id, token, now)
            uow.commit()
        if not held:
            counts["overtaken"] += 1  # another sender reclaimed it: theirs to send
            continue
        try:
            case = _case(app, row.case_id)
            allowed = _quiet_until(app, row, case, now)
            if allowed > now:
                _settle(app, row.id, token, status="queued", next_attempt_at=allowed,
                        note=f"held for quiet hours until {format_local(allowed)}")
                counts["held"] += 1
                continue
            ref, way = _send(app, row, case, transport, renderers, now, read_secret, busy)
        except _Busy as e:
            _settle(app, row.id, token, status="queued", next_attempt_at=e.until, note=e.why)
            counts["held"] += 1
        except Held as e:
            if row.queued_at + HOLD_LIMIT <= now:  # held a day: a failed try from now on
                counts[_retry(app, row, token, e, now)] += 1
                continue
            wait = dt.timedelta(seconds=e.retry_after if e.retry_after is not None else 60)
            _settle(app, row.id, token, status="queued", error=str(e)[:2000],
                    next_attempt_at=now + wait, note=f"held {wait}: the provider's limit")
            counts["held"] += 1
        except TransientError as e:
            counts[_retry(app, row, token, e, now)] += 1
        except (PermanentError, Unconfirmed, _Undeliverable, Barred, PetitionError,
                TemplateError) as e:
            _dead(app, row, token, row.attempts + 1, str(e), now)
            counts["dead"] += 1
        except Exception as e:  # settled as a failed try, never left claimed
            log.exception("outbox message %s failed unexpectedly", row.id)
            what = TransientError(f"unexpected {type(e).__name__}: {str(e)[:300]}")
            counts[_retry(app, row, token, what, now)] += 1
        else:
            _settle(app, row.id, token, status="sent", attempts=row.attempts + 1,
                    sent_at=now, ref=ref, error=None, note=way.why, channel=way.channel)
            counts["sent"] += 1
    return Report(counts)


class _Busy(Exception):
    """A robot took its ``per_minute`` (or asked us to wait): held until ``until``."""

    def __init__(self, until: dt.datetime, why: str) -> None:
        super().__init__(why)
        self.until, self.why = until, why


def _send(app: App, row: OutboxRow, case: Case | None, transport: Transport,
          renderers: dict[str, Renderer], now: dt.datetime,
          read_secret: SecretReader | None, busy: dict[str, dt.datetime]
          ) -> tuple[str, channels.Route]:
    """Send ``row`` by its channel: where it went and how. A robot that refuses it, or does
    not answer (it may have posted it: not posted again), or fails ``ROBOT_TRIES`` times,
    gives way to e-mail, the row saying why."""
    office = _sender(app, row, case)
    if row.recipient == PETITIONER_SMS:
        texter, text = channels.text_message(app, office, row, case, read_secret)
        return texter.send(text, tried=row.attempts > 0), channels.Route("sms")
    way = channels.route(app, office, row, case, read_secret)
    if way.robot is None:
        return transport.send(_envelope(app, row, case, renderers, now)), way
    robot = way.robot
    until = busy.get(robot.id)
    if until is None:
        with app.uow() as uow:
            until = channels.held_until(uow, robot, now)
    if until is not None and until > now:
        raise _Busy(until, f"held: robot {robot.id} took its {robot.per_minute} this minute"
                    if robot.id not in busy else f"held: robot {robot.id} asked to wait")
    try:
        return channels.robot_for(way, app.settings.sendgrid_timeout).send(
            channels.robot_message(app, row, case)), way
    except Held as e:
        busy[robot.id] = now + dt.timedelta(seconds=e.retry_after or 60)
        raise
    except (PermanentError, Unconfirmed) as e:
        why = f"by e-mail: robot {robot.id}: {e}"
    except TransientError as e:
        if row.attempts + 1 < ROBOT_TRIES:
            raise
        why = f"by e-mail after {row.attempts + 1} tries: robot {robot.id}: {e}"
    log.warning("outbox message %s: %s", row.id, why)
    return (transport.send(_envelope(app, row, case, renderers, now)),
            channels.Route(EMAIL, why=why))


def _retry(app: App, row: OutboxRow, token: str, e: TransientError, now: dt.datetime) -> str:
    """A failed try: again after a backoff (or the provider's Retry-After), or, after
    ``MAX_ATTEMPTS``, a dead letter. Returns the outcome's name."""
    attempts = row.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        _dead(app, row, token, attempts, f"gave up after {attempts} attempts: {e}", now)
        return "dead"
    wait = dt.timedelta(seconds=e.retry_after) if e.retry_after is not None \
        else backoff(attempts)
    _settle(app, row.id, token, status="queued", attempts=attempts, error=str(e)[:2000],
            next_attempt_at=now + wait, note=f"retry {attempts} after {wait}")
    return "retrying"


def _is_case(subject: str) -> bool:
    """A message is about a case, or (a digest, a practice's journal: ``reception:…``)
    about none."""
    return bool(subject) and ":" not in subject


def _case(app: App, case_id: str) -> Case | None:
    if not _is_case(case_id):
        return None
    with app.uow() as uow:
        return uow.cases.get(case_id, lock=False)


def _settle(app: App, message_id: int, token: str, **values: object) -> None:
    if values.get("note") is not None:
        values["note"] = str(values["note"])[:200]  # outbox.note's size
    with app.uow() as uow:
        uow.settle_message(message_id, token, **values)
        uow.commit()


def _dead(app: App, row: OutboxRow, token: str, attempts: int, error: str,
          now: dt.datetime) -> None:
    """A dead letter, and (unless it is itself an alert) a message to the office about it:
    to ``alert_to``, or, where that person may not be told of the case (an accusation
    against them), the office's head, the confidential letters desk, the mine head or the
    party secretary, whoever first may."""
    with app.uow() as uow:
        if not uow.settle_message(row.id, token, status="dead", attempts=attempts,
                                  error=error[:2000], note="not delivered: see error"):
            return  # another sender holds it now
        case = uow.cases.get(row.case_id, lock=False) if _is_case(row.case_id) else None
        alert_to = alert_recipient(app, case)
        if alert_to and row.kind != "dead_letter":
            uow.queue([{"key": f"dead:{row.key}", "case_id": row.case_id, "kind": "dead_letter",
                        "recipient": alert_to, "urgent": 1, "queued_at": now,
                        "payload": {"at": pendulum.instance(now).isoformat(), "failed": {
                            "kind": row.kind, "recipient": row.recipient,
                            "ref": case.ref if case else row.case_id,
                            "error": error[:300]}}}])
        uow.commit()


def queue_digests(app: App) -> int:
    """Each owning leader's daily digest of their open cases, once a working day after
    ``digest_at`` (local time). Returns how many were queued."""
    notify = app.office.notify
    now = app.clock.now()
    today = local(now)
    if not app.office.calendar.is_working_day(today.date()) or today.time() < notify.digest_at:
        return 0
    day = today.format("YYYY-MM-DD")
    with app.uow() as uow:
        cases = uow.open_cases()
        by_leader: dict[str, list[Case]] = {}
        for case in cases:
            if first_allowed(case, app.office_of(case).org, [case.leader]):  # not the accused
                by_leader.setdefault(str(case.leader), []).append(case)
        rows = []
        for leader, owned in sorted(by_leader.items()):
            key = f"digest:{leader}:{day}"
            if uow.has_message(key):
                continue
            rows.append({"key": key, "case_id": "", "kind": "digest", "recipient": leader,
                         "urgent": 0, "queued_at": now,
                         "payload": {"at": pendulum.instance(now).isoformat(), "rows": [
                             digest_row(c, standing(c.deadlines(app.rules_for(c), now)),
                                        app.office.notify.language)
                             for c in owned]}})
        queued = uow.queue(rows)
        uow.commit()
    return queued
