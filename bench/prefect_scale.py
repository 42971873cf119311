"""The embedded Prefect server holding a city office's open petitions: N suspended
``petition-lifecycle/lifecycle`` runs (default 20,000), on this machine.

    .venv/bin/python bench/prefect_scale.py [--runs 20000] [--home PATH] \\
        [--idle-seconds 60] [--resumes 5]

In a throw-away ``PETITIONS_HOME`` (or ``--home``), on a free port, as ``petitions serve``
starts it: Prefect's server (SQLite) timed from start to healthy on an empty database; the
lifecycle deployment registered; the idle server's CPU (baseline); N runs created through
the API and suspended as the flow suspends (Running, then Suspended with no timeout under
the first form's key, the form's schema saved; no cases, no task runs, so the database is
smaller than a real office's); two restarts timed; the UI runs page's calls (p50/p95); the
idle CPU with N suspended runs; a runner serving the deployment and --resumes runs resumed
one at a time, timed until Pending and Running (each then fails: its case does not exist
here), the runs counted by state after; last, the idle CPU again with Prefect's
pause-expirations service off, which reads every paused run every 5 s. Prints a summary,
leaves nothing running, and removes a throw-away home.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KEY = "assigned-1"  # flows.tasks.wait_key(Stage.ASSIGNED, 1): the first responder's wait
STATE_TYPES = ("SCHEDULED", "PENDING", "RUNNING", "PAUSED", "COMPLETED", "FAILED",
               "CANCELLING", "CANCELLED", "CRASHED")
RETRYABLE = "Encountered retryable exception"  # the server's log line for each 503


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


if __name__ == "__main__" and "--serve" not in sys.argv:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=20000, help="suspended runs to hold")
    parser.add_argument("--home", type=Path, help="a new PETITIONS_HOME (default: a temporary one)")
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--resumes", type=int, default=5)
    parser.add_argument("--calls", type=int, default=10, help="timed calls per UI query")
    parser.add_argument("--concurrency", type=int, default=1, help="runs created at once; "
                        "more makes SQLite refuse writes (503, retried after 2-16 s)")
    parser.add_argument("--existing", action="store_true", help="--home is a home an earlier "
                        "run filled (stopped while creating): measure its runs, create none")
    ARGS = parser.parse_args()
    # Before Prefect is imported: this run's own home, office and server port.
    OWN_HOME = ARGS.home is None
    HOME = (ARGS.home or Path(tempfile.mkdtemp(prefix="petitions-prefect-scale-"))).resolve()
    os.environ.update({"PETITIONS_HOME": str(HOME),
                       "PETITIONS_CONFIG_DIR": str(ROOT / "deploy" / "config"),
                       "PETITIONS_PREFECT_PORT": str(_free_port()),
                       "PREFECT_LOGGING_LEVEL": "WARNING",
                       "PREFECT_SERVER_LOG_RETRYABLE_ERRORS": "true"})  # count the 503s
    for name in ("PREFECT_API_URL", "PETITIONS_DATABASE_URL", "PETITIONS_SIMULATED_CLOCK"):
        os.environ.pop(name, None)

from flows import prefect_env as pe  # noqa: E402
from services.settings import Settings  # noqa: E402

pe.configure(Settings.from_env())

from prefect import serve  # noqa: E402
from prefect._internal.pydantic.v2_schema import create_v2_schema  # noqa: E402
from prefect.client.orchestration import get_client  # noqa: E402
from prefect.client.schemas.responses import SetStateStatus  # noqa: E402
from prefect.input.run_input import keyset_from_paused_state  # noqa: E402
from prefect.states import Running, Suspended  # noqa: E402

from flows.inputs import FirstResponse  # noqa: E402
from flows.lifecycle import lifecycle  # noqa: E402

FIGURES: list[str] = []


def say(line: str, figure: bool = False) -> None:
    print(line, flush=True)
    if figure:
        FIGURES.append(line)


def _call(api: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{api}{path}", data=data,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=300) as r:
        return json.loads(r.read())


def _stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command's name (state, ppid, ...)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _tree(pid: int) -> list[int]:
    """``pid`` and its live descendants."""
    kids: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        with contextlib.suppress(OSError, ValueError, IndexError):
            kids.setdefault(int(_stat(int(d.name))[1]), []).append(int(d.name))
    found = [pid]
    for p in found:  # the list grows as it is walked
        found += kids.get(p, [])
    return found


def _cpu_seconds(pid: int) -> float:
    """User and system CPU of ``pid`` and its children, live and reaped."""
    ticks = 0
    for p in _tree(pid):
        with contextlib.suppress(OSError):
            ticks += sum(int(f) for f in _stat(p)[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def idle_cpu(pid: int, seconds: float, what: str) -> None:
    time.sleep(5)  # the services' first rounds after the start
    before, started = _cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    used, wall = _cpu_seconds(pid) - before, time.monotonic() - started
    say(f"idle server CPU, {what}: {used:.1f} s in {wall:.0f} s = {100 * used / wall:.1f} % "
        "of one core", True)


def _db_size(settings: Settings) -> str:
    sizes = {p.name: p.stat().st_size / 2**20 for p in settings.prefect_home.glob("prefect.db*")}
    parts = ", ".join(f"{k} {v:.1f}" for k, v in sorted(sizes.items()))
    return f"{sum(sizes.values()):.1f} MiB ({parts})"


async def create_runs(deployment_id: UUID, n: int, concurrency: int) -> list[UUID]:
    """``n`` runs of the deployment, each suspended as the lifecycle flow suspends."""
    schema = json.dumps(create_v2_schema("FirstResponse", model_base=FirstResponse))
    gate, started, done = asyncio.Semaphore(concurrency), time.monotonic(), 0

    async with get_client() as client:
        async def one(i: int) -> UUID:
            nonlocal done
            async with gate:
                run = await client.create_flow_run_from_deployment(
                    deployment_id, parameters={"case_id": f"bench-{i}"},
                    idempotency_key=f"petition:bench-{i}")
                await client.set_flow_run_state(run.id, Running(), force=True)
                state: Any = Suspended(pause_key=KEY)  # as asuspend_flow_run(timeout=None)
                keyset = keyset_from_paused_state(state)
                state.state_details.run_input_keyset = keyset
                result = await client.set_flow_run_state(run.id, state)
                if result.status != SetStateStatus.ACCEPT:
                    raise RuntimeError(f"run {run.id} not suspended: {result.details}")
                await client.create_flow_run_input(run.id, keyset["schema"], schema)
            done += 1
            if done % max(n // 10, 1) == 0:
                say(f"  {done} runs suspended, {done / (time.monotonic() - started):.1f} runs/s")
            return run.id

        return list(await asyncio.gather(*(one(i) for i in range(n))))


def time_ui(api: str, ids: list[UUID], calls: int) -> None:
    paused = {"state": {"type": {"any_": ["PAUSED"]}, "name": {"any_": ["Suspended"]}}}
    queries: list[tuple[str, str, Any]] = [
        ("filter newest 10 (EXPECTED_START_TIME_DESC)", "/flow_runs/filter",
         {"sort": "EXPECTED_START_TIME_DESC", "limit": 10, "offset": 0}),
        ("filter Suspended, 50", "/flow_runs/filter",
         {"flow_runs": paused, "sort": "EXPECTED_START_TIME_DESC", "limit": 50, "offset": 0}),
        ("paginate page 1 of 10 (UI v2 runs page)", "/flow_runs/paginate",
         {"page": 1, "limit": 10, "sort": "START_TIME_DESC"}),
        ("count all", "/flow_runs/count", {}),
        ("count Suspended", "/flow_runs/count", {"flow_runs": paused}),
        ("ui history 1000 (runs page chart)", "/ui/flow_runs/history",
         {"sort": "EXPECTED_START_TIME_DESC", "limit": 1000, "offset": 0}),
        ("ui count-task-runs, 10 runs", "/ui/flow_runs/count-task-runs",
         {"flow_run_ids": [str(i) for i in ids[:10]]}),
        ("GET one run", f"/flow_runs/{ids[len(ids) // 2]}", None),
    ]
    for what, path, body in queries:
        times = []
        for _ in range(calls + 1):  # the first on a cold cache, right after the restart
            t = time.perf_counter()
            _call(api, path, body)
            times.append(1000 * (time.perf_counter() - t))
        warm = sorted(times[1:])
        p95 = warm[max(math.ceil(0.95 * len(warm)) - 1, 0)]
        say(f"{what:45s} first {times[0]:7.1f} ms, p50 {statistics.median(warm):7.1f} ms, "
            f"p95 {p95:7.1f} ms", True)


def resume_one(api: str, run_id: UUID) -> tuple[float, float]:
    """Seconds from the resume call until the run is Pending (the runner took it) and
    Running (its process started the flow), from the server's state timestamps."""
    t0 = time.time()
    result = _call(api, f"/flow_runs/{run_id}/resume",
                   {"run_input": {"actor": "bench", "act": "sync"}})
    if result["status"] != "ACCEPT":
        raise RuntimeError(f"resume of {run_id} refused: {result['details']}")
    deadline = time.monotonic() + 120
    while _call(api, f"/flow_runs/{run_id}")["state_type"] in ("SCHEDULED", "PENDING"):
        if time.monotonic() > deadline:
            raise RuntimeError(f"run {run_id} did not start within 120 s of its resume")
        time.sleep(0.05)
    since = [(s["type"], datetime.fromisoformat(s["timestamp"]).timestamp() - t0)
             for s in _call(api, f"/flow_run_states/?flow_run_id={run_id}")]
    first = {t: min((d for s, d in since if s == t and d > -1), default=math.nan)
             for t in ("PENDING", "RUNNING")}
    return first["PENDING"], first["RUNNING"]


def count_states(api: str) -> str:
    counts = {t: _call(api, "/flow_runs/count",
                       {"flow_runs": {"state": {"type": {"any_": [t]}}}}) for t in STATE_TYPES}
    return ", ".join(f"{t} {c}" for t, c in counts.items() if c)


def _polled_since(api: str, deployment_id: UUID, since: float) -> bool:
    polled = _call(api, f"/deployments/{deployment_id}").get("last_polled")
    return bool(polled) and datetime.fromisoformat(polled).timestamp() >= since


def _end(proc: subprocess.Popen[bytes] | None, grace: float = 30) -> None:
    """SIGTERM to ``proc``'s process group, then SIGKILL to whatever of its tree is left."""
    if proc is None or proc.poll() is not None:
        return
    tree = {p: _stat(p)[19] for p in _tree(proc.pid)}  # with their start times
    os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(grace)
    for p, started in tree.items():
        with contextlib.suppress(OSError):
            if _stat(p)[19] == started:  # still that process, not a new one with its id
                os.kill(p, signal.SIGKILL)
    proc.wait()


def _existing(start: Any, api: str, settings: Settings) -> UUID:
    start("an earlier run's database")
    return UUID(_call(api, "/deployments/name/petition-lifecycle/lifecycle")["id"])


def main() -> None:
    settings = Settings.from_env()
    api, log, n = pe.api_url(settings), settings.prefect_home / "server.log", ARGS.runs
    server: subprocess.Popen[bytes] | None = None
    runner: subprocess.Popen[bytes] | None = None
    say(f"home {HOME}, server {api}, {n} runs")

    def start(what: str) -> subprocess.Popen[bytes]:
        nonlocal server
        if server is not None:
            t = time.monotonic()
            pe.stop(server)
            say(f"server stop: {time.monotonic() - t:.1f} s", True)
        t = time.monotonic()
        server = pe.start_server(settings, log)
        pe.wait_until_healthy(server, api, 600, lambda _s: None, log)
        say(f"server start to healthy, {what}: {time.monotonic() - t:.1f} s", True)
        return server

    def refused() -> int:
        return log.read_text(errors="replace").count(RETRYABLE)

    try:
        if ARGS.existing:
            deployment_id = _existing(start, api, settings)
            ids = [UUID(r["id"]) for r in _call(api, "/flow_runs/filter", {
                "flow_runs": {"state": {"type": {"any_": ["PAUSED"]}}}, "limit": 200})]
            n = int(_call(api, "/flow_runs/count", {
                "flow_runs": {"state": {"type": {"any_": ["PAUSED"]}}}}))
            say(f"{n} suspended runs there (an earlier run's), Prefect database: "
                f"{_db_size(settings)}", True)
        else:
            idle_cpu(start("empty database").pid, ARGS.idle_seconds, "empty database (baseline)")
            deployment: Any = lifecycle.to_deployment(name="lifecycle")
            deployment_id: UUID = deployment.apply()

            t, before = time.monotonic(), refused()
            ids = asyncio.run(create_runs(deployment_id, n, ARGS.concurrency))
            took = time.monotonic() - t
            say(f"{n} suspended runs created in {took:.1f} s: {n / took:.1f} runs/s "
                f"(concurrency {ARGS.concurrency}; {refused() - before} calls refused "
                "'database is locked')", True)
            say(f"Prefect database after creating: {_db_size(settings)}", True)
            state = _call(api, f"/flow_runs/{ids[0]}")["state"]
            details = {k: v for k, v in state["state_details"].items()
                       if k.startswith(("pause", "run"))}
            say(f"one run as stored: {state['type']}/{state['name']}, {details}")
        start(f"{n} suspended runs, restart 1")
        proc = start(f"{n} suspended runs, restart 2")
        say(f"Prefect database after the restarts: {_db_size(settings)}", True)
        time_ui(api, ids, ARGS.calls)
        idle_cpu(proc.pid, ARGS.idle_seconds, f"{n} suspended runs")
        say(f"runs by state type before the runner: {count_states(api)}", True)

        since, t = time.time(), time.monotonic()
        runner = subprocess.Popen([sys.executable, __file__, "--serve"], cwd=ROOT,
                                  stdout=(settings.home / "runner.log").open("ab"),
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  preexec_fn=pe.tied_to_parent(signal.SIGTERM))
        while not _polled_since(api, deployment_id, since):  # the runner asked for runs
            if runner.poll() is not None or time.monotonic() - t > 180:
                raise RuntimeError(f"the runner did not poll (see {settings.home}/runner.log)")
            time.sleep(0.2)
        say(f"runner start to its first poll: {time.monotonic() - t:.1f} s", True)
        resumed = ids[:ARGS.resumes]
        pending, running = [], []
        for run_id in resumed:
            p, r = resume_one(api, run_id)
            pending.append(p)
            running.append(r)
            say(f"  resumed {run_id}: Pending after {p:.2f} s, Running after {r:.2f} s")
        for what, xs in (("Pending", pending), ("Running", running)):
            if xs:
                say(f"resume to {what} ({len(xs)}): p50 {statistics.median(xs):.2f} s, "
                    f"max {max(xs):.2f} s", True)
        deadline = time.monotonic() + 60  # the resumed runs end (their cases do not exist)
        while time.monotonic() < deadline and any(
                _call(api, f"/flow_runs/{i}")["state_type"] in ("SCHEDULED", "PENDING", "RUNNING")
                for i in resumed):
            time.sleep(1)
        for i in resumed:
            state = _call(api, f"/flow_runs/{i}")["state"]
            say(f"  {i}: {state['name']}: {(state.get('message') or '').strip()[:120]}")
        say(f"runs by state type with the runner serving: {count_states(api)}", True)
        _end(runner)

        os.environ["PREFECT_SERVER_SERVICES_PAUSE_EXPIRATIONS_ENABLED"] = "false"
        idle_cpu(start(f"{n} runs, pause expirations off").pid, ARGS.idle_seconds,
                 f"{n} suspended runs, pause-expirations service off")
    finally:
        _end(runner)
        if server is not None:
            pe.stop(server)
    print("\nsummary\n" + "\n".join(f"  {f}" for f in FIGURES), flush=True)
    if OWN_HOME:
        shutil.rmtree(HOME, ignore_errors=True)


if __name__ == "__main__":
    if "--serve" in sys.argv:
        serve(lifecycle.to_deployment(name="lifecycle"),  # type: ignore[arg-type]
              limit=None, query_seconds=2, pause_on_shutdown=False)
    else:
        main()
