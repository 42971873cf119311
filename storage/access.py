"""Logins, their throttle and API tokens: in SQL (``SqlAccess``) and in the in-memory
store's data (``MemoryAccess``, for the use-case tests), keeping one contract
(``AccessStore``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from storage.tables import api_tokens, login_throttle, users


@dataclass(frozen=True)
class UserRow:
    person_id: str
    password_hash: str
    updated_at: dt.datetime
    failed_logins: int
    last_failed_at: dt.datetime | None
    session_epoch: int = 0  # raised by a logout or a new password: older sessions end


@dataclass(frozen=True)
class TokenRow:
    name: str
    person_id: str
    token_hash: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


@dataclass(frozen=True)
class ThrottleRow:
    """One id's login throttle: wrong passwords in a row, the next instant an attempt is
    judged (UTC), and when the account was locked (None: not locked)."""

    account: str
    failures: int
    next_allowed_at: dt.datetime
    locked_at: dt.datetime | None = None


class AccessStore(Protocol):
    """Logins, their throttle and API tokens."""

    def user(self, person_id: str) -> UserRow | None: ...
    def set_password(self, person_id: str, password_hash: str, at: dt.datetime) -> None: ...
    def login_failed(self, person_id: str, at: dt.datetime) -> None: ...
    def login_succeeded(self, person_id: str) -> None: ...
    def end_sessions(self, person_id: str) -> None: ...
    def throttle(self, account: str, now: dt.datetime) -> ThrottleRow:
        """``account``'s throttle row (made if missing), held until commit: every other
        attempt on it waits (``SELECT ... FOR UPDATE``; SQLite's ``BEGIN IMMEDIATE``)."""

    def set_throttle(self, row: ThrottleRow) -> None: ...
    def forget_throttles(self, idle_before: dt.datetime) -> int: ...
    def throttle_rows(self, accounts: list[str]) -> dict[str, ThrottleRow]: ...
    def users(self) -> list[UserRow]: ...
    def add_token(self, name: str, person_id: str, token_hash: str, at: dt.datetime) -> None: ...
    def token(self, name: str) -> TokenRow | None: ...
    def tokens(self) -> list[TokenRow]: ...
    def revoke_token(self, name: str, at: dt.datetime) -> bool: ...


class SqlAccess:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def user(self, person_id: str) -> UserRow | None:
        row = self.conn.execute(select(users).where(users.c.person_id == person_id)).first()
        return UserRow(**row._mapping) if row is not None else None

    def set_password(self, person_id: str, password_hash: str, at: dt.datetime) -> None:
        values = {"password_hash": password_hash, "updated_at": at, "failed_logins": 0,
                  "last_failed_at": None}
        done = self.conn.execute(update(users).where(users.c.person_id == person_id)
                                 .values(session_epoch=users.c.session_epoch + 1, **values))
        if done.rowcount == 0:
            self.conn.execute(insert(users).values(person_id=person_id, **values))

    def login_failed(self, person_id: str, at: dt.datetime) -> None:
        self.conn.execute(update(users).where(users.c.person_id == person_id).values(
            failed_logins=users.c.failed_logins + 1, last_failed_at=at))

    def login_succeeded(self, person_id: str) -> None:
        self.conn.execute(update(users).where(users.c.person_id == person_id)
                          .values(failed_logins=0))

    def end_sessions(self, person_id: str) -> None:
        self.conn.execute(update(users).where(users.c.person_id == person_id)
                          .values(session_epoch=users.c.session_epoch + 1))

    def throttle(self, account: str, now: dt.datetime) -> ThrottleRow:
        t = login_throttle
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        for _ in range(3):  # the daily checks may forget the row between the two statements
            self.conn.execute(dialect.insert(t).values(account=account, failures=0,
                                                       next_allowed_at=now)
                              .on_conflict_do_nothing())
            row = self.conn.execute(select(t).where(t.c.account == account)
                                    .with_for_update()).first()
            if row is not None:
                return ThrottleRow(**row._mapping)
        raise RuntimeError(f"login throttle row for {account!r} vanished three times")

    def set_throttle(self, row: ThrottleRow) -> None:
        self.conn.execute(update(login_throttle).where(
            login_throttle.c.account == row.account).values(
            failures=row.failures, next_allowed_at=row.next_allowed_at,
            locked_at=row.locked_at))

    def forget_throttles(self, idle_before: dt.datetime) -> int:
        t = login_throttle
        done = self.conn.execute(delete(t).where(t.c.locked_at.is_(None),
                                                 t.c.next_allowed_at < idle_before))
        return int(done.rowcount or 0)

    def throttle_rows(self, accounts: list[str]) -> dict[str, ThrottleRow]:
        t = login_throttle
        return {r.account: ThrottleRow(**r._mapping) for r in self.conn.execute(
            select(t).where(t.c.account.in_(accounts)))}

    def users(self) -> list[UserRow]:
        return [UserRow(**r._mapping) for r in self.conn.execute(
            select(users).order_by(users.c.person_id))]

    def add_token(self, name: str, person_id: str, token_hash: str, at: dt.datetime) -> None:
        self.conn.execute(insert(api_tokens).values(name=name, person_id=person_id,
                                                    token_hash=token_hash, created_at=at))

    def token(self, name: str) -> TokenRow | None:
        row = self.conn.execute(select(api_tokens).where(api_tokens.c.name == name)).first()
        return TokenRow(**row._mapping) if row is not None else None

    def tokens(self) -> list[TokenRow]:
        return [TokenRow(**r._mapping) for r in self.conn.execute(
            select(api_tokens).order_by(api_tokens.c.created_at))]

    def revoke_token(self, name: str, at: dt.datetime) -> bool:
        done = self.conn.execute(update(api_tokens).where(
            api_tokens.c.name == name, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at))
        return bool(done.rowcount == 1)


class AccessData(Protocol):
    users: dict[str, UserRow]
    tokens: dict[str, TokenRow]
    throttle: dict[str, ThrottleRow]


class MemoryAccess:
    def __init__(self, data: AccessData) -> None:
        self.data = data

    def user(self, person_id: str) -> UserRow | None:
        return self.data.users.get(person_id)

    def set_password(self, person_id: str, password_hash: str, at: dt.datetime) -> None:
        old = self.data.users.get(person_id)
        self.data.users[person_id] = UserRow(person_id, password_hash, at, 0, None,
                                             old.session_epoch + 1 if old else 0)

    def login_failed(self, person_id: str, at: dt.datetime) -> None:
        u = self.data.users.get(person_id)
        if u is not None:
            self.data.users[person_id] = dataclasses.replace(
                u, failed_logins=u.failed_logins + 1, last_failed_at=at)

    def login_succeeded(self, person_id: str) -> None:
        u = self.data.users.get(person_id)
        if u is not None:
            self.data.users[person_id] = dataclasses.replace(u, failed_logins=0)

    def end_sessions(self, person_id: str) -> None:
        u = self.data.users.get(person_id)
        if u is not None:
            self.data.users[person_id] = dataclasses.replace(
                u, session_epoch=u.session_epoch + 1)

    def throttle(self, account: str, now: dt.datetime) -> ThrottleRow:
        return self.data.throttle.setdefault(account, ThrottleRow(account, 0, now))

    def set_throttle(self, row: ThrottleRow) -> None:
        self.data.throttle[row.account] = row

    def forget_throttles(self, idle_before: dt.datetime) -> int:
        idle = [k for k, r in self.data.throttle.items()
                if r.locked_at is None and r.next_allowed_at < idle_before]
        for k in idle:
            del self.data.throttle[k]
        return len(idle)

    def throttle_rows(self, accounts: list[str]) -> dict[str, ThrottleRow]:
        return {k: r for k, r in self.data.throttle.items() if k in accounts}

    def users(self) -> list[UserRow]:
        return [self.data.users[k] for k in sorted(self.data.users)]

    def add_token(self, name: str, person_id: str, token_hash: str, at: dt.datetime) -> None:
        if name in self.data.tokens:
            raise ValueError(f"token '{name}' exists")
        self.data.tokens[name] = TokenRow(name, person_id, token_hash, at, None)

    def token(self, name: str) -> TokenRow | None:
        return self.data.tokens.get(name)

    def tokens(self) -> list[TokenRow]:
        return sorted(self.data.tokens.values(), key=lambda t: t.created_at)

    def revoke_token(self, name: str, at: dt.datetime) -> bool:
        t = self.data.tokens.get(name)
        if t is None or t.revoked_at is not None:
            return False
        self.data.tokens[name] = dataclasses.replace(t, revoked_at=at)
        return True
