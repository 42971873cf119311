"""Keeping ``petitions serve``'s children alive: the Prefect server, the runner, the office
workplace. A child that dies — or that cannot be started, or, having a ``ready`` probe,
stops answering it for ``HUNG_AFTER`` seconds — is started again after a pause that doubles
with each death in a row (1 s up to 30 s; a child up for a minute starts over at 1 s, its
streak of deaths with it). Deaths are told to ``on_death`` at the first of a streak and then
at the 5th, 20th and every 50th (a child that cannot start does not flood the office). A
child may name others to start again with it: the runner after the server, once the new
server answers.

Imports no Prefect: the supervisor must outlive whatever breaks there. Its loop never ends
but on ``stopping``.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from flows.prefect_env import stop

FIRST_PAUSE, LONGEST_PAUSE = 1.0, 30.0
STEADY = 60.0        # seconds up after which a child's pause and streak start over
READY_WAIT = 120.0   # a dependent starts after this long even if its parent is not ready
HUNG_AFTER = 180.0   # a child alive but not answering its probe this long is killed
TOLD_AT = (1, 5, 20)  # the deaths of a streak told; then every 50th
Say = Callable[[str], None]


@dataclass
class Child:
    """One supervised process: how to start it, and which others restart with it."""

    name: str
    start: Callable[[], subprocess.Popen[bytes]]
    restart_with: tuple[str, ...] = ()
    ready: Callable[[], bool] | None = None  # answers (the server: its /health)
    proc: subprocess.Popen[bytes] | None = None
    deaths: int = 0  # in a row: since it last stayed up STEADY seconds
    pause: float = FIRST_PAUSE
    started_at: float = 0.0
    next_start: float | None = None
    after: str | None = None  # stopped, to start again once this child is ready
    after_since: float = 0.0
    unready_since: float | None = None

    def launch(self) -> None:
        self.proc = self.start()
        self.started_at = time.monotonic()
        self.next_start = None
        self.after = None
        self.unready_since = None


class Supervisor:
    """Children started in order, watched every second, stopped in reverse order."""

    def __init__(self, say: Say, on_death: Callable[[Child, int | None], None]) -> None:
        self.say, self.on_death = say, on_death
        self.children: dict[str, Child] = {}
        self.lock = threading.Lock()

    def add(self, child: Child) -> Child:
        """Start ``child`` now (the caller waits for it to be ready) and watch it."""
        child.launch()
        with self.lock:
            self.children[child.name] = child
        return child

    def tick(self, now: float | None = None) -> None:
        """Notice the children that died or hung; start again those whose pause is over."""
        now = time.monotonic() if now is None else now
        with self.lock:
            for child in list(self.children.values()):
                try:
                    self._look(child, now)
                except Exception as e:  # e.g. a start refused (no file descriptors, disk)
                    self.say(f"{child.name} could not be started: {type(e).__name__}: {e}")
                    child.proc = None
                    self._died(child, None, now)

    def _look(self, child: Child, now: float) -> None:
        proc = child.proc
        if child.after is not None:
            self._start_after(child, now)
        elif child.next_start is not None:
            if now >= child.next_start:
                child.launch()
                self.say(f"{child.name} started again")
                for name in child.restart_with:
                    self._stop_until_ready(self.children.get(name), child.name, now)
        elif proc is None or proc.poll() is not None:
            self._died(child, proc.returncode if proc else None, now)
        else:
            if now - child.started_at > STEADY:
                child.pause, child.deaths = FIRST_PAUSE, 0
            self._probe(child, now)

    def _probe(self, child: Child, now: float) -> None:
        """A child that stopped answering its probe for ``HUNG_AFTER`` is killed (and so
        started again as a death). Probed from the time it is up for a minute only."""
        if child.ready is None or now - child.started_at < STEADY:
            return
        if child.ready():
            child.unready_since = None
            return
        child.unready_since = child.unready_since or now
        if now - child.unready_since > HUNG_AFTER and child.proc is not None:
            self.say(f"{child.name} has not answered for {HUNG_AFTER:.0f} s: stopping it")
            stop(child.proc, grace=10.0)

    def _died(self, child: Child, code: int | None, now: float) -> None:
        child.deaths += 1
        child.next_start = now + child.pause
        self.say(f"{child.name} exited with code {code}; starting it again in "
                 f"{child.pause:.0f} s")
        child.pause = min(child.pause * 2, LONGEST_PAUSE)
        if child.deaths in TOLD_AT or child.deaths % 50 == 0:
            self.on_death(child, code)

    def _stop_until_ready(self, child: Child | None, parent: str, now: float) -> None:
        """A dependent stopped, to start again once the child it needs is ready: not a
        death of its own (a runner started before its server answers exits at once)."""
        if child is None or child.proc is None:
            return
        stop(child.proc, grace=10.0)
        child.after, child.after_since, child.next_start = parent, now, None

    def _start_after(self, child: Child, now: float) -> None:
        parent = self.children.get(child.after or "")
        ready = parent is None or parent.ready is None or parent.ready()
        if ready or now - child.after_since > READY_WAIT:
            child.launch()
            self.say(f"{child.name} started again with {parent.name if parent else 'it'}")

    def stop_one(self, name: str) -> None:
        """Stop child ``name`` (it is then started again, as a death)."""
        with self.lock:
            child = self.children.get(name)
            if child is not None and child.proc is not None and child.next_start is None:
                stop(child.proc, grace=10.0)

    def watch(self, stopping: threading.Event, every: float = 1.0) -> None:
        """Tick until ``stopping`` is set."""
        while not stopping.wait(every):
            self.tick()

    def stop_all(self, order: list[str]) -> list[str]:
        """Stop the children, ``order`` first (the rest in reverse order of start); the
        names stopped."""
        with self.lock:
            names = [n for n in order if n in self.children] + [
                n for n in reversed(self.children) if n not in order]
            for name in names:
                child = self.children[name]
                child.next_start, child.after = None, None
                if child.proc is not None:
                    stop(child.proc)
            return names
