"""``petitions serve`` keeps its children alive: each of them — the office workplace, the
Prefect server, the runner — killed with SIGKILL in turn is back within a minute, each death
journaled and alarmed; the workplace answers while the engine is down and the engine works
while the workplace is; and the rungs that fell due while a child was dead (the clock moves
on six days each time) fire on its return, each once."""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import WAGE
from tests.flows.conftest import Engine, _descendants, serving

CHILDREN = (("workplace", "web.main:create_app"), ("prefect-server", "prefect server start"),
            ("runner", "flows.runner"))
BACK = 60  # seconds: a dead child is started again within a minute
PATIENCE = 300  # generous caps for what a loaded machine may take after that


@pytest.fixture(scope="module")
def supervised(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    yield from serving(tmp_path_factory.mktemp("supervised"), "2026-11-20T09:00+08:00",
                       PETITIONS_SWEEP_SECONDS="20", PETITIONS_SEND_SECONDS="20")


def _pid(engine: Engine, marker: str) -> int | None:
    assert engine.proc is not None
    for pid in _descendants(engine.proc.pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if marker in cmdline:
            return pid
    return None


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return bool(r.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _rungs(engine: Engine) -> list[tuple[str, str, str]]:
    return [(e["event"], e["data"].get("clock"), e["data"].get("rung"))
            for e in engine.case("XF-K1")["events"]
            if e["event"] in ("DeadlineReminder", "DeadlineWarning", "DeadlineBreached",
                              "Escalated")]


def _deaths(engine: Engine) -> tuple[list[str], list[tuple[str, str]]]:
    """The engine journal's deaths (the child each names), and their alarms (recipient,
    status); the watchdog's own alarms (sweeps stopped, back) are not counted."""
    from sqlalchemy import create_engine, text

    db = create_engine(f"sqlite:///{engine.home / 'petitions.db'}")
    with db.connect() as conn:
        journal = [str(r[0]) for r in conn.execute(text(
            "SELECT data FROM audit_events WHERE case_id = 'engine:serve' "
            "AND type = 'EngineChildRestarted' ORDER BY seq"))]
        alarms = [(str(r[0]), str(r[1])) for r in conn.execute(text(
            "SELECT recipient, status FROM outbox WHERE key LIKE "
            "'alert:engine:serve:restart:%' ORDER BY id"))]
    db.dispose()
    return journal, alarms


def test_each_child_killed_comes_back_and_no_deadline_is_lost(supervised, tmp_path):
    engine = supervised
    petition = tmp_path / "wage.json"
    petition.write_text(json.dumps({k: v for k, v in WAGE.items() if k != "received_at"},
                                   ensure_ascii=False))
    engine.cli("intake", str(petition), "--registration-no", "XF-K1", "--actor", "qian.hui")
    engine.paused_at(engine.case("XF-K1")["id"], "assigned-")
    serve_pid = engine.proc.pid if engine.proc else None
    for name, marker in CHILDREN:
        others = {m: _pid(engine, m) for _, m in CHILDREN if m != marker}
        before, journaled = len(_rungs(engine)), len(_deaths(engine)[0])
        old = _pid(engine, marker)
        assert old is not None, f"no {name} running"
        os.kill(old, signal.SIGKILL)
        killed = time.monotonic()
        engine.cli("clock", "advance", "--days", "6")  # rungs fall due while it is dead
        if name != "workplace":  # the workplace answers while the engine is down
            assert _answers(f"{engine.web}/livez")
        back = engine.wait_for(lambda m=marker, o=old: (p := _pid(engine, m)) and p != o,
                               BACK, f"the {name} started again")
        assert time.monotonic() - killed <= BACK + 5, f"{name} back after a minute"
        assert back
        if name == "workplace":  # the engine went on: none of its parts was restarted
            assert {m: _pid(engine, m) for m in others} == others
        engine.wait_for(lambda: _answers(f"{engine.web}/healthz"), PATIENCE,
                        f"the engine healthy after the {name} came back")
        engine.wait_for(lambda b=before: len(_rungs(engine)) > b, PATIENCE,
                        f"the rungs due while the {name} was dead, fired")
        named = {"prefect-server": "Prefect server"}.get(name, name)
        engine.wait_for(lambda k=journaled, w=named: any(
            w in entry for entry in _deaths(engine)[0][k:]), PATIENCE,
                        f"the {name}'s death journaled")
        # Each death journaled once and alarmed once (the runner may die with its server:
        # that is a death of its own, told as such).
        engine.wait_for(lambda: len(_deaths(engine)[1]) == len(_deaths(engine)[0]), PATIENCE,
                        "an alarm for each death")
        alarms = _deaths(engine)[1]
        assert {a[0] for a in alarms} == {"li.ming"}
    fired = _rungs(engine)
    assert len(fired) == len(set(fired)), "a rung fired twice"
    assert engine.proc is not None and engine.proc.poll() is None and \
        engine.proc.pid == serve_pid  # serve itself never stopped
    engine.wait_for(lambda: all(a[1] == "sent" for a in _deaths(engine)[1]), PATIENCE,
                    "the alarms delivered")
