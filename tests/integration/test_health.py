"""The engine's health without Prefect: each recurring job's heartbeat, ``/healthz`` unhealthy
once the last sweep is three intervals old, and the watchdog's alarms — once when the sweeps
stop, once when they come back — delivered at once through the outbox (the .eml files of an
office without a SendGrid key), journaled in ``engine:serve``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy

import pendulum

from domain.events import EventType as E
from services import health
from services.health import SWEEP, beat, watch
from tests.integration.test_web import client, site  # noqa: F401 (site: the fixture)


def _age(app, name: str, seconds: float) -> None:  # type: ignore[no-untyped-def]
    """Pretend ``name`` last completed ``seconds`` ago (wall clock)."""
    with app.uow() as uow:
        uow.beats.beat(name, pendulum.now("UTC") - dt.timedelta(seconds=seconds), "test")
        uow.commit()


def test_healthz_reports_the_age_of_the_last_sweep_and_fails_past_three_intervals(site):  # noqa: F811 (the fixture)
    app, _, web = site
    c = client(web)
    none = c.get("/healthz")
    assert none.status_code == 503 and none.json() == {"status": "unhealthy",
                                                       "last_sweep_age_seconds": None}
    beat(app, SWEEP, "3 fired")
    fresh = c.get("/healthz").json()
    assert fresh["status"] == "ok" and fresh["last_sweep_age_seconds"] < 60
    assert "fired" not in c.get("/healthz").text  # what the engine did is not public
    _age(app, SWEEP, 3 * 60 + 5)  # PETITIONS_SWEEP_SECONDS: 60 by default
    stale = c.get("/healthz")
    assert stale.status_code == 503 and stale.json()["status"] == "unhealthy"
    assert "no sweep for over 180 s" in health.health(app).why
    assert c.get("/livez").status_code == 200  # the workplace itself still answers


def test_the_engine_start_gives_the_first_sweep_three_intervals(site):  # noqa: F811 (the fixture)
    app, _, web = site
    beat(app, health.STARTED)
    assert client(web).get("/healthz").status_code == 200
    assert health.health(app).why == "the engine started; its first sweep is due"


def test_the_watchdog_alarms_once_when_sweeps_stop_and_once_when_they_return(site):  # noqa: F811 (the fixture)
    app, _, _ = site
    app = dataclasses.replace(app, settings=dataclasses.replace(app.settings, sweep_seconds=10))
    _age(app, SWEEP, 200)
    with app.uow() as uow:  # a message of the sender's, not yet due to anyone but it
        uow.queue([{"key": "other", "case_id": "digest:x", "kind": "digest",
                    "recipient": "li.ming", "urgent": 0, "queued_at": app.clock.now(),
                    "payload": {}}])
        uow.commit()
    state: dict[str, object] = {}
    assert not watch(app, state).ok
    assert not watch(app, state).ok  # still down: no second alarm
    beat(app, SWEEP)
    assert watch(app, state).ok
    with app.uow() as uow:
        alarms = [m for m in uow.messages() if m.case_id == health.JOURNAL]
        journal = [r.type for r in uow.practices.events(health.JOURNAL)]
    assert sorted(m.payload["alert"]["code"] for m in alarms) == ["SweepsResumed",
                                                                  "SweepsStopped"]
    assert {m.recipient for m in alarms} == {"li.ming"}  # alert_to
    assert all(m.status == "sent" for m in alarms)  # delivered by the watchdog itself
    with app.uow() as uow:  # ... and only they: the rest is left to the sender
        assert [m.status for m in uow.messages() if m.key == "other"] == ["queued"]
    assert journal == [E.SWEEPS_STOPPED.value, E.SWEEPS_RESUMED.value]
    letters = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
               for p in sorted((app.settings.home / "outbox").glob("*.eml"))]
    subjects = sorted(str(m["Subject"]) for m in letters)
    assert [s.split("】")[1].strip() for s in subjects] == ["期限巡检已停止，期限提醒不会发出",
                                                           "期限巡检已恢复"]
    stopped = next(m for m in letters if "停止" in str(m["Subject"]))
    body = str(stopped.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert "no sweep for over 120 s (sweeps every 10 s)" in body


def test_petitions_watchdog_alarms_by_itself_when_the_sweeps_stopped(tmp_path):
    """The scaled-out engine's watchdog (compose and Helm run it as a service of its own):
    the command alone, with no Prefect, e-mails the office."""
    import os
    import subprocess
    import sys

    from services.bootstrap import bootstrap
    from services.schema import migrated
    from services.settings import Settings
    from tests.conftest import SAMPLE_OFFICE, wait_for

    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PETITIONS_")},
           "PETITIONS_HOME": str(tmp_path), "PETITIONS_CONFIG_DIR": str(SAMPLE_OFFICE),
           "PETITIONS_SWEEP_SECONDS": "1"}
    app = migrated(bootstrap(Settings.from_env(env)))
    _age(app, SWEEP, 600)
    watching = subprocess.Popen([sys.executable, "-c", "from cli.main import main; main()",
                                 "watchdog"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
    try:
        letters = wait_for(lambda: list((tmp_path / "outbox").glob("*.eml")), 120,
                           "the watchdog's alarm")
    finally:
        watching.kill()
        out = watching.communicate(timeout=30)[0].decode()
    subject = str(email.message_from_bytes(letters[0].read_bytes(),
                                           policy=email.policy.default)["Subject"])
    assert "期限巡检已停止" in subject, subject
    assert "unhealthy: no sweep for over 120 s" in out
