"""The staff login's door as an outsider tries it, on SQLite and PostgreSQL: parallel
guesses share one turn per account, an id nobody has is answered as a wrong password is,
and 100 wrong passwords in a row lock the account (journaled, alerted) until an admin
unlocks it or sets a new password."""

from __future__ import annotations

import email
import email.header
import threading
from typing import Any

import pendulum
import pytest

from notifications.transports import EmlTransport
from services import login_gate, users
from services.bootstrap import sql_app
from services.clock import FixedClock
from services.outbox import deliver
from services.settings import Settings
from tests.conftest import SAMPLE_OFFICE

PASSWORD = "correct-horse-7"
WRONG = "guess-guess-1"


@pytest.fixture
def door(office, engine, tmp_path):  # type: ignore[no-untyped-def]
    clock = FixedClock(pendulum.datetime(2026, 11, 20, 3, 0))
    app = sql_app(Settings(home=tmp_path, config_dir=SAMPLE_OFFICE), office, clock, engine)
    users.set_password(app, "lin.na", PASSWORD, actor="test")
    return app, clock


def failures(app: Any, account: str) -> int:
    with app.uow() as uow:
        return uow.access.throttle(account, app.clock.now()).failures


def events(app: Any, person: str) -> list[str]:
    with app.uow() as uow:
        return [str(e.type) for e in uow.practices.events(f"access:{person}")]


def test_the_first_wrong_passwords_are_judged_then_each_waits_its_turn(door):
    app, clock = door
    for _ in range(login_gate.FREE_TRIES):
        assert users.log_in(app, "lin.na", WRONG, via="test") == users.Login(None)
    refused = users.log_in(app, "lin.na", PASSWORD, via="test")  # not judged: too soon
    assert refused.person is None and refused.retry_after == 2
    assert failures(app, "lin.na") == login_gate.FREE_TRIES
    clock.advance(seconds=2)
    assert users.log_in(app, "lin.na", PASSWORD, via="test").person == "lin.na"
    assert failures(app, "lin.na") == 0
    assert events(app, "lin.na").count("LoginFailed") == login_gate.FREE_TRIES


def guess_at_once(app: Any, who: str, connections: int = 24) -> list[users.Login]:
    """``connections`` threads guessing ``who``'s password at the same moment."""
    start = threading.Barrier(connections)
    outcomes: list[users.Login] = []

    def guess() -> None:
        start.wait(timeout=60)
        outcomes.append(users.log_in(app, who, WRONG, via="test"))

    threads = [threading.Thread(target=guess) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert len(outcomes) == connections
    return outcomes


@pytest.mark.parametrize("who", ["lin.na", "no.such.person"])
def test_parallel_guesses_share_one_turn_per_account(door, who):
    app, clock = door
    for _ in range(login_gate.FREE_TRIES):
        users.log_in(app, who, WRONG, via="test")
    clock.advance(seconds=login_gate.MAX_HOLD)  # the account's turn has come: once
    outcomes = guess_at_once(app, who)
    judged = [o for o in outcomes if o.retry_after == 0]
    assert len(judged) == 1, outcomes  # whichever connection came first; none other
    assert failures(app, who) == login_gate.FREE_TRIES + 1
    assert {o.retry_after for o in outcomes if o not in judged} == {4}


def test_parallel_guesses_do_not_multiply_the_free_tries(door):
    app, _ = door
    outcomes = guess_at_once(app, "lin.na")
    assert len([o for o in outcomes if o.retry_after == 0]) == login_gate.FREE_TRIES
    assert events(app, "lin.na").count("LoginFailed") == login_gate.FREE_TRIES


def test_an_id_nobody_has_is_answered_as_a_wrong_password_after_a_real_verify(
        door, monkeypatch):
    app, _ = door
    seen: list[str] = []
    real = users.verify

    def spy(password_hash: str, password: str) -> bool:
        seen.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(users, "verify", spy)
    assert users.log_in(app, "no.such.person", PASSWORD, via="test") == users.Login(None)
    assert users.log_in(app, "lin.na", WRONG, via="test") == users.Login(None)
    assert seen[0] == users._NOBODY and seen[1] != users._NOBODY  # argon2 both times
    assert events(app, "no.such.person") == []  # nobody's journal is made


def test_a_hundred_wrong_passwords_in_a_row_lock_until_an_admin_unlocks(door, tmp_path):
    app, clock = door
    for _ in range(login_gate.LOCK_AFTER):
        clock.advance(seconds=login_gate.MAX_HOLD)
        assert users.log_in(app, "lin.na", WRONG, via="test").person is None
    clock.advance(hours=5)
    locked = users.log_in(app, "lin.na", PASSWORD, via="test")
    assert locked.locked and locked.person is None  # the right password too
    assert events(app, "lin.na").count("AccountLocked") == 1
    with app.uow() as uow:
        alerts = [m for m in uow.messages() if m.kind == "alert"]
    assert [m.recipient for m in alerts] == [app.office.notify.alert_to]
    assert alerts[0].payload["alert"]["code"] == "AccountLocked"
    assert "lin.na" in alerts[0].payload["alert"]["reason"]
    assert deliver(app, EmlTransport(tmp_path / "eml")).counts["sent"] == 1
    (mail,) = (tmp_path / "eml").rglob("*.eml")
    told = email.message_from_bytes(mail.read_bytes())
    assert "工作台账号因连续密码错误已锁定" in str(email.header.make_header(
        email.header.decode_header(told["Subject"])))

    assert login_gate.unlock(app, "lin.na", actor="cli:admin") is True
    assert users.log_in(app, "lin.na", PASSWORD, via="test").person == "lin.na"
    assert events(app, "lin.na")[-1] == "AccountUnlocked"


def test_a_new_password_ends_a_lock(door):
    app, clock = door
    for _ in range(login_gate.LOCK_AFTER):
        clock.advance(seconds=login_gate.MAX_HOLD)
        users.log_in(app, "lin.na", WRONG, via="test")
    assert users.log_in(app, "lin.na", PASSWORD, via="test").locked
    users.set_password(app, "lin.na", "another-horse-8", actor="cli:admin")
    assert users.log_in(app, "lin.na", "another-horse-8", via="test").person == "lin.na"


def test_idle_rows_are_forgotten_alike_and_a_lock_stays_and_an_admin_sees_it(door):
    """Ids tried once do not pile up: the daily checks drop every throttle row idle for a
    month and not locked, anyone's or nobody's alike; a lock stays until unlocked. An admin
    reads who is locked or being guessed at (``petitions user list``)."""
    from services.sweep import daily_checks

    app, clock = door
    users.set_password(app, "zheng.tao", PASSWORD, actor="test")
    for _ in range(login_gate.LOCK_AFTER):
        clock.advance(seconds=login_gate.MAX_HOLD)
        users.log_in(app, "lin.na", WRONG, via="test")
    for who in ("zheng.tao", "nobody.here", "nobody.else"):
        users.log_in(app, who, WRONG, via="test")
    listed = {r["person"]: r for r in users.login_rows(app)}
    assert listed["lin.na"]["wrong_in_a_row"] == login_gate.LOCK_AFTER
    assert listed["lin.na"]["locked_since"] and listed["zheng.tao"]["locked_since"] is None
    assert listed["zheng.tao"]["wrong_in_a_row"] == 1 and listed["zheng.tao"]["last_wrong"]
    assert set(listed) == {"lin.na", "zheng.tao"}  # never an id nobody has
    clock.advance(days=29)
    assert daily_checks(app, key=b"k").forgotten_logins == 0
    clock.advance(days=2)
    assert daily_checks(app, key=b"k").forgotten_logins == 3  # zheng.tao's and the two
    assert users.log_in(app, "lin.na", PASSWORD, via="test").locked
    assert failures(app, "nobody.here") == 0  # a fresh row, as for a new id
