"""``petitions serve``: the embedded default, with nothing to install.

Starts a local Prefect server (SQLite under ``PETITIONS_HOME``) as a child process unless one
already answers at ``PREFECT_API_URL``, waits for it, serves the deployments (lifecycle,
intake, and the sweeper on an interval), and on Ctrl-C or SIGTERM stops the runner and then
the server, leaving nothing running. What grows with the cases runs beside the served
engine, not before it: the open cases rescheduled when the configuration changed (a batch
at a time) and the reconcile step.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from types import FrameType
from typing import Any

from prefect import serve as prefect_serve
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron

from domain.instants import LOCAL_ZONE
from flows.heal import reconcile
from flows.lifecycle import daily_checks, intake, lifecycle, reconciler, sender, sweeper
from flows.office import daily_zero_report, office_practices
from flows.prefect_env import (
    api_url,
    configure,
    healthy,
    start_server,
    start_web,
    stop,
    wait_until_healthy,
    web_address,
)
from flows.tasks import app
from services.bootstrap import App
from services.settings import Settings
from services.sweep import reschedule_if_changed

SERVER_START_TIMEOUT = 120.0
BATCH_STOP_TIMEOUT = 30.0  # at stop, how long the reschedule's current batch may finish
Say = Callable[[str], None]
# A status line that can be updated while it shows (rich's ``Console.status``).
Status = Callable[[str], AbstractContextManager[Any]]


def _stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # the same orderly stop as Ctrl-C


def serve(settings: Settings, say: Say, *, sweep_seconds: int,
          status: Status | None = None) -> None:
    """Serve until Ctrl-C or SIGTERM; ``say`` prints a line for the operator."""
    configure(settings)
    url = api_url(settings)
    log = settings.prefect_home / "server.log"
    proc: subprocess.Popen[bytes] | None = None
    web: subprocess.Popen[bytes] | None = None
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        if healthy(url):
            say(f"using the Prefect server already at {url}")
        else:
            proc = start_server(settings, log)
            starting = f"starting the Prefect server at {url} (log: {log})"
            with (status or _no_status)(starting) as line:
                wait_until_healthy(proc, url, SERVER_START_TIMEOUT,
                                   lambda s: line.update(
                                       f"starting the Prefect server at {url}: {s:.0f} s"),
                                   log)
            say(f"Prefect server ready at {url.removesuffix('/api')}")
        if settings.web_port:
            web = _start_web(settings, say)
        _serve_deployments(settings, say, sweep_seconds)
    except KeyboardInterrupt:
        say("stopping")
    finally:
        if web is not None:
            stop(web)
            say("office workplace stopped")
        if proc is not None:
            stop(proc)
            say("Prefect server stopped")


def _start_web(settings: Settings, say: Say) -> subprocess.Popen[bytes]:
    """The office workplace beside the engine (``PETITIONS_WEB_PORT=0``: none)."""
    log = settings.home / "web.log"
    address = web_address(settings)
    proc = start_web(settings, log)
    try:
        wait_until_healthy(proc, address, SERVER_START_TIMEOUT, lambda _s: None, log,
                           check=lambda u: healthy(u, 2.0, "/healthz"), what="the office workplace")
    except BaseException:
        stop(proc)
        raise
    say(f"office workplace at {address}/ (log: {log})")
    return proc


class _Silent:
    def update(self, _text: str) -> None:
        pass


@contextlib.contextmanager
def _no_status(_text: str) -> Any:
    yield _Silent()


def _serve_deployments(settings: Settings, say: Say, sweep_seconds: int) -> None:
    deployments: list[RunnerDeployment] = [
        lifecycle.to_deployment(name="lifecycle",  # type: ignore[list-item]
                                description="One petition, stage by stage"),
        intake.to_deployment(name="intake",  # type: ignore[list-item]
                             description="登记, 首问负责, 领导包案"),
        sweeper.to_deployment(name="sweeper", interval=sweep_seconds,  # type: ignore[list-item]
                              description="Reminders, warnings, breaches, escalations"),
        sender.to_deployment(name="sender", interval=settings.send_seconds,  # type: ignore[list-item]
                             description="Deliver the outbox; the leaders' daily digests"),
        office_practices.to_deployment(  # type: ignore[list-item]
            name="practices", interval=settings.practices_seconds,
            description="领导接待日 notices, 每日零报告 alerts, the weekly 信访信息参考"),
        daily_zero_report.to_deployment(  # type: ignore[list-item]
            name="report", description="每日零报告: run it with your unit's report"),
        reconciler.to_deployment(  # type: ignore[list-item]
            name="reconciler", interval=settings.reconcile_seconds,
            description="Each case's lifecycle run brought back in step with the case"),
        daily_checks.to_deployment(  # type: ignore[list-item]
            name="daily-checks", schedule=Cron("0 7 * * *", timezone=LOCAL_ZONE),
            description="Audit chains, overdue deadlines, dead letters; reschedules rungs"),
    ]
    for d in deployments:
        d.apply()
    a = app()
    stopping = threading.Event()
    # Both grow with the cases, so they run beside the engine rather than before it serves.
    rescheduling = _in_background("reschedule", lambda: _reschedule(a, say, stopping),
                                  say, stopping)
    _in_background("reconcile", lambda: _reconcile(a, say), say, stopping)
    try:
        prefect_serve(*deployments, pause_on_shutdown=False, limit=None, query_seconds=2)
    finally:
        stopping.set()
        rescheduling.join(BATCH_STOP_TIMEOUT)  # a batch cut short is rolled back anyway


def _reschedule(a: App, say: Say, stopping: threading.Event) -> None:
    """The open cases' rungs and due dates derived anew, a batch at a time, when the
    configuration they derive from (policies' ladders, calendar, key periods) changed
    since the last complete reschedule; daily-checks does it every morning regardless."""
    done = reschedule_if_changed(a, stop=stopping.is_set)
    if done is not None and not stopping.is_set():
        say(f"the configuration changed: {done} open case(s) rescheduled")


def _reconcile(a: App, say: Say) -> None:
    """Runs missing, ended or left behind while serve was down (``flows.heal``): it asks
    the Prefect server about every case with a run, so it takes a while at scale."""
    for healed in reconcile(a):
        say(f"{healed.ref}: {healed.what}")


def _in_background(name: str, work: Callable[[], None], say: Say,
                   stopping: threading.Event) -> threading.Thread:
    def run() -> None:
        try:
            work()
        except Exception as e:
            if stopping.is_set():
                return  # the server it needed stopped under it: serve is stopping anyway
            say(f"the {name} step at start failed: {type(e).__name__}: {e} (the scheduled "
                "daily-checks and lifecycle-reconciler runs do it again)")
            raise  # and its traceback on stderr
    thread = threading.Thread(target=run, name=f"serve-{name}", daemon=True)
    thread.start()
    return thread
