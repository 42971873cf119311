"""Helpers of ``bench/prefect_scale.py``: Prefect's REST API with the home's basic auth, the
process tree's CPU, databases made and dropped, sizes, and our own open cases.

Imports no Prefect (the driver configures Prefect's environment before it is imported).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import math
import os
import random
import signal
import socket
import statistics
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(xs: list[float], q: float) -> float:
    """The ``q`` quantile of ``xs`` (nearest rank): p95 of 50 is the 48th."""
    s = sorted(xs)
    return s[max(math.ceil(q * len(s)) - 1, 0)] if s else math.nan


def p50(xs: list[float]) -> float:
    return statistics.median(xs) if xs else math.nan


class Api:
    """Prefect's REST API at ``url`` (``…/api``), with the basic auth every client of this
    home sends (``PREFECT_API_AUTH_STRING``) when there is one. A 503 (SQLite busy) is
    tried again after a second, as Prefect's client does, and counted."""

    def __init__(self, url: str) -> None:
        self.url, self.busy = url, 0
        self.headers = {"Content-Type": "application/json"}

    def auth(self, secret: str | None) -> None:
        if secret:
            token = base64.b64encode(secret.encode()).decode()
            self.headers["Authorization"] = f"Basic {token}"

    def __call__(self, path: str, body: Any = None, method: str | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.url}{path}", data=data, method=method,
                                     headers=self.headers)
        for attempt in range(8):
            try:
                with urllib.request.urlopen(req, timeout=300) as r:
                    text = r.read()
                    return json.loads(text) if text else None
            except urllib.error.HTTPError as e:
                if e.code != 503 or attempt == 7:
                    raise RuntimeError(f"{path}: {e.code} {e.read()[:300]!r}") from e
                self.busy += 1
                time.sleep(1)

    def timed(self, path: str, body: Any = None) -> float:
        t = time.perf_counter()
        self(path, body)
        return time.perf_counter() - t


def time_ui(api: Api, ids: list[str], calls: int) -> dict[str, list[float]]:
    """The calls of the UI's runs page (on all runs) and of a run's page (each on a random
    suspended run), in ms: p50 and p95 (the first call, right after a restart, apart)."""
    paused = {"state": {"type": {"any_": ["PAUSED"]}, "name": {"any_": ["Suspended"]}}}
    pick = random.Random(len(ids)).choice
    runs_page: list[tuple[str, str, Any]] = [
        ("runs page: paginate, page 1 of 10", "/flow_runs/paginate",
         {"page": 1, "limit": 10, "sort": "START_TIME_DESC"}),
        ("runs page: history chart (1,000)", "/ui/flow_runs/history",
         {"sort": "EXPECTED_START_TIME_DESC", "limit": 1000, "offset": 0}),
        ("runs page: count", "/flow_runs/count", {}),
        ("runs page: filter Suspended, 50", "/flow_runs/filter",
         {"flow_runs": paused, "sort": "EXPECTED_START_TIME_DESC", "limit": 50}),
        ("runs page: task-run counts of 10 runs", "/ui/flow_runs/count-task-runs",
         {"flow_run_ids": ids[:10]})]
    out = {}
    for what, path, body in runs_page:
        times = [1000 * api.timed(path, body) for _ in range(calls + 1)]
        out[what] = times
    run_page = [
        ("run page: the run", "/flow_runs/{id}", None),
        ("run page: graph-v2", "/flow_runs/{id}/graph-v2", None),
        ("run page: its form's schema", "/flow_runs/{id}/input/{schema}", None),
        ("run page: task runs count", "/task_runs/count",
         {"flow_runs": {"id": {"any_": ["{id}"]}}}),
        ("run page: logs", "/logs/filter",
         {"logs": {"flow_run_id": {"any_": ["{id}"]}}, "limit": 50, "sort": "TIMESTAMP_ASC"})]
    for what, path, body in run_page:
        times = []
        for _ in range(calls + 1):
            run_id = pick(ids)
            run = api(f"/flow_runs/{run_id}")
            schema = run["state"]["state_details"]["run_input_keyset"]["schema"]
            p = path.format(id=run_id, schema=schema)
            b = json.loads(json.dumps(body).replace("{id}", run_id)) if body else None
            times.append(1000 * api.timed(p, b))
        out[what] = times
    return out


def resume(api: Api, run_id: str) -> tuple[float, float]:
    """Seconds from the resume call to Pending (the runner took it) and to Running (its
    process started the flow), from the server's state timestamps."""
    t0 = time.time()
    result = api(f"/flow_runs/{run_id}/resume", {"run_input": {"actor": "bench",
                                                               "act": "sync"}})
    if result["status"] != "ACCEPT":
        raise RuntimeError(f"resume of {run_id} refused: {result['details']}")
    deadline = time.monotonic() + 180
    while api(f"/flow_runs/{run_id}")["state_type"] in ("SCHEDULED", "PENDING"):
        if time.monotonic() > deadline:
            raise RuntimeError(f"run {run_id} did not start within 180 s of its resume")
        time.sleep(0.05)
    since = [(s["type"], datetime.fromisoformat(s["timestamp"]).timestamp() - t0)
             for s in api(f"/flow_run_states/?flow_run_id={run_id}")]
    first = [min((d for s, d in since if s == t and d > -1), default=float("nan"))
             for t in ("PENDING", "RUNNING")]
    return first[0], first[1]


def summary(R: dict[str, Any], pg: bool) -> None:
    """The first checkpoint's figures beside the last's, and their ratios."""
    cps = R["checkpoints"]
    if not cps:
        return
    a, b = cps[0], cps[-1]
    rows: list[tuple[str, Any, Any]] = [
        ("server start to healthy, s", a["start_s"], b["start_s"]),
        ("idle server CPU, % of a core", a["idle_cpu"]["server"], b["idle_cpu"]["server"]),
        ("idle PostgreSQL backends CPU, %", a["idle_cpu"]["postgres"],
         b["idle_cpu"]["postgres"]),
        ("idle CPU, expirations on, %", a["idle_cpu_expirations_on"]["server"],
         b["idle_cpu_expirations_on"]["server"]),
        ("Prefect database, MiB", a["db_mib"], b["db_mib"]),
        ("MiB per 1,000 runs", a["mib_per_1000"], b["mib_per_1000"]),
        ("resume to Pending p50, s", p50(a["resumes"]["pending"]),
         p50(b["resumes"]["pending"])),
        ("resume to Running p50, s", p50(a["resumes"]["running"]),
         p50(b["resumes"]["running"])),
        ("resume to Running p95, s", pct(a["resumes"]["running"], 0.95),
         pct(b["resumes"]["running"], 0.95))]
    for what in a["ui_ms"]:
        rows.append((f"{what} p95, ms", pct(a["ui_ms"][what][1:], 0.95),
                     pct(b["ui_ms"][what][1:], 0.95)))
    rates = dict((k, v) for k, v in R["blocks"])
    first, last = R["blocks"][0][1], R["blocks"][-1][1]
    rows.append(("creation, runs/s (first / last 1,000)", first, last))
    rows.append((f"creation, runs/s at the {a['runs']}th", rates.get(a["runs"]), last))
    print(f"\nsummary ({'PostgreSQL' if pg else 'SQLite'}): {a['runs']} → {b['runs']} runs")
    for what, x, y in rows:
        ratio = f"{y / x:5.2f}" if isinstance(x, (int, float)) and x and y is not None else ""
        cells = [f"{v:9.2f}" if isinstance(v, (int, float)) else f"{v!s:>9}" for v in (x, y)]
        print(f"  {what:48s} {cells[0]} {cells[1]}  {ratio}")
    print(f"  last 1,000 / first 1,000: {last / first:.2f} (target at least 0.7)")
    for note in R["notes"]:
        print(f"  note: {note}")


# --- processes -------------------------------------------------------------------------
def _stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command's name (state, ppid, ...)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def tree(pid: int) -> list[int]:
    """``pid`` and its live descendants."""
    kids: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        with contextlib.suppress(OSError, ValueError, IndexError):
            kids.setdefault(int(_stat(int(d.name))[1]), []).append(int(d.name))
    found = [pid]
    for p in found:  # the list grows as it is walked
        found += kids.get(p, [])
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU of ``pids`` and their children, live and reaped."""
    ticks = 0
    for p in pids:
        with contextlib.suppress(OSError):
            ticks += sum(int(f) for f in _stat(p)[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_pids(database: str) -> list[int]:
    """The PostgreSQL backends serving ``database`` (the server's pool), by their titles."""
    found = []
    for d in Path("/proc").iterdir():
        with contextlib.suppress(OSError, ValueError):
            title = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if title.startswith("postgres: ") and f" {database} " in title:
                found.append(int(d.name))
    return found


def machine_load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def end(proc: subprocess.Popen[bytes] | None, grace: float = 30) -> None:
    """SIGTERM to ``proc``'s process group, then SIGKILL to whatever of its tree is left
    (each still the process it was: its start time is compared)."""
    if proc is None or proc.poll() is not None:
        return
    left = {p: _stat(p)[19] for p in tree(proc.pid)}
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(grace)
    for p, started in left.items():
        with contextlib.suppress(OSError):
            if _stat(p)[19] == started:
                os.kill(p, signal.SIGKILL)
    proc.wait()


# --- databases ---------------------------------------------------------------------------
def _admin(url: str) -> Any:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    admin = make_url(url).set(drivername="postgresql+psycopg", database="postgres")
    return create_engine(admin, isolation_level="AUTOCOMMIT")


def fresh_database(url: str) -> None:
    """Drop and create the PostgreSQL database of ``url``."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    engine = _admin(url)
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def drop_database(url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    engine = _admin(url)
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    engine.dispose()


def make_name(url: str, suffix: str) -> str:
    """The database name of ``url`` with ``suffix``: ``prefect_scale_cases``."""
    from sqlalchemy.engine import make_url

    return f"{make_url(url).database}{suffix}"


def utc_now() -> dt.datetime:
    import pendulum  # as bench/scale.py's NOW

    return pendulum.now("UTC").replace(microsecond=0)


def sync_url(url: str, database: str | None = None) -> str:
    """``url`` with the psycopg driver (and another database)."""
    from sqlalchemy.engine import make_url

    u = make_url(url).set(drivername="postgresql+psycopg")
    return (u.set(database=database) if database else u).render_as_string(hide_password=False)


def prefect_db_mib(url: str, sqlite_dir: Path) -> float:
    """Prefect's database: ``pg_database_size`` (after ``CHECKPOINT``), or the SQLite files
    (the database, its WAL and shared memory)."""
    if url.startswith("sqlite"):
        return sum(p.stat().st_size for p in sqlite_dir.glob("prefect.db*")) / 2**20
    from sqlalchemy import create_engine, text

    engine = create_engine(sync_url(url))
    with engine.connect() as conn:
        size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar()
    engine.dispose()
    return int(size or 0) / 2**20


def largest_tables(url: str, n: int = 6) -> str:
    """Prefect's largest tables with their indexes and TOAST (PostgreSQL)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(sync_url(url))
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT relname, pg_total_relation_size(relid) FROM pg_statio_user_tables "
            "ORDER BY 2 DESC LIMIT :n"), {"n": n}).all()
    engine.dispose()
    return ", ".join(f"{r[0]} {r[1] / 2**20:.0f}" for r in rows)


def top_statements(url: str, n: int = 8) -> list[str]:
    """The statements on Prefect's database that took the most time since the last reset
    (``pg_stat_statements``, when the server loads it), then reset."""
    from sqlalchemy import create_engine, text

    engine = create_engine(sync_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT calls, total_exec_time, mean_exec_time, left(regexp_replace(query, "
                "'\\s+', ' ', 'g'), 160) FROM pg_stat_statements s JOIN pg_database d "
                "ON d.oid = s.dbid WHERE d.datname = current_database() "
                "ORDER BY total_exec_time DESC LIMIT :n"), {"n": n}).all()
            conn.execute(text("SELECT pg_stat_statements_reset()"))
    except Exception as e:  # not loaded (shared_preload_libraries): say so
        return [f"(pg_stat_statements unavailable: {str(e).splitlines()[0][:120]})"]
    finally:
        engine.dispose()
    return [f"{r[0]:>6} calls {r[1] / 1000:7.1f} s total {r[2]:8.2f} ms mean  {r[3]}"
            for r in rows]


# --- our open cases ----------------------------------------------------------------------
OPEN_SHARE = 0.17  # of the petitions bench/scale_data.py generates, about this many are open


def our_open_cases(config: Path, url: str, n: int, now: dt.datetime, mines: int = 40
                   ) -> tuple[list[tuple[str, str]], str]:
    """``n`` open cases written into our database at ``url`` (migrated first), from the
    petitions of ``bench/scale_data.py`` received over the two years before ``now`` (the
    closed ones are not written): the ids and stages, and a line saying what was written."""
    from bench.scale_data import generate, write, write_group
    from services.bootstrap import App
    from services.clock import FixedClock
    from services.config import load_installation
    from services.settings import Settings
    from storage.db import make_engine
    from storage.migrate import upgrade

    t = time.monotonic()
    write_group(config, mines)
    installation = load_installation(config)
    probe = App(Settings(home=config.parent), installation.office(None), FixedClock(now),
                lambda: None, None, installation)  # type: ignore[arg-type,return-value]
    built = [b for b in generate(probe, math.ceil(n / OPEN_SHARE * 1.05), now)
             if b.case.stage.value != "closed"][-n:]  # the youngest
    if len(built) < n:
        raise RuntimeError(f"only {len(built)} open cases generated of {n}")
    engine = make_engine(url)
    upgrade(engine)
    write(engine, built)
    engine.dispose()
    stages: dict[str, int] = {}
    for b in built:
        stages[b.case.stage.value] = stages.get(b.case.stage.value, 0) + 1
    mix = ", ".join(f"{k} {v}" for k, v in sorted(stages.items(), key=lambda kv: -kv[1]))
    return ([(b.case.id, b.case.stage.value) for b in built],
            f"{n} open cases written in {time.monotonic() - t:.0f} s ({mix})")


@contextlib.contextmanager
def stopwatch() -> Iterator[list[float]]:
    out: list[float] = []
    t = time.monotonic()
    yield out
    out.append(time.monotonic() - t)


# --- runs cloned in Prefect's database -----------------------------------------------------
def _sync_prefect_url(url: str) -> str:
    return url.replace("+aiosqlite", "") if url.startswith("sqlite") else sync_url(url)


def clone_runs(url: str, templates: list[str], count: int, first: int,
               case_of: dict[str, str]) -> list[str]:
    """``count`` copies of the runs ``templates`` (created through the API), written into
    Prefect's database with the server stopped: each run's row, its states, its input
    schema, its events and their resources, every id new and the case id ``seed-<n>``
    (``n`` from ``first``). Returns the new run ids."""
    import re
    import uuid

    from sqlalchemy import MetaData, bindparam, create_engine, insert, select, update

    engine = create_engine(_sync_prefect_url(url))
    md = MetaData()
    md.reflect(engine, only=["flow_run", "flow_run_state", "flow_run_input", "events",
                             "event_resources"])
    t = md.tables
    rows: dict[str, dict[str, list[dict[str, Any]]]] = {r: {} for r in templates}
    with engine.connect() as conn:
        ids: list[Any] = [uuid.UUID(r) for r in templates]
        if url.startswith("sqlite"):
            ids = [str(i) for i in ids]
        for name, col in (("flow_run", "id"), ("flow_run_state", "flow_run_id"),
                          ("flow_run_input", "flow_run_id")):
            for row in conn.execute(select(t[name]).where(t[name].c[col].in_(ids))):
                d = row._asdict()
                rows[str(d[col])].setdefault(name, []).append(d)
        resources = [f"prefect.flow-run.{r}" for r in templates]
        er = t["event_resources"]
        event_of = {str(r.event_id): r.resource_id.rsplit(".", 1)[1] for r in conn.execute(
            select(er.c.event_id, er.c.resource_id).where(er.c.resource_id.in_(resources)))}
        evs: list[Any] = list(event_of)
        if not url.startswith("sqlite"):
            evs = [uuid.UUID(e) for e in evs]
        for name, col in (("events", "id"), ("event_resources", "event_id")):
            for row in conn.execute(select(t[name]).where(t[name].c[col].in_(evs))):
                d = row._asdict()
                rows[event_of[str(d[col])]].setdefault(name, []).append(d)
    new_ids, n = [], first
    order = ["flow_run", "flow_run_state", "flow_run_input", "events", "event_resources"]
    with engine.begin() as conn:
        batch: dict[str, list[dict[str, Any]]] = {k: [] for k in order}
        for i in range(count):
            template = rows[templates[i % len(templates)]]
            old = {str(d["id"]) for name in order for d in template.get(name, [])
                   if "id" in d}
            swap = {o: str(uuid.uuid4()) for o in old}
            swap[case_of[templates[i % len(templates)]]] = f"seed-{n}"
            pattern = re.compile("|".join(re.escape(k) for k in swap))

            def fix(v: Any, swap: dict[str, str] = swap, pattern: Any = pattern) -> Any:
                if isinstance(v, uuid.UUID):
                    return uuid.UUID(swap[str(v)]) if str(v) in swap else v
                if isinstance(v, str):
                    return pattern.sub(lambda m: swap[m.group(0)], v)
                if isinstance(v, (dict, list)):
                    return json.loads(pattern.sub(lambda m: swap[m.group(0)],
                                                  json.dumps(v)))
                return v

            for name in order:
                for d in template.get(name, []):
                    batch[name].append({k: fix(v) for k, v in d.items()})
            new_ids.append(swap[templates[i % len(templates)]])
            n += 1
            if len(new_ids) % 2000 == 0 or i == count - 1:
                states = {r["id"]: r["state_id"] for r in batch["flow_run"]}
                for r in batch["flow_run"]:
                    r["state_id"] = None
                for name in order:
                    if batch[name]:
                        conn.execute(insert(t[name]), batch[name])
                fr = t["flow_run"]
                conn.execute(update(fr).where(fr.c.id == bindparam("rid"))
                             .values(state_id=bindparam("sid")),
                             [{"rid": k, "sid": v} for k, v in states.items()])
                batch = {k: [] for k in order}
    engine.dispose()
    return new_ids
