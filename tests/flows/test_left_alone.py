"""A served engine left alone does its work on its own schedule: nobody runs a sweep, a send,
the practices or the reconcile. A petition is registered (not routed, no run: as a clerk's
command cut short would leave it) after the engine is up, received 20 days earlier; then the
test only reads. Prefect's scheduler must create each deployment's runs and the runner run
them: the reconciler starts the case's lifecycle run, which routes it; the sweeper fires its
overdue rungs; the sender delivers the messages; the practices run; /healthz says when the
last sweep completed. Any upgrade of Prefect or SQLAlchemy is judged by this (SQLAlchemy 2.1
stopped Prefect 3.8.8's scheduler, and with it every deadline, silently)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from services.bootstrap import bootstrap
from services.cases import register
from services.settings import Settings
from tests.conftest import WAGE
from tests.flows.conftest import Engine, serving

# Short enough to see each run in minutes, long enough that a loaded 2-core machine (a
# flow-run process costs a second of CPU to start) does not fall behind its schedules.
INTERVALS = {"PETITIONS_SWEEP_SECONDS": "20", "PETITIONS_SEND_SECONDS": "20",
             "PETITIONS_PRACTICES_SECONDS": "30", "PETITIONS_RECONCILE_SECONDS": "30"}
PATIENCE = 420  # generous caps: each is met in a minute or two on a quiet machine


@pytest.fixture(scope="module")
def alone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    yield from serving(tmp_path_factory.mktemp("left-alone"),  # a weekday afternoon
                       "2026-11-20T14:05+08:00", **INTERVALS)


def _healthz(engine: Engine) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"{engine.web}/healthz", timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        body = json.loads(e.read())
        e.close()
        return e.code, body


def test_a_served_engine_left_alone_routes_sweeps_sends_and_reconciles(alone):
    app = bootstrap(Settings.from_env(alone.env))
    petition = {**WAGE, "received_at": "2026-10-30T09:00:00+08:00"}  # 21 days before
    case = register(app, petition, registration_no="XF-ALONE1", actor="qian.hui", via="test")
    assert alone.case("XF-ALONE1")["stage"] == "registered"  # no run, not routed

    # The scheduled reconciler starts its run; the run routes it and waits at the first form.
    alone.paused_at(case.id, "assigned-", timeout=PATIENCE)
    # The scheduled sweeper fires what fell due in those 21 days, once each.
    def breached() -> list[str]:
        events = [e["event"] for e in alone.case("XF-ALONE1")["events"]]
        return events if "DeadlineBreached" in events else []
    events = alone.wait_for(breached, PATIENCE, "a due rung fired by the scheduled sweeper")
    assert "DeadlineReminder" in events or "DeadlineWarning" in events

    # The scheduled sender delivers the case's messages (the assignment, the breach).
    def delivered() -> set[str]:
        rows = json.loads(alone.cli("outbox", "--limit", "1000", "--json").stdout)
        sent = {m["kind"] for m in rows if m["case"] == "XF-ALONE1" and m["status"] == "sent"}
        return sent if {"assignment", "breach"} <= sent else set()
    alone.wait_for(delivered, PATIENCE, "the assignment and the breach sent by the sender")

    # The scheduled practices ran: today's zero reports are missing, each unit's head told.
    def alerted() -> list[dict[str, Any]]:
        rows = json.loads(alone.cli("outbox", "--limit", "1000", "--json").stdout)
        return [m for m in rows if m["kind"] == "zero_report_missing"]
    assert alone.wait_for(alerted, PATIENCE, "the practices' zero-report alerts")

    # Each recurring job's heartbeat, and the health it gives.
    status, public = _healthz(alone)
    assert status == 200 and public["status"] == "ok", public
    assert public["last_sweep_age_seconds"] < 120
    health = json.loads(alone.cli("health", "--json").stdout)  # the operator's fuller view
    assert {"sweep", "send", "practices", "reconcile"} <= set(health["beats"])

    # Each rung fired once, although the sweeper ran many times meanwhile.
    fired = [(e["event"], e["data"].get("clock"), e["data"].get("rung"))
             for e in alone.case("XF-ALONE1")["events"] if e["event"].startswith("Deadline")]
    assert len(fired) == len(set(fired))
