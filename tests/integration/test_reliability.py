"""Real processes against the real databases: concurrent sweepers, and a crash mid-intake."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pendulum
from sqlalchemy import func, insert, select

from storage.audit import verify
from storage.tables import audit_events, cases, rung_schedule
from tests.conftest import ROOT

RUNGS = 10_000


def _worker(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.integration.workers", *args],
                            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_two_sweepers_claim_10000_due_rungs_each_exactly_once(engine, db_url):
    due = pendulum.datetime(2029, 12, 31, tz="UTC")
    with engine.begin() as conn:
        conn.execute(insert(rung_schedule), [
            {"case_id": f"case-{i:05d}", "clock": "handling", "rung": "breach", "fire_at": due}
            for i in range(RUNGS)])
    names = ("sweeper-a", "sweeper-b")
    sweepers = [_worker("claim", db_url, name) for name in names]
    for proc in sweepers:  # both connected and waiting at the start line...
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    for proc in sweepers:  # ...then both told to go at once, so they claim side by side
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    claims = {}
    for name, proc in zip(names, sweepers, strict=True):
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        claims[name] = out.splitlines()
    a, b = claims["sweeper-a"], claims["sweeper-b"]
    # Every rung claimed once, by one of them; how the 10,000 split is up to the race.
    assert len(a) + len(b) == RUNGS
    assert set(a).isdisjoint(b) and len(set(a) | set(b)) == RUNGS
    with engine.connect() as conn:
        by = dict(conn.execute(select(rung_schedule.c.claimed_by, func.count())
                               .group_by(rung_schedule.c.claimed_by)).all())
    assert by == {name: len(got) for name, got in claims.items() if got}


def test_a_process_killed_mid_intake_leaves_every_acknowledged_case_whole(engine, db_url):
    proc = _worker("register", db_url, "KILL")
    acked = []
    assert proc.stdout is not None
    for line in proc.stdout:
        acked.append(line.split()[1])
        if len(acked) == 40:
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.communicate(timeout=30)  # reap it and close its pipes
    assert proc.returncode == -signal.SIGKILL
    with engine.connect() as conn:
        stored = {r.registration_no: r for r in conn.execute(select(cases))}
        events = dict(conn.execute(select(audit_events.c.case_id, func.count())
                                   .group_by(audit_events.c.case_id)).all())
        scheduled = dict(conn.execute(select(rung_schedule.c.case_id, func.count())
                                      .group_by(rung_schedule.c.case_id)).all())
        checked, breaks = verify(conn)
    assert set(acked) <= set(stored), "an acknowledged petition was lost"
    assert len(stored) - len(acked) <= 1  # at most the one committed as the kill came
    for row in stored.values():
        assert events[row.id] == row.audit_seq == 2, f"{row.registration_no} is half-written"
        assert scheduled[row.id] >= 1
    assert (checked, breaks) == (len(stored), [])
