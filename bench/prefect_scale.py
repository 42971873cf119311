"""Prefect's server holding a city's open petitions: N suspended ``petition-lifecycle``
runs beside our own N open cases, on the embedded SQLite server or on PostgreSQL.

    .venv/bin/python bench/prefect_scale.py [--runs 50000] [--checkpoints 5000,50000] \\
        [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/prefect_scale] \\
        [--concurrency 4] [--resumes 50] [--idle-seconds 60] [--calls 20] \\
        [--max-minutes M] [--home PATH] [--out results.json] [--keep]

In a throw-away ``PETITIONS_HOME``: our database (an SQLite file in the home, or with
``--database-url`` a PostgreSQL database ``<name>_cases`` beside Prefect's on the same
server, both made fresh and dropped after) gets N open cases of a 40-mine group
(``bench/scale_data.py``: the youngest petitions of two years, each at the stage its age
took it). Prefect's server is started as ``petitions serve`` starts it (its
pause-expirations service off), timed to healthy; the lifecycle deployment registered;
then one run per case is created through the API and suspended as the flow suspends it:
created from the deployment with the case's idempotency key, Pending (the runner's),
Running (the flow's), Suspended with no timeout under the key of the case's first wait, the
form of the case's stage saved as the run's input schema; each case's run and open wait
recorded in our database as ``start_lifecycle`` and ``wait_at`` record them. No task run,
artifact or log is made at creation (the flow's ``next_step``, ``publish_timeline`` and
``wait_at`` are not run there); the resumed runs below run them for real.

The creation rate is printed per 1,000. At each checkpoint: the server restarted with the
pause-expirations service on (timed; the idle CPU), and restarted as served (timed; the
database's size; the UI's runs page and a run's page, each call p50/p95 over random runs;
the idle CPU of the server and of its PostgreSQL backends); then a runner serving the
deployment as ``petitions serve`` does (query_seconds 2) and ``--resumes`` runs resumed
one at a time with a ``sync`` answer, as ``flows.heal`` does: each timed from the resume
call to Pending and Running (the server's state timestamps), then read again, re-suspended
at its case's next wait. Creation stops at a failure (a call refused after retries) or
after ``--max-minutes``, where the last checkpoint is taken. Prints the figures and the
ratio of the last checkpoint to the first; leaves nothing running.

With ``--clone B`` (for a session's hours: 50,000 through the API take 3-5 hours on 2
cores), B runs are created through the API first, then before each checkpoint B more (their
rates are the ones measured), and the runs between are copies of the first B written into
Prefect's database with the server stopped (``prefect_parts.clone_runs``); our database
then holds only the API-created runs' cases, and the resumes are drawn from those. Every
call sends the home's ``PREFECT_API_AUTH_STRING`` (``flows.prefect_env``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import prefect_parts as pp  # noqa: E402

if __name__ == "__main__" and "--serve" not in sys.argv:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=50000, help="suspended runs to hold")
    parser.add_argument("--checkpoints", default="5000,50000")
    parser.add_argument("--database-url", help="Prefect's server on this PostgreSQL "
                        "database (postgresql+asyncpg://…; made fresh, dropped after)")
    parser.add_argument("--home", type=Path, help="a new PETITIONS_HOME (default: temporary)")
    parser.add_argument("--concurrency", type=int, default=4, help="runs created at once")
    parser.add_argument("--resumes", type=int, default=50)
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--calls", type=int, default=20, help="timed calls per UI query")
    parser.add_argument("--max-minutes", type=float, help="stop creating after this long")
    parser.add_argument("--clone", type=int, default=0, metavar="B", help="create B runs "
                        "through the API first and before each checkpoint; the runs "
                        "between are copies of the first B, written into Prefect's database")
    parser.add_argument("--out", type=Path, help="the figures as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the databases and home")
    ARGS = parser.parse_args()
    OWN_HOME = ARGS.home is None
    HOME = (ARGS.home or Path(tempfile.mkdtemp(prefix="petitions-prefect-scale-"))).resolve()
    PG = ARGS.database_url
    CASES = pp.sync_url(PG, pp.make_name(PG, "_cases")) if PG else \
        f"sqlite:///{HOME / 'petitions.db'}"
    os.environ.update({"PETITIONS_HOME": str(HOME), "PETITIONS_DATABASE_URL": CASES,
                       "PETITIONS_CONFIG_DIR": str(HOME / "config"),
                       "PETITIONS_PREFECT_PORT": str(pp.free_port()),
                       "PREFECT_LOGGING_LEVEL": "WARNING"})
    for name in ("PREFECT_API_URL", "PETITIONS_SIMULATED_CLOCK", "PREFECT_API_AUTH_STRING",
                 "PREFECT_SERVER_API_AUTH_STRING", "PREFECT_API_DATABASE_CONNECTION_URL"):
        os.environ.pop(name, None)
    if PG:  # and the query key every process on PostgreSQL shares (deploy/cluster.py's)
        os.environ["PREFECT_API_DATABASE_CONNECTION_URL"] = PG
        os.environ.setdefault("PETITIONS_QUERY_KEY", os.urandom(32).hex())

from flows import prefect_env as pe  # noqa: E402
from services.settings import Settings  # noqa: E402

pe.configure(Settings.from_env())  # and, where the home keeps one, Prefect's auth string

from prefect import serve  # noqa: E402
from prefect._internal.pydantic.v2_schema import create_v2_schema  # noqa: E402
from prefect.client.orchestration import get_client  # noqa: E402
from prefect.client.schemas.responses import SetStateStatus  # noqa: E402
from prefect.input.run_input import keyset_from_paused_state  # noqa: E402
from prefect.states import Pending, Running, Suspended  # noqa: E402

from domain.stages import Stage  # noqa: E402
from flows.inputs import step_input  # noqa: E402
from flows.lifecycle import lifecycle  # noqa: E402
from flows.tasks import wait_key  # noqa: E402

PAUSED = {"state": {"type": {"any_": ["PAUSED"]}}}
R: dict[str, Any] = {"blocks": [], "checkpoints": [], "notes": []}


def say(line: str) -> None:
    print(f"{datetime.now():%H:%M:%S} {line}", flush=True)


def _schemas() -> dict[str, str]:
    out = {}
    for stage in Stage:
        if stage is not Stage.CLOSED:
            form = step_input(stage)
            out[stage.value] = json.dumps(create_v2_schema(form.__name__, model_base=form))
    return out


async def create_runs(deployment_id: UUID, cases: list[tuple[str, str]], held: int,
                      runs: dict[str, str], deadline: float) -> int:
    """A run for each of ``cases``, each suspended as the lifecycle flow suspends at its
    case's first wait, recorded in our database a thousand at a time (``held``: the runs
    there before). Returns how many (fewer at a failure or past ``deadline``)."""
    from sqlalchemy import insert

    from flows.tasks import app
    from storage.tables import lifecycle_runs

    schemas, gate = _schemas(), asyncio.Semaphore(ARGS.concurrency)
    a = app()
    assert a.engine is not None

    async with get_client() as client:
        async def one(case_id: str, stage: str) -> None:
            async with gate:
                run = await client.create_flow_run_from_deployment(
                    deployment_id, parameters={"case_id": case_id},
                    idempotency_key=f"petition:{case_id}")
                await client.set_flow_run_state(run.id, Pending())  # the runner's
                await client.set_flow_run_state(run.id, Running())  # the flow's start
                key = wait_key(Stage(stage), 1)
                state: Any = Suspended(pause_key=key)  # as asuspend_flow_run(timeout=None)
                keyset = keyset_from_paused_state(state)
                state.state_details.run_input_keyset = keyset
                done = await client.set_flow_run_state(run.id, state)
                if done.status != SetStateStatus.ACCEPT:
                    raise RuntimeError(f"run {run.id} not suspended: {done.details}")
                await client.create_flow_run_input(run.id, keyset["schema"], schemas[stage])
                runs[case_id] = str(run.id)

        at = 0
        while at < len(cases):
            block, t = cases[at:at + 1000], time.monotonic()
            try:
                await asyncio.gather(*(one(c, s) for c, s in block))
            except Exception as e:
                R["notes"].append(f"creation failed at {at}: {type(e).__name__}: {e}")
                say(R["notes"][-1])
                break
            took = time.monotonic() - t
            now = a.clock.now()
            with a.engine.begin() as conn:  # as start_lifecycle and wait_at record them
                conn.execute(insert(lifecycle_runs), [
                    {"case_id": c, "flow_run_id": runs[c], "started_at": now, "waits": 1,
                     "wait_key": wait_key(Stage(s), 1), "wait_stage": s, "wait_open": True}
                    for c, s in block])
            at += len(block)
            R["blocks"].append([held + at, round(len(block) / took, 2)])
            say(f"  {held + at} runs suspended: {len(block) / took:.1f} runs/s for the last "
                f"{len(block)} ({pp.machine_load()})")
            if time.monotonic() > deadline:
                R["notes"].append(f"creation stopped at {held + at}: --max-minutes reached")
                break
    return at


class Server:
    """The office's Prefect server, started as ``petitions serve`` starts it."""

    def __init__(self, settings: Settings) -> None:
        self.settings, self.proc = settings, None
        self.log = settings.prefect_home / "server.log"
        self.api = pp.Api(pe.api_url(settings))
        self.api.auth(os.environ.get("PREFECT_API_AUTH_STRING"))

    def stop(self) -> None:
        if self.proc is not None:
            pe.stop(self.proc)
            self.proc = None

    def start(self, expirations: bool = False) -> float:
        self.stop()
        os.environ[pe.PAUSE_EXPIRATIONS] = "true" if expirations else "false"
        t = time.monotonic()
        self.proc = pe.start_server(self.settings, self.log)
        pe.wait_until_healthy(self.proc, self.api.url, 600, lambda _s: None, self.log)
        return round(time.monotonic() - t, 2)

    def idle_cpu(self, seconds: float) -> dict[str, float]:
        """Percent of one core over ``seconds``: the server's process tree, and (on
        PostgreSQL) the backends of Prefect's database."""
        assert self.proc is not None
        time.sleep(10)  # the services' first rounds after the start
        server, backends = pp.tree(self.proc.pid), pp.postgres_pids(_pg_name()) if PG else []
        before = pp.cpu_seconds(server), pp.cpu_seconds(backends)
        time.sleep(seconds)
        after = pp.cpu_seconds(server), pp.cpu_seconds(backends)
        return {"server": round(100 * (after[0] - before[0]) / seconds, 1),
                "postgres": round(100 * (after[1] - before[1]) / seconds, 1)}


def _pg_name() -> str:
    from sqlalchemy.engine import make_url

    return str(make_url(PG).database)


def settings_url(settings: Settings) -> str:
    return f"sqlite:///{settings.prefect_home / 'prefect.db'}"


def db_mib(settings: Settings) -> float:
    return round(pp.prefect_db_mib(PG or "sqlite", settings.prefect_home), 1)


def resumes(server: Server, deployment_id: str, ids: list[str], n: int) -> dict[str, Any]:
    """A runner serving the deployment; ``n`` runs resumed one at a time, each once it
    is Running the next; then each read again until it is suspended at its next wait."""
    api, since, t = server.api, time.time(), time.monotonic()
    runner = subprocess.Popen([sys.executable, __file__, "--serve"], cwd=ROOT,
                              stdout=(HOME / "runner.log").open("ab"), stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL,
                              preexec_fn=pe.tied_to_parent(signal.SIGTERM))
    try:
        while True:  # until the runner asks for runs
            polled = api(f"/deployments/{deployment_id}").get("last_polled")
            if polled and datetime.fromisoformat(polled).timestamp() >= since:
                break
            if runner.poll() is not None or time.monotonic() - t > 180:
                raise RuntimeError(f"the runner did not poll (see {HOME}/runner.log)")
            time.sleep(0.2)
        out: dict[str, Any] = {"runner_first_poll_s": round(time.monotonic() - t, 1),
                               "pending": [], "running": []}
        chosen = random.Random(len(ids) + 1).sample(ids, n)
        for run_id in chosen:
            p, r = pp.resume(api, run_id)
            out["pending"].append(round(p, 2))
            out["running"].append(round(r, 2))
        deadline, left = time.monotonic() + 300, set(chosen)
        while left and time.monotonic() < deadline:
            time.sleep(2)
            left = {i for i in left if api(f"/flow_runs/{i}")["state_type"] != "PAUSED"}
        states: dict[str, int] = {}
        for i in chosen:
            s = api(f"/flow_runs/{i}")["state"]
            key = f"{s['name']} at {s['state_details'].get('pause_key')}"
            states[key] = states.get(key, 0) + 1
        out["after"] = states
        return out
    finally:
        pp.end(runner)


def checkpoint(server: Server, deployment_id: str, ids: list[str], with_cases: list[str],
               empty: float) -> None:
    """The figures with ``ids`` suspended; the runs resumed are of ``with_cases``."""
    n = len(ids)
    say(f"checkpoint at {n} suspended runs ({pp.machine_load()})")
    c: dict[str, Any] = {"runs": n, "load_before": pp.machine_load()}
    c["start_expirations_on_s"] = server.start(expirations=True)
    c["idle_cpu_expirations_on"] = server.idle_cpu(ARGS.idle_seconds)
    c["start_s"] = server.start()
    c["db_mib"] = db_mib(server.settings)
    c["mib_per_1000"] = round((c["db_mib"] - empty) / n * 1000, 2)
    if PG:
        c["tables_mib"] = pp.largest_tables(PG)
    say(f"  start {c['start_s']} s (expirations on: {c['start_expirations_on_s']} s), "
        f"idle with expirations {c['idle_cpu_expirations_on']}, {c['db_mib']} MiB")
    c["ui_ms"] = pp.time_ui(server.api, ids, ARGS.calls)
    for what, xs in c["ui_ms"].items():
        say(f"  {what:40s} first {xs[0]:7.1f} ms, p50 {pp.p50(xs[1:]):7.1f}, "
            f"p95 {pp.pct(xs[1:], 0.95):7.1f}")
    c["idle_cpu"] = server.idle_cpu(ARGS.idle_seconds)
    say(f"  idle CPU as served: {c['idle_cpu']} % of a core")
    c["resumes"] = resumes(server, deployment_id, with_cases,
                           min(ARGS.resumes, len(with_cases)))
    r = c["resumes"]
    say(f"  resume to Pending p50 {pp.p50(r['pending']):.2f} p95 "
        f"{pp.pct(r['pending'], 0.95):.2f} s; to Running p50 {pp.p50(r['running']):.2f} "
        f"p95 {pp.pct(r['running'], 0.95):.2f} s; after: {r['after']}")
    c["suspended"] = server.api("/flow_runs/count", {"flow_runs": PAUSED})
    c["load_after"] = pp.machine_load()
    R["checkpoints"].append(c)
    _save()


def _save() -> None:
    if ARGS.out:
        ARGS.out.write_text(json.dumps(R, indent=1))


def main() -> None:
    settings = Settings.from_env()
    R.update(started=datetime.now().isoformat(timespec="seconds"), machine=os.cpu_count(),
             database="postgresql" if PG else "sqlite", args=vars(ARGS) | {
                 "home": str(HOME), "out": str(ARGS.out)})
    wanted = sorted({int(x) for x in ARGS.checkpoints.split(",")} | {ARGS.runs})
    if PG:
        pp.fresh_database(PG)
        pp.fresh_database(CASES)
    server = Server(settings)
    say(f"home {HOME}, Prefect on {'PostgreSQL' if PG else 'SQLite'}, our database {CASES}")
    try:
        cases, line = pp.our_open_cases(HOME / "config", CASES, ARGS.clone * (
            len(wanted) + 1) if ARGS.clone else ARGS.runs, pp.utc_now())
        say(line)
        R["cases"] = line
        R["start_empty_s"] = server.start()
        R["db_mib_empty"] = empty = db_mib(settings)
        R["idle_cpu_empty"] = server.idle_cpu(ARGS.idle_seconds)
        say(f"server start, empty database: {R['start_empty_s']} s, {empty} MiB, idle "
            f"{R['idle_cpu_empty']} % of a core")
        deployment_id = str(lifecycle.to_deployment(name="lifecycle").apply())
        runs: dict[str, str] = {}  # case → run, of the runs created through the API
        ids: list[str] = []  # every run
        deadline = time.monotonic() + 60 * (ARGS.max_minutes or 1e9)
        t, used = time.monotonic(), 0

        def through_api(count: int) -> bool:
            nonlocal used
            take = cases[used:used + count]
            made = asyncio.run(create_runs(UUID(deployment_id), take, len(ids), runs,
                                           deadline))
            used += made
            ids.extend(runs[k] for k, _ in take[:made])
            return made == count

        for mark in wanted:
            if ARGS.clone:  # B through the API, copies of the first B, then B again
                if not ids and not through_api(ARGS.clone):
                    break
                server.stop()
                c, case_of = time.monotonic(), {r: k for k, r in runs.items()}
                copies = pp.clone_runs(PG or settings_url(settings), ids[:ARGS.clone],
                                       mark - ARGS.clone - len(ids), len(ids), case_of)
                ids += copies
                say(f"{len(copies)} runs copied in {time.monotonic() - c:.0f} s")
                server.start()
            ok = through_api(ARGS.clone if ARGS.clone else mark - len(ids))
            if ids:
                checkpoint(server, deployment_id, ids, [runs[k] for k, _ in cases[:used]],
                           empty)
            if not ok:
                break
        R["create_minutes"] = round((time.monotonic() - t) / 60, 1)
        R["busy_retries"] = server.api.busy
    finally:
        server.stop()
        R["finished"] = datetime.now().isoformat(timespec="seconds")
        _save()
        if PG and not ARGS.keep:
            pp.drop_database(PG)
            pp.drop_database(CASES)
    pp.summary(R, bool(PG))
    if OWN_HOME and not ARGS.keep:
        shutil.rmtree(HOME, ignore_errors=True)


if __name__ == "__main__":
    if "--serve" in sys.argv:
        serve(lifecycle.to_deployment(name="lifecycle"),  # type: ignore[arg-type]
              limit=None, query_seconds=2, pause_on_shutdown=False)
    else:
        main()
