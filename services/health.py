"""The engine's health, told without Prefect: when each recurring job last completed (its
heartbeat, in wall-clock time), whether the sweeps have stopped, and the alarms a watchdog
and a supervisor raise through the outbox when they do, or when a part of the engine died.

Deadlines fire only when the sweeper runs; nothing else would notice that it stopped (a
scheduler that schedules nothing, a dead server). So the sweep records each completion,
``/healthz`` and ``petitions health`` report its age and are unhealthy past three intervals,
and ``petitions serve``'s watchdog alarms the office (at once, by the outbox's own transport,
not by the Prefect flow that normally delivers it) when the sweeps stop and again when they
come back.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import pendulum

from domain.events import DomainEvent
from domain.events import EventType as E
from services.bootstrap import App
from services.outbox import deliver

SWEEP, SEND, PRACTICES, RECONCILE = "sweep", "send", "practices", "reconcile"
STARTED = "serve"            # ``petitions serve`` (re)started: the sweeps' grace begins
STALE_INTERVALS = 3          # unhealthy once the last sweep is this many intervals old,
STALE_AT_LEAST = 120.0       # and at least this many seconds (a flow run takes seconds to
                             # start on a loaded machine; a short test interval is no limit)
JOURNAL = "engine:serve"     # the journal of the engine's own events (a colon: no case)
log = logging.getLogger("petitions.health")


def wall() -> dt.datetime:
    """The real time (UTC), whatever clock the cases run on: a heartbeat is about
    processes working now, and a simulated clock may stand still or jump days."""
    return pendulum.now("UTC")


def beat(app: App, name: str, detail: str | None = None) -> None:
    """``name`` completed now."""
    with app.uow() as uow:
        uow.beats.beat(name, wall(), detail)
        uow.commit()


@dataclass(frozen=True)
class Health:
    """The engine's health at ``at``: ``ok`` unless the last completed sweep (or, before
    any, the engine's start) is more than ``STALE_INTERVALS`` intervals (at least
    ``STALE_AT_LEAST`` seconds) old."""

    ok: bool
    at: dt.datetime
    interval: int
    last_sweep: dt.datetime | None
    why: str
    beats: dict[str, tuple[dt.datetime, str | None]]

    @property
    def sweep_age(self) -> float | None:
        if self.last_sweep is None:
            return None
        return max(0.0, (self.at - self.last_sweep).total_seconds())

    def public(self) -> dict[str, Any]:
        """What anyone may read (``/healthz`` has no login): healthy or not, and the last
        sweep's age; not what the engine has been doing."""
        return {"status": "ok" if self.ok else "unhealthy",
                "last_sweep_age_seconds": (round(self.sweep_age, 1)
                                           if self.sweep_age is not None else None)}

    def as_dict(self) -> dict[str, Any]:
        return {"status": "ok" if self.ok else "unhealthy", "reason": self.why,
                "sweep_interval_seconds": self.interval,
                "last_sweep_at": self.last_sweep.isoformat() if self.last_sweep else None,
                "last_sweep_age_seconds": (round(self.sweep_age, 1)
                                           if self.sweep_age is not None else None),
                "beats": {name: {"at": at.isoformat(), "detail": detail}
                          for name, (at, detail) in sorted(self.beats.items())}}


def health(app: App, at: dt.datetime | None = None) -> Health:
    """The engine's health now (or at ``at``)."""
    at = at or wall()
    with app.uow() as uow:
        beats = uow.beats.beats()
    interval = app.settings.sweep_seconds
    limit = int(max(STALE_INTERVALS * interval, STALE_AT_LEAST))
    sweep = beats.get(SWEEP, (None, None))[0]
    started = beats.get(STARTED, (None, None))[0]
    since = max((t for t in (sweep, started) if t is not None), default=None)
    if since is None:
        return Health(False, at, interval, sweep, "no sweep has completed yet", beats)
    age = (at - since).total_seconds()
    if age <= limit:
        why = "sweeps on time" if sweep is not None and sweep >= since else \
            "the engine started; its first sweep is due"
        return Health(True, at, interval, sweep, why, beats)
    last = f"the last completed {int((at - sweep).total_seconds())} s ago" if sweep else \
        "none has completed since the engine started"
    return Health(False, at, interval, sweep, f"no sweep for over {limit} s (sweeps every "
                  f"{interval} s); {last}", beats)


def _engine_recipient(app: App) -> str | None:
    """Who hears of the engine's own troubles: ``notifications.alert_to``, else the
    petition office's head, else the mine head (no case: nobody is barred)."""
    org = app.office.org
    return app.office.notify.alert_to or org.office_head or org.mine_head


def alarm(app: App, what: E, key: str, reason: str, *, deliver_now: bool = True) -> bool:
    """Journal ``what`` and queue an urgent alarm to the office (once per ``key``), then,
    with ``deliver_now``, deliver the outbox at once from this process — the Prefect flow
    that usually delivers it may be what stopped. Whether an alarm was queued."""
    now = app.clock.now()
    to = _engine_recipient(app)
    message = f"alert:{JOURNAL}:{key}:{to}"
    with app.uow() as uow:
        if uow.has_message(message):
            return False
        uow.practices.append(JOURNAL, "engine", [DomainEvent(
            what, JOURNAL, "serve", now, "engine", {"reason": reason, "key": key})])
        if to is not None:
            uow.queue([{"key": message, "case_id": JOURNAL,
                        "kind": "alert", "recipient": to, "urgent": 1, "queued_at": now,
                        "payload": {"at": pendulum.instance(now).isoformat(),
                                    "alert": {"code": what.value, "ref": "", "reason": reason}}}])
        uow.commit()
    log.warning("%s: %s (alarm to %s)", what.value, reason, to or "nobody: no alert_to")
    if deliver_now and to is not None:
        deliver(app, limit=1, keys=[message])  # this alarm alone: the rest is the sender's
    return True


def watch(app: App, state: dict[str, Any]) -> Health:
    """One look of the watchdog: alarm once when the sweeps stop (per outage, named by the
    last sweep it saw), and once when they come back. ``state`` is the watchdog's memory
    between looks."""
    h = health(app)
    if not h.ok and not state.get("down"):
        since = h.last_sweep.isoformat() if h.last_sweep else "never"
        alarm(app, E.SWEEPS_STOPPED, f"sweeps-stopped:{since}", h.why)
        state["down"] = since
    elif h.ok and state.get("down"):
        alarm(app, E.SWEEPS_RESUMED, f"sweeps-resumed:{state['down']}",
              "deadline sweeps run again; the rungs that fell due meanwhile fire once now")
        state["down"] = None
    return h
