"""``petitions user unlock`` as the server's operator runs it: a real process on the
installation's database, after a login was locked by 100 wrong passwords in a row."""

from __future__ import annotations

from pathlib import Path

import pendulum

from services import login_gate, users
from services.bootstrap import sql_app
from services.clock import FixedClock
from services.config import load_office
from services.settings import Settings
from storage.db import make_engine
from tests.conftest import SAMPLE_OFFICE
from tests.e2e.test_cli import run

PASSWORD = "correct-horse-7"
CONFIG = {"config_dir": str(SAMPLE_OFFICE)}


def test_an_admin_unlocks_a_locked_login_and_it_is_journaled(tmp_path: Path):
    home = tmp_path / "home"
    assert run("db", "upgrade", home=home, **CONFIG).returncode == 0
    done = run("user", "set-password", "lin.na", "--password-stdin", stdin=PASSWORD + "\n",
               home=home, **CONFIG)
    assert done.returncode == 0, done.stderr
    engine = make_engine(f"sqlite:///{home / 'petitions.db'}")
    clock = FixedClock(pendulum.now("UTC"))
    app = sql_app(Settings(home=home, config_dir=SAMPLE_OFFICE), load_office(SAMPLE_OFFICE),
                  clock, engine)
    for _ in range(login_gate.LOCK_AFTER):
        clock.advance(seconds=login_gate.MAX_HOLD)
        users.log_in(app, "lin.na", "guess-guess-1", via="test")
    assert users.log_in(app, "lin.na", PASSWORD, via="test").locked

    unlocked = run("user", "unlock", "lin.na", home=home, **CONFIG)
    assert unlocked.returncode == 0, unlocked.stderr
    assert "lin.na unlocked" in unlocked.stdout
    assert users.log_in(app, "lin.na", PASSWORD, via="test").person == "lin.na"
    with app.uow() as uow:
        last = uow.practices.events("access:lin.na")[-1]
    assert last.type == "AccountUnlocked" and last.actor.startswith("cli:")

    again = run("user", "unlock", "lin.na", home=home, **CONFIG)
    assert again.returncode == 0 and "was not locked" in again.stdout
    nobody = run("user", "unlock", "no.such.person", home=home, **CONFIG)
    assert nobody.returncode != 0 and "no.such.person" in nobody.stderr
    assert len(nobody.stderr.strip().splitlines()) == 1
    engine.dispose()
