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
import functools
import logging
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import pendulum
from jinja2 import TemplateError

from domain.case import Case
from domain.deadlines import standing
from domain.errors import ConfigError, PetitionError
from domain.instants import format_local, local
from notifications.compose import Barred, digest_row
from notifications.privacy import first_allowed
from notifications.render import Renderer
from notifications.transports import (
    EmlTransport,
    Held,
    PermanentError,
    SendGridTransport,
    TransientError,
    Transport,
    Unconfirmed,
)
from services.alerts import alert_recipient
from services.bootstrap import App
from services.channels import SecretReader
from services.sending import Busy, Undeliverable, quiet_until, send
from storage.ports import OutboxRow

MAX_ATTEMPTS = 8
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


def deliver(app: App, transport: Transport | None = None, *, limit: int = 100,
            read_secret: SecretReader | None = None, keys: Sequence[str] | None = None
            ) -> Report:
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
        claimed = uow.claim_messages(app.clock.now(), limit, token, keys=keys)
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
            allowed = quiet_until(app, row, case, now)
            if allowed > now:
                _settle(app, row.id, token, status="queued", next_attempt_at=allowed,
                        note=f"held for quiet hours until {format_local(allowed)}")
                counts["held"] += 1
                continue
            ref, way = send(app, row, case, transport, renderers, now, read_secret, busy,
                            functools.partial(_settle, app, row.id, token))
        except Busy as e:
            _settle(app, row.id, token, status="queued", next_attempt_at=e.until, note=e.why,
                    held_since=row.held_since or now, ref=None)
            counts["held"] += 1
        except Held as e:
            since = row.held_since or now
            if since + HOLD_LIMIT <= now:  # held a day: a failed try from now on
                counts[_retry(app, row, token, e, now)] += 1
                continue
            wait = dt.timedelta(seconds=e.retry_after if e.retry_after is not None else 60)
            _settle(app, row.id, token, status="queued", error=str(e)[:2000], ref=None,
                    held_since=since, next_attempt_at=now + wait,
                    note=f"held {wait}: the provider's limit")
            counts["held"] += 1
        except TransientError as e:
            counts[_retry(app, row, token, e, now)] += 1
        except (PermanentError, Unconfirmed, Undeliverable, Barred, PetitionError,
                TemplateError) as e:  # (Unconfirmed: no transport of ours is resent blind)
            _dead(app, row, token, row.attempts + 1, str(e), now)
            counts["dead"] += 1
        except Exception as e:  # settled as a failed try, never left claimed
            log.exception("outbox message %s failed unexpectedly", row.id)
            what = TransientError(f"unexpected {type(e).__name__}: {str(e)[:300]}")
            counts[_retry(app, row, token, what, now)] += 1
        else:
            _settle(app, row.id, token, status="sent", attempts=row.attempts + 1,
                    sent_at=now, ref=ref, error=None, note=way.why, channel=way.channel,
                    held_since=None)
            counts["sent"] += 1
    return Report(counts)


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
            next_attempt_at=now + wait, note=f"retry {attempts} after {wait}", ref=None)
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
