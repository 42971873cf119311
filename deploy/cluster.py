"""The scaled-out set-up on this machine, with real processes: a Prefect server on its own
PostgreSQL database, a process work pool with workers, and our database on PostgreSQL.

    .venv/bin/python deploy/cluster.py up   [--pg URL] [--workers 2] [--home DIR] [--port N]
    .venv/bin/python deploy/cluster.py env  [--home DIR]     # the variables, for a shell
    .venv/bin/python deploy/cluster.py down [--home DIR] [--drop]

``up`` creates the databases ``prefect_cluster`` and ``petitions_cluster`` on the given
PostgreSQL server (default ``postgresql://postgres@127.0.0.1:5432/test``), starts the
server, migrates our schema, creates the ``petitions`` process pool, applies
``deploy/prefect.yaml`` and starts the workers. It records the processes in
``HOME/cluster.json``; ``down`` stops them (and with ``--drop`` drops both databases).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG = "postgresql://postgres@127.0.0.1:5432/test"


def _names(name: str) -> tuple[str, str]:
    """Prefect's database and ours, e.g. ``prefect_cluster`` and ``petitions_cluster``."""
    return f"prefect_{name}", f"petitions_{name}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _url(base: str, database: str, driver: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(base).set(drivername=f"postgresql+{driver}", database=database) \
        .render_as_string(hide_password=False)


def _create_databases(pg: str, name: str, fresh: bool) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(_url(pg, "postgres", "psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for db in _names(name):
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                  {"n": db}).first()
            if exists and fresh:
                conn.execute(text(f'DROP DATABASE "{db}" WITH (FORCE)'))
                exists = None
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{db}"'))
        # Prefect's UI run page (graph-v2) took 1.4-3 s on PostgreSQL, all of it the JIT
        # compiling a query that runs in milliseconds (BENCHMARKS.md): off for its database.
        conn.execute(text(f'ALTER DATABASE "{_names(name)[0]}" SET jit = off'))
    admin.dispose()


def _home_key(home: Path, file: str = "query-key.cluster") -> str:
    """A key of the cluster's, made once in its home (as any installation key)."""
    sys.path.insert(0, str(ROOT))
    from storage.audit import installation_key

    return installation_key(home, {}, "", file).decode("utf-8")


def environment(home: Path, pg: str, port: int, name: str = "cluster") -> dict[str, str]:
    """What the server, the workers, their flow runs and the CLI need."""
    prefect_db, our_db = _names(name)
    auth = os.environ.get("PREFECT_API_AUTH_STRING") or _home_key(home, "prefect-auth")
    return {
        "PETITIONS_HOME": str(home), "PETITIONS_APP_DIR": str(ROOT),
        "PETITIONS_CONFIG_DIR": os.environ.get("PETITIONS_CONFIG_DIR",
                                               str(ROOT / "deploy" / "config")),
        "PETITIONS_DATABASE_URL": _url(pg, our_db, "psycopg"),
        # One key for every process: the query codes derive from it (kept with the home).
        "PETITIONS_QUERY_KEY": os.environ.get("PETITIONS_QUERY_KEY") or _home_key(home),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        # Prefect's basic authentication: the server requires it, every client sends it.
        "PREFECT_SERVER_API_AUTH_STRING": auth,
        "PREFECT_API_AUTH_STRING": auth,
        "PREFECT_HOME": str(home / "prefect"),
        "PREFECT_LOCAL_STORAGE_PATH": str(home / "prefect" / "results"),
        "PREFECT_API_DATABASE_CONNECTION_URL": _url(pg, prefect_db, "asyncpg"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # No petition's wait has a timeout: nothing to expire, and the loop reads every
        # paused run every 5 s (about a core at 50,000; BENCHMARKS.md).
        "PREFECT_SERVER_SERVICES_PAUSE_EXPIRATIONS_ENABLED": "false",
        # Workers poll every 2 s (Prefect's default 10 s is the floor of every resume).
        "PREFECT_WORKER_QUERY_SECONDS": "2",
        # Flow runs beat every 30 s; deploy/automations/zombie-runs.json reschedules a run
        # whose beats stop.
        "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30",
    }


_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}  # reaped by ``down`` in this process


def _spawn(args: list[str], env: dict[str, str], log: Path, tied: bool = False) -> int:
    """Start a child in a session of its own. ``tied``: it is killed when this process
    dies, however it dies (tests: an interrupted run leaves no server or worker behind;
    workers have been seen to ignore SIGTERM for over 35 s, so they get SIGKILL)."""
    preexec = None
    if tied:
        sys.path.insert(0, str(ROOT))
        from flows.prefect_env import tied_to_parent

        preexec = tied_to_parent(signal.SIGKILL)
    with log.open("ab") as out:
        proc = subprocess.Popen(args, env={**os.environ, **env}, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=ROOT, start_new_session=preexec is None,
                                preexec_fn=preexec)
    _CHILDREN[proc.pid] = proc
    return proc.pid


def _write_state(home: Path, state: dict) -> None:  # type: ignore[type-arg]
    """``cluster.json``, its owner's alone: it holds the passwords and keys in ``env``."""
    path = home / "cluster.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(state, indent=2))
    path.chmod(0o600)


def _healthy(api: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api}/health", timeout=1) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, env={**os.environ, **env}, cwd=ROOT, capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args[:4])} failed ({done.returncode}):\n"
                         f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def up(home: Path, pg: str, workers: int, port: int | None, extra: dict[str, str],
       name: str = "cluster", tied: bool = False) -> dict:  # type: ignore[type-arg]
    """Start the cluster. ``tied``: its server and workers die with this process (the
    tests); from the command line they outlive ``up`` until ``down``."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)  # its keys and cluster.json: secrets
    (home / "prefect").mkdir(mode=0o700, exist_ok=True)
    port = port or _free_port()
    env = {**environment(home, pg, port, name), **extra}
    _create_databases(pg, name, fresh=True)
    bin_ = Path(sys.executable).parent
    state: dict = {"home": str(home), "pg": pg, "name": name, "port": port,  # type: ignore[type-arg]
                   "env": env, "pids": {}}
    state["pids"]["server"] = _spawn(
        [str(bin_ / "prefect"), "server", "start", "--host", "127.0.0.1", "--port",
         str(port)], env, home / "server.log", tied)
    _write_state(home, state)
    started = time.monotonic()
    while not _healthy(env["PREFECT_API_URL"]):
        if time.monotonic() - started > 180:
            raise SystemExit(f"the Prefect server did not answer; see {home / 'server.log'}")
        time.sleep(0.5)
    _run([str(bin_ / "petitions"), "db", "upgrade"], env)
    _run([str(bin_ / "prefect"), "work-pool", "create", "petitions", "--type", "process",
          "--overwrite"], env)
    _run([str(bin_ / "prefect"), "--no-prompt", "deploy", "--all", "--prefect-file",
          str(ROOT / "deploy" / "prefect.yaml")], env)
    within = int(extra.get("PETITIONS_ZOMBIE_SECONDS", "90"))
    automation = json.loads((ROOT / "deploy" / "automations" / "zombie-runs.json").read_text())
    automation["trigger"]["within"] = within
    token = base64.b64encode(env["PREFECT_API_AUTH_STRING"].encode()).decode()
    request = urllib.request.Request(f"{env['PREFECT_API_URL']}/automations/",
                                     data=json.dumps(automation).encode(),
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Basic {token}"})
    with urllib.request.urlopen(request, timeout=30) as r:
        state["automation"] = json.loads(r.read())["id"]
    for i in range(1, workers + 1):
        state["pids"][f"worker-{i}"] = _spawn(
            [str(bin_ / "prefect"), "worker", "start", "--pool", "petitions", "--type",
             "process", "--name", f"worker-{i}", "--prefetch-seconds", "5"], env,
            home / f"worker-{i}.log", tied)
    _write_state(home, state)
    print(f"up in {time.monotonic() - started:.0f} s: server {env['PREFECT_API_URL']}, "
          f"{workers} worker(s); state in {home / 'cluster.json'}")
    return state


def down(home: Path, drop: bool) -> None:
    path = home / "cluster.json"
    if not path.exists():
        print(f"nothing recorded in {path}")
        return
    state = json.loads(path.read_text())
    for name, pid in sorted(state["pids"].items(), key=lambda kv: kv[0] == "server"):
        try:
            os.killpg(pid, signal.SIGTERM)  # the worker and the flow runs it started
        except ProcessLookupError:
            continue
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            try:
                if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
                    break
            except OSError:
                break
            time.sleep(0.2)
        else:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        child = _CHILDREN.pop(pid, None)
        if child is not None:
            child.wait(10)
        print(f"stopped {name} ({pid})")
    if drop:
        from sqlalchemy import create_engine, text

        admin = create_engine(_url(state["pg"], "postgres", "psycopg"),
                              isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for db in _names(state.get("name", "cluster")):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()
        print(f"dropped the databases {' and '.join(_names(state.get('name', 'cluster')))}")
    path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("up", "down", "env"))
    parser.add_argument("--home", type=Path, default=Path.home() / ".petitions-cluster")
    parser.add_argument("--pg", default=os.environ.get("PETITIONS_CLUSTER_PG", PG))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int)
    parser.add_argument("--drop", action="store_true")
    parser.add_argument("--name", default="cluster",
                        help="databases prefect_NAME and petitions_NAME (default cluster)")
    args = parser.parse_args()
    if args.command == "up":
        up(args.home, args.pg, args.workers, args.port, {}, args.name)
    elif args.command == "down":
        down(args.home, args.drop)
    else:
        state = json.loads((args.home / "cluster.json").read_text())
        for k, v in state["env"].items():
            print(f"export {k}='{v}'")


if __name__ == "__main__":
    main()
