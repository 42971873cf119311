"""Who may log in to the workplace, and the other systems that may call its API.

Every person in the org chart may log in once a password is set (``petitions user
set-password``): argon2 hashes (argon2-cffi), a minimum length, and wrong passwords
throttled per account across every connection, journaled, and locked after 100 in a row
(``services.login_gate``). An API
token (``petitions token create NAME --as ID``) acts as one person; only the SHA-256 of its
random secret is kept, and it can be revoked. Every change is an event of the journal
``access:<person>`` or ``access:token:<name>``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from domain.errors import ConfigError, NotPermitted, RuleViolation
from domain.events import DomainEvent
from domain.events import EventType as E
from domain.instants import format_local
from domain.text import check_text
from services.bootstrap import App
from services.login_gate import account_of, cleared, judged, take_turn
from storage.ports import UnitOfWork

MIN_PASSWORD = 10
_HASHER = PasswordHasher()
# Verified when the person has no password, so that a wrong name costs what a wrong
# password costs (no telling which names exist by the time it takes).
_NOBODY = _HASHER.hash(secrets.token_hex(16))
_TOKEN_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")


def _journal(uow: UnitOfWork, subject: str, type_: E, actor: str, now: dt.datetime,
             **data: object) -> None:
    uow.practices.append(subject, "access", [DomainEvent(type_, subject, actor, now,
                                                         "access", data)])


def set_password(app: App, person: str, password: str, *, actor: str) -> None:
    """Set ``person``'s password (who set it is journaled, never the password)."""
    app.for_person(person).office.org.person(person)
    check_text(password, "password", limit=256)
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"a password has at least {MIN_PASSWORD} characters",
                          field="password")
    now = app.clock.now()
    with app.uow() as uow:
        uow.access.set_password(person, _HASHER.hash(password), now)
        _journal(uow, f"access:{person}", E.PASSWORD_SET, actor, now)
        cleared(uow, person, now, actor=actor)  # a new password ends a lock
        uow.commit()


@dataclass(frozen=True)
class Login:
    """An attempt's outcome: who is logged in (None: refused); when refused unjudged, the
    whole seconds until the account's next judged attempt, or that it is locked."""

    person: str | None
    retry_after: int = 0
    locked: bool = False


def log_in(app: App, typed: str, password: str, *, via: str) -> Login:
    """Log in as the id ``typed`` with ``password``: judged only in the account's turn
    (``services.login_gate``); an id that is nobody's, or without a password, is judged
    against a dummy hash, so its answer and its time are a wrong password's."""
    account = account_of(typed)
    turn = take_turn(app, account)
    if not turn.judged:
        return Login(None, turn.retry_after, turn.locked)
    known = app.person(account) is not None
    with app.uow() as uow:
        user = uow.access.user(account)
    ok = verify(user.password_hash if known and user else _NOBODY, password) \
        and known and user is not None
    judged(app, account, account if known else None, ok, turn, via=via)
    return Login(account if ok else None)


def verify(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches the argon2 ``password_hash``."""
    try:
        return bool(_HASHER.verify(password_hash, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def session_epoch(app: App, person: str) -> int | None:
    """The epoch of ``person``'s sessions (a session of another one has ended: a logout or
    a new password since); None for one without a login."""
    with app.uow() as uow:
        user = uow.access.user(person)
    return user.session_epoch if user is not None else None


def end_sessions(app: App, person: str) -> None:
    """End every session of ``person``'s, wherever it was opened (a logout)."""
    with app.uow() as uow:
        uow.access.end_sessions(person)
        uow.commit()


def create_token(app: App, name: str, person: str, *, actor: str) -> str:
    """A new API token ``name`` acting as ``person``: the secret is returned once
    (``<name>.<secret>``) and only its SHA-256 is kept."""
    if not _TOKEN_NAME.match(name):
        raise ConfigError("a token name is 2-63 lower-case letters, digits, '.', '_' or "
                          f"'-', got {name!r}", field="name")
    app.for_person(person).office.org.person(person)
    secret = secrets.token_urlsafe(32)
    now = app.clock.now()
    with app.uow() as uow:
        if uow.access.token(name) is not None:
            raise RuleViolation(f"token:{name}", "a token of that name exists (revoked "
                                "ones too: choose another name)")
        uow.access.add_token(name, person, _digest(secret), now)
        _journal(uow, f"access:token:{name}", E.TOKEN_CREATED, actor, now, acts_as=person)
        uow.commit()
    return f"{name}.{secret}"


def revoke_token(app: App, name: str, *, actor: str) -> None:
    now = app.clock.now()
    with app.uow() as uow:
        if not uow.access.revoke_token(name, now):
            raise RuleViolation(f"token:{name}", "no such token in force")
        _journal(uow, f"access:token:{name}", E.TOKEN_REVOKED, actor, now)
        uow.commit()


@dataclass(frozen=True)
class Caller:
    """Who an API request acts as, and through which token."""

    person: str
    token: str


def authenticate_token(app: App, presented: str) -> Caller:
    """The caller a presented token stands for; ``NotPermitted`` for anything else."""
    name, _, secret = presented.rpartition(".")  # a name may hold dots, a secret none
    with app.uow() as uow:
        row = uow.access.token(name) if name and secret else None
    if row is None or row.revoked_at is not None or not hmac.compare_digest(
            row.token_hash, _digest(secret)):
        raise NotPermitted("api", "no valid token")
    return Caller(row.person_id, row.name)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_rows(app: App) -> list[dict[str, str | None]]:
    """Every API token: its name, whom it acts as, when made and revoked (no secret)."""
    with app.uow() as uow:
        rows = uow.access.tokens()
    return [{"name": t.name, "acts_as": t.person_id, "created_at": t.created_at.isoformat(),
             "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None} for t in rows]


def login_rows(app: App) -> list[dict[str, str | int | None]]:
    """Everyone who has a password: when it was set, their wrong passwords in a row and the
    last one, and whether the login is locked (``login_gate``) — what an office admin
    reads before ``petitions user unlock``."""
    with app.uow() as uow:
        rows = uow.access.users()
        throttles = uow.access.throttle_rows([account_of(u.person_id) for u in rows])
    out: list[dict[str, str | int | None]] = []
    for u in rows:
        who = app.person(u.person_id)
        t = throttles.get(account_of(u.person_id))  # the count the hold and the lock run on
        out.append({"person": u.person_id, "name": who.name if who else "（已不在组织架构中）",
                    "password_set": format_local(u.updated_at),
                    "wrong_in_a_row": t.failures if t else 0,
                    "last_wrong": format_local(u.last_failed_at)
                    if u.last_failed_at and t and t.failures else None,
                    "locked_since": format_local(t.locked_at) if t and t.locked_at else None})
    return out
