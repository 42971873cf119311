"""``petitions serve``'s supervisor with real processes: a child that dies is noticed, told
and started again after a pause that doubles while it keeps dying; a dependent (the runner)
is stopped with the child it needs (the server) and started again only once that one is
ready; stopping stops them all."""

from __future__ import annotations

import subprocess
import sys
import time

from flows.supervise import FIRST_PAUSE, LONGEST_PAUSE, STEADY, Child, Supervisor


def _sleeper() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])


def _until(probe, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not probe():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_dead_child_is_told_and_started_again_after_a_doubling_pause():
    said: list[str] = []
    deaths: list[tuple[str, int | None]] = []
    sup = Supervisor(said.append, lambda c, code: deaths.append((c.name, code)))
    child = sup.add(Child("workplace", _sleeper))
    try:
        first = child.proc
        assert first is not None
        first.kill()
        first.wait()
        sup.tick()
        _until(lambda: deaths == [("workplace", -9)])
        assert child.next_start is not None and child.pause == 2 * FIRST_PAUSE
        sup.tick(child.next_start - 0.1)
        assert child.proc is first  # not before its pause is over
        sup.tick(child.next_start)
        assert child.proc is not first and child.proc.poll() is None
        assert "workplace started again" in said
    finally:
        sup.stop_all([])
    assert child.proc is not None and child.proc.poll() is not None


def test_a_dependent_waits_for_the_child_it_needs_to_be_ready():
    ready = {"server": False}
    sup = Supervisor(lambda _s: None, lambda _c, _code: None)
    server = sup.add(Child("prefect-server", _sleeper, restart_with=("runner",),
                           ready=lambda: ready["server"]))
    runner = sup.add(Child("runner", _sleeper))
    try:
        old_runner = runner.proc
        assert server.proc is not None and old_runner is not None
        server.proc.kill()
        server.proc.wait()
        sup.tick()
        assert server.next_start is not None
        sup.tick(server.next_start)  # the server starts again; the runner is stopped
        assert old_runner.poll() is not None and runner.after == "prefect-server"
        sup.tick()
        assert runner.after == "prefect-server"  # the server does not answer yet
        ready["server"] = True
        sup.tick()
        assert runner.after is None and runner.proc is not old_runner
        assert runner.proc is not None and runner.proc.poll() is None
        assert runner.deaths == 0  # stopped with its server: not a death of its own
    finally:
        sup.stop_all(["runner"])


def test_a_crash_loop_is_told_a_few_times_not_every_time_and_a_steady_child_starts_over():
    told: list[int] = []
    sup = Supervisor(lambda _s: None, lambda c, _code: told.append(c.deaths))
    quitter = sup.add(Child("workplace", lambda: subprocess.Popen(
        [sys.executable, "-c", "raise SystemExit(3)"])))
    try:
        now = time.monotonic()
        for _ in range(25):  # it dies 25 times in a row
            assert quitter.proc is not None
            quitter.proc.wait(30)
            sup.tick(now)
            assert quitter.next_start is not None
            now = quitter.next_start
            sup.tick(now)
        assert told == [1, 5, 20]
        assert quitter.pause == LONGEST_PAUSE
        quitter.start = _sleeper  # it is mended: it stays up
        quitter.proc.wait(30)  # type: ignore[union-attr]
        sup.tick(now)
        sup.tick(quitter.next_start)  # type: ignore[arg-type]
        sup.tick(quitter.started_at + STEADY + 1)
        assert quitter.deaths == 0 and quitter.pause == FIRST_PAUSE
    finally:
        sup.stop_all([])


def test_a_child_that_cannot_be_started_is_a_death_and_the_watch_goes_on():
    deaths: list[str] = []
    attempts = {"n": 0}

    def refused() -> subprocess.Popen[bytes]:
        attempts["n"] += 1
        if attempts["n"] > 1:
            raise OSError(24, "Too many open files")
        return _sleeper()

    sup = Supervisor(lambda _s: None, lambda c, _code: deaths.append(c.name))
    child = sup.add(Child("runner", refused))
    other = sup.add(Child("workplace", _sleeper))
    try:
        assert child.proc is not None
        child.proc.kill()
        child.proc.wait()
        sup.tick()
        sup.tick(child.next_start)  # its start raises: a death, tried again later
        assert deaths == ["runner"] and child.deaths == 2 and child.next_start is not None
        assert other.proc is not None and other.proc.poll() is None  # nothing else stopped
    finally:
        sup.stop_all([])
