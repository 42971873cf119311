"""``petitions serve``: the embedded default, with nothing to install.

A supervisor of three children: a local Prefect server (SQLite under ``PETITIONS_HOME``;
none when one already answers at ``PREFECT_API_URL``), the runner (``flows.runner``: the
deployments, the sweeper on its interval) and the office workplace. A child that dies is
started again (``flows.supervise``), each death journaled and alarmed; a dead workplace
never stops the engine, nor a dead engine the workplace. Beside them, in this process and
without Prefect: the watchdog, which alarms the office when the sweeps stop
(``services.health``), and, when the configuration changed, the open cases rescheduled a
batch at a time. Ctrl-C or SIGTERM stops the runner, the workplace, then the server.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from types import FrameType
from typing import Any

from domain.errors import ConfigError
from domain.events import EventType as E
from flows.prefect_env import (
    api,
    api_url,
    configure,
    healthy,
    prefect_environment,
    start_server,
    start_web,
    tethered,
    wait_until_healthy,
    web_address,
)
from flows.rest import Refused, Unreachable
from flows.supervise import Child, Supervisor
from services import health
from services.bootstrap import App, bootstrap
from services.settings import Settings
from services.sweep import reschedule_if_changed

SERVER_START_TIMEOUT = 120.0
BATCH_STOP_TIMEOUT = 30.0  # at stop, how long the reschedule's current batch may finish
WATCH_EVERY = 30.0         # the watchdog's look, at most (the sweep interval if shorter)
ALARM_TRIES = 5            # a death's alarm, tried this often 5 s apart
Say = Callable[[str], None]
# A status line that can be updated while it shows (rich's ``Console.status``).
Status = Callable[[str], AbstractContextManager[Any]]


def _stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # the same orderly stop as Ctrl-C


def serve(settings: Settings, say: Say, *, sweep_seconds: int,
          status: Status | None = None) -> None:
    """Serve until Ctrl-C or SIGTERM; ``say`` prints a line for the operator."""
    # The interval is everyone's: the watchdog's, the workplace's /healthz, the runner's.
    os.environ["PETITIONS_SWEEP_SECONDS"] = str(sweep_seconds)
    settings = dataclasses.replace(settings, sweep_seconds=sweep_seconds)
    configure(settings)
    a = bootstrap(settings)
    url = api_url(settings)
    stopping = threading.Event()
    deaths: queue.Queue[tuple[Child, int | None]] = queue.Queue()
    sup = Supervisor(say, lambda child, code: deaths.put((child, code)))
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        if healthy(url):
            _check_password(settings)
            say(f"using the Prefect server already at {url}")
        else:
            _start_server(settings, sup, url, status, say)
        sup.add(Child("runner", lambda: _start_runner(settings, sweep_seconds)))
        if settings.web_port:
            _start_web(settings, sup, say)
        if "prefect-server" in sup.children:
            sup.children["prefect-server"].restart_with = ("runner",)
        health.beat(a, health.STARTED, f"sweeps every {sweep_seconds} s")
        rescheduling = _beside("reschedule", lambda: _reschedule(a, say, stopping), say,
                               stopping)
        _beside("watchdog", lambda: _watchdog(a, say, stopping, sweep_seconds,
                                              lambda: sup.stop_one("runner")), say, stopping)
        _beside("alarms", lambda: _alarms(a, say, stopping, deaths), say, stopping)
        try:
            sup.watch(stopping)
        finally:
            stopping.set()
            rescheduling.join(BATCH_STOP_TIMEOUT)  # a batch cut short is rolled back anyway
    except KeyboardInterrupt:
        say("stopping")
    except Refused as e:
        raise ConfigError(str(e), source=url) from None
    finally:
        stopping.set()
        for name in sup.stop_all(["runner", "workplace", "prefect-server"]):
            say({"runner": "runner stopped", "workplace": "office workplace stopped",
                 "prefect-server": "Prefect server stopped"}.get(name, f"{name} stopped"))


def _check_password(settings: Settings) -> None:
    """A server already answering takes this home's password (another home's server on the
    same port, or another password, would refuse the runner for ever)."""
    try:
        api(settings).check()
    except Refused:
        raise
    except Unreachable:
        pass  # it answered /health a moment ago: its runner will say what is wrong


def _start_server(settings: Settings, sup: Supervisor, url: str, status: Status | None,
                  say: Say) -> None:
    log = settings.prefect_home / "server.log"
    child = sup.add(Child("prefect-server", lambda: start_server(settings, log),
                          ready=lambda: healthy(url)))
    assert child.proc is not None
    with (status or _no_status)(f"starting the Prefect server at {url} (log: {log})") as line:
        wait_until_healthy(child.proc, url, SERVER_START_TIMEOUT,
                           lambda s: line.update(f"starting the Prefect server at {url}: "
                                                 f"{s:.0f} s"), log)
    say(f"Prefect server ready at {url.removesuffix('/api')}")


def _start_runner(settings: Settings, sweep_seconds: int) -> subprocess.Popen[bytes]:
    """The runner (``flows.runner``), its output on serve's own."""
    env = {**os.environ, **prefect_environment(settings)}
    return subprocess.Popen(tethered([sys.executable, "-m", "flows.runner", "--sweep-seconds",
                                      str(sweep_seconds)]), env=env,
                            stdin=subprocess.DEVNULL, start_new_session=True)


def _start_web(settings: Settings, sup: Supervisor, say: Say) -> None:
    """The office workplace beside the engine (``PETITIONS_WEB_PORT=0``: none)."""
    log = settings.home / "web.log"
    address = web_address(settings)
    child = sup.add(Child("workplace", lambda: start_web(settings, log)))
    assert child.proc is not None
    try:
        wait_until_healthy(child.proc, address, SERVER_START_TIMEOUT, lambda _s: None, log,
                           check=lambda u: healthy(u, 2.0, "/livez"),
                           what="the office workplace")
    except ConfigError as e:  # the engine serves without it; the supervisor tries again
        say(f"{e.reason.splitlines()[0]}; the engine serves meanwhile and the workplace is "
            f"started again (log: {log})")
        return
    say(f"office workplace at {address}/ (log: {log})")


def _alarms(a: App, say: Say, stopping: threading.Event,
            deaths: queue.Queue[tuple[Child, int | None]]) -> None:
    """The children's deaths told, one at a time (the supervisor tells the first of a
    streak and then a few): journaled and alarmed, tried again while the database is
    busy or down; one that cannot be told in ``ALARM_TRIES`` is said on serve's output."""
    while not stopping.is_set():
        try:
            child, code = deaths.get(timeout=1.0)
        except queue.Empty:
            continue
        what = {"prefect-server": "the Prefect server", "runner": "the runner (the flows)",
                "workplace": "the office workplace"}.get(child.name, child.name)
        reason = (f"{what} exited (code {code}); `petitions serve` starts it again (death "
                  f"{child.deaths} in a row)")
        key = f"restart:{child.name}:{health.wall().isoformat()}"
        for attempt in range(ALARM_TRIES):
            try:
                health.alarm(a, E.ENGINE_CHILD_RESTARTED, key, reason)
                break
            except Exception as e:  # the database busy or down: again, then said
                if attempt == ALARM_TRIES - 1:
                    say(f"could not alarm the office ({type(e).__name__}: {e}): {reason}")
                elif stopping.wait(5.0):
                    return


def _watchdog(a: App, say: Say, stopping: threading.Event, sweep_seconds: int,
              restart_runner: Callable[[], None]) -> None:
    """Every look, the engine's health: an alarm when the sweeps stop, one when they are
    back (``services.health.watch``). It needs no Prefect, only the database. When the
    sweeps stop, the runner is started again once (it may be alive but stuck)."""
    state: dict[str, Any] = {}
    every = min(WATCH_EVERY, float(sweep_seconds))
    while not stopping.wait(every):
        try:
            h = health.watch(a, state)
        except Exception as e:  # the database down: said, and looked at again
            say(f"watchdog: could not read the engine's health: {type(e).__name__}: {e}")
            continue
        if not h.ok:
            say(f"watchdog: {h.why}")
            if state.get("down") and state.get("restarted") != state["down"]:
                state["restarted"] = state["down"]  # once an outage
                say("watchdog: starting the runner again")
                restart_runner()


class _Silent:
    def update(self, _text: str) -> None:
        pass


@contextlib.contextmanager
def _no_status(_text: str) -> Any:
    yield _Silent()


def _reschedule(a: App, say: Say, stopping: threading.Event) -> None:
    """The open cases' rungs and due dates derived anew, a batch at a time, when the
    configuration they derive from (policies' ladders, calendar, key periods) changed
    since the last complete reschedule; daily-checks does it every morning regardless."""
    done = reschedule_if_changed(a, stop=stopping.is_set)
    if done is not None and not stopping.is_set():
        say(f"the configuration changed: {done} open case(s) rescheduled")


def _beside(name: str, work: Callable[[], None], say: Say,
            stopping: threading.Event) -> threading.Thread:
    def run() -> None:
        try:
            work()
        except Exception as e:
            if stopping.is_set():
                return
            say(f"the {name} step failed: {type(e).__name__}: {e} (the scheduled "
                "daily-checks do it again)")
            raise  # and its traceback on stderr
    thread = threading.Thread(target=run, name=f"serve-{name}", daemon=True)
    thread.start()
    return thread
