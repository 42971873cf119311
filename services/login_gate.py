"""The staff login's door against guessing: one throttle per account for every connection
together, the same answer for an id nobody has, and a lock after 100 wrong passwords in a
row (NIST SP 800-63B §5.2.2).

Every attempt first takes the account's turn (``storage.access``: its row held until
commit, ``SELECT ... FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite): if the
account's next-allowed instant has not come, or it is locked, the attempt is refused at
once and its password never judged. Otherwise the turn counts the attempt as a wrong
password and moves the next-allowed instant on by its ``hold`` — as if it were to fail —
and commits; only then is the password judged. Parallel guesses queue on the row and find
the turn taken (even among the first, free tries: the count is taken before the verify),
so 24 connections guess no faster than one. A good password clears the count and the hold;
a wrong one is journaled (``access:<person>``) and the ``LOCK_AFTER``-th in a row locks the
account, journaled and alerted to the office (``notifications.alert_to``, else its head),
until an admin unlocks it (``petitions user unlock``) or sets a new password.

Ids that are nobody's get a row of their own and the same treatment, and a dummy argon2
verify (``users._NOBODY``): an outsider learns nothing from the answer, its time, the
throttle or the lock. So that ids tried once do not pile up, the daily checks forget every
row — anyone's or nobody's alike — left alone for ``FORGET_AFTER`` and not locked
(``forget_idle``): a count of wrong passwords that stopped a month ago starts again.

The price: anyone may hold a colleague's login back for the current hold (a minute at most)
by guessing, and lock it with 100 guesses — about an hour and a half of steady guessing,
which the alert tells the office of.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
from dataclasses import dataclass

import pendulum

from domain.events import DomainEvent
from domain.events import EventType as E
from services.bootstrap import App
from storage.access import ThrottleRow
from storage.ports import UnitOfWork

FREE_TRIES = 5    # wrong passwords judged with no hold (typing mistakes)
MAX_HOLD = 60.0   # seconds: the longest hold between two judged attempts
LOCK_AFTER = 100  # wrong passwords in a row that lock the account
ACCOUNT_CHARS = 64
FORGET_AFTER = dt.timedelta(days=30)  # an unlocked throttle row idle this long is dropped
log = logging.getLogger("petitions.access")


def hold(failures: int) -> float:
    """Seconds from one judged attempt to the next after ``failures`` wrong passwords in a
    row: none for the first ``FREE_TRIES``, then 2 s doubling, at most ``MAX_HOLD``."""
    if failures < FREE_TRIES:
        return 0.0
    return min(2.0 ** (failures - FREE_TRIES + 1), MAX_HOLD)


@dataclass(frozen=True)
class Turn:
    """Whether an attempt is judged now: else, how long until one is (``retry_after``,
    whole seconds) or that the account is locked."""

    judged: bool
    retry_after: int = 0
    locked: bool = False
    failures: int = 0  # wrong passwords in a row, this attempt's counted among them


def account_of(typed: str) -> str:
    """The throttle's key for an id as typed (trimmed, at most 64 characters)."""
    return typed.strip()[:ACCOUNT_CHARS]


def take_turn(app: App, account: str) -> Turn:
    """Take ``account``'s turn to have a password judged (see the module)."""
    now = app.clock.now()
    with app.uow() as uow:
        row = uow.access.throttle(account, now)
        if row.locked_at is not None:
            return Turn(False, locked=True)
        if row.next_allowed_at > now:
            wait = (row.next_allowed_at - now).total_seconds()
            return Turn(False, retry_after=max(1, math.ceil(wait)))
        failures = row.failures + 1
        uow.access.set_throttle(dataclasses.replace(
            row, failures=failures,
            next_allowed_at=now + dt.timedelta(seconds=hold(failures))))
        uow.commit()
    return Turn(True, failures=failures)


def judged(app: App, account: str, person: str | None, ok: bool, turn: Turn, *,
           via: str) -> None:
    """Record a judged attempt on ``account`` in its ``turn`` (``person``: whose it is,
    None for an id that is nobody's): a good password clears the count; a wrong one (its
    count taken with the turn) is journaled, and the ``LOCK_AFTER``-th in a row locks the
    account (journaled, alerted)."""
    now = app.clock.now()
    with app.uow() as uow:
        row = uow.access.throttle(account, now)
        if ok:
            uow.access.set_throttle(ThrottleRow(account, 0, now))
            if person is not None:
                uow.access.login_succeeded(person)
            uow.commit()
            return
        failed = turn.failures
        locked = now if failed >= LOCK_AFTER and row.locked_at is None else row.locked_at
        next_at = max(row.next_allowed_at, now + dt.timedelta(seconds=hold(failed)))
        uow.access.set_throttle(dataclasses.replace(row, next_allowed_at=next_at,
                                                    locked_at=locked))
        if person is not None:
            uow.access.login_failed(person, now)
            _journal(uow, person, E.LOGIN_FAILED, person, now, via=via, failed=failed)
            log.warning("wrong password for %s (%d in a row) via %s", person, failed, via)
            if locked == now:
                _lock(app, uow, person, failed, now)
        uow.commit()


def forget_idle(app: App) -> int:
    """Drop the throttle rows idle for ``FORGET_AFTER`` and not locked (see the module):
    how many."""
    with app.uow() as uow:
        gone = uow.access.forget_throttles(app.clock.now() - FORGET_AFTER)
        uow.commit()
    return gone


def _lock(app: App, uow: UnitOfWork, person: str, failed: int, now: dt.datetime) -> None:
    _journal(uow, person, E.ACCOUNT_LOCKED, "login", now, failed=failed)
    log.warning("%s locked after %d wrong passwords in a row", person, failed)
    org = app.office.org
    to = app.office.notify.alert_to or org.office_head or org.mine_head
    if to is None:
        return
    name = org.person(person).name if person in org.people else person
    reason = (f"{name}（{person}）的工作台账号连续{failed}次密码错误，已锁定。"
              f"核实后请用 petitions user unlock {person} 解锁，或为其设置新密码。")
    uow.queue([{"key": f"alert:access:{person}:locked:{now.isoformat()}:{to}",
                "case_id": f"access:{person}", "kind": "alert", "recipient": to,
                "urgent": 1, "queued_at": now,
                "payload": {"at": pendulum.instance(now).isoformat(),
                            "alert": {"code": E.ACCOUNT_LOCKED.value, "ref": "",
                                      "reason": reason}}}])


def unlock(app: App, person: str, *, actor: str) -> bool:
    """Unlock ``person``'s login (and clear its count); whether it was locked. Journaled."""
    app.for_person(person).office.org.person(person)
    now = app.clock.now()
    with app.uow() as uow:
        row = uow.access.throttle(account_of(person), now)
        uow.access.set_throttle(ThrottleRow(row.account, 0, now))
        if row.locked_at is not None:
            _journal(uow, person, E.ACCOUNT_UNLOCKED, actor, now)
        uow.commit()
    return row.locked_at is not None


def cleared(uow: UnitOfWork, person: str, now: dt.datetime, *, actor: str) -> None:
    """A new password clears ``person``'s count and lock (in the caller's unit of work)."""
    row = uow.access.throttle(account_of(person), now)
    uow.access.set_throttle(ThrottleRow(row.account, 0, now))
    if row.locked_at is not None:
        _journal(uow, person, E.ACCOUNT_UNLOCKED, actor, now, by="password")


def _journal(uow: UnitOfWork, person: str, type_: E, actor: str, now: dt.datetime,
             **data: object) -> None:
    subject = f"access:{person}"
    uow.practices.append(subject, "access", [DomainEvent(type_, subject, actor, now,
                                                         "access", data)])
