"""Keeping ``petitions serve``'s children alive: the Prefect server, the runner, the office
workplace. A child that dies is started again after a pause that doubles with each death in
a row (1 s up to 30 s; a child up for a minute starts over at 1 s), and each death is told
to ``on_death`` (the serve journals and alarms it). A child may name others to start again
with it: the runner after the server, so that it polls the new server from a clean start.

Imports no Prefect: the supervisor must outlive whatever breaks there.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flows.prefect_env import stop

FIRST_PAUSE, LONGEST_PAUSE = 1.0, 30.0
STEADY = 60.0  # seconds up after which a child's pause starts over
READY_WAIT = 120.0  # a dependent starts after this long even if its parent is not ready
Say = Callable[[str], None]


@dataclass
class Child:
    """One supervised process: how to start it, and which others restart with it."""

    name: str
    start: Callable[[], subprocess.Popen[bytes]]
    restart_with: tuple[str, ...] = ()
    ready: Callable[[], bool] | None = None  # answers (the server: its /health)
    after: str | None = None  # stopped, to start again once this child is ready
    after_since: float = 0.0
    proc: subprocess.Popen[bytes] | None = None
    deaths: int = 0
    pause: float = FIRST_PAUSE
    started_at: float = 0.0
    next_start: float | None = None
    history: list[float] = field(default_factory=list)  # when each restart happened

    def launch(self) -> None:
        self.proc = self.start()
        self.started_at = time.monotonic()
        self.next_start = None
        self.after = None


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
        """Notice the children that died; start again those whose pause is over."""
        now = time.monotonic() if now is None else now
        with self.lock:
            for child in list(self.children.values()):
                proc = child.proc
                if child.after is not None:
                    self._start_after(child, now)
                elif child.next_start is None and proc is not None and proc.poll() is not None:
                    self._died(child, proc.returncode, now)
                elif child.next_start is not None and now >= child.next_start:
                    child.launch()
                    child.history.append(now)
                    self.say(f"{child.name} started again")
                    for name in child.restart_with:
                        self._stop_until_ready(self.children.get(name), child.name, now)
                elif child.next_start is None and now - child.started_at > STEADY:
                    child.pause = FIRST_PAUSE

    def _died(self, child: Child, code: int | None, now: float) -> None:
        child.deaths += 1
        child.next_start = now + child.pause
        self.say(f"{child.name} exited with code {code}; starting it again in "
                 f"{child.pause:.0f} s")
        child.pause = min(child.pause * 2, LONGEST_PAUSE)
        # Told on a thread of its own: an alarm may take seconds to deliver, and the other
        # children are watched meanwhile.
        threading.Thread(target=self.on_death, args=(child, code), daemon=True,
                         name=f"serve-death-{child.name}").start()

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
                proc = self.children[name].proc
                self.children[name].next_start = None
                if proc is not None:
                    stop(proc)
            return names
