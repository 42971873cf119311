"""Petitions per second from intake to suspended: the embedded default against the
scaled-out set-up, on this machine, in one run.

    .venv/bin/python bench/throughput.py [--petitions 40] [--pg postgresql://postgres@127.0.0.1:5432/test]

1. Embedded: ``petitions serve`` (a Prefect server on SQLite, the runner) on a throw-away
   home, our database on SQLite.
2. Scaled out: ``deploy/cluster.py`` (a Prefect server on PostgreSQL, two process workers,
   our database on PostgreSQL).

For each, one client process registers every petition and starts its lifecycle run (as
``petitions intake`` does, minus a process start per petition), and the clock stops when
every lifecycle run is suspended at its first form. Prints both rates.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy"))
sys.path.insert(0, str(ROOT))

from flows.rest import PrefectApi, Unreachable  # noqa: E402
from storage.audit import installation_key  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _paused(api: PrefectApi) -> int:
    return len(api.call("POST", "/flow_runs/filter", {
        "flows": {"name": {"any_": ["petition-lifecycle"]}},
        "flow_runs": {"state": {"type": {"any_": ["PAUSED"]}}}, "limit": 200}))


def measure(env: dict[str, str], n: int) -> float:
    """Seconds from the first intake until all ``n`` lifecycle runs are suspended."""
    api = PrefectApi(env["PREFECT_API_URL"], env.get("PREFECT_API_AUTH_STRING"), timeout=30)
    started = time.monotonic()
    subprocess.run([sys.executable, str(ROOT / "tests" / "cluster" / "drive.py"), "intake",
                    str(n)], env={**os.environ, **env}, check=True, capture_output=True)
    while _paused(api) < n:
        if time.monotonic() - started > 60 + n * 10:
            raise SystemExit(f"only {_paused(api)} of {n} suspended")
        time.sleep(0.5)
    return time.monotonic() - started


def embedded(n: int) -> float:
    home = Path(tempfile.mkdtemp(prefix="petitions-bench-"))
    port = _free_port()
    env = {"PETITIONS_HOME": str(home), "PETITIONS_CONFIG_DIR": str(ROOT / "deploy" / "config"),
           "PETITIONS_PREFECT_PORT": str(port), "PETITIONS_SWEEP_SECONDS": "86400",
           "PETITIONS_SEND_SECONDS": "86400", "PETITIONS_WEB_PORT": "0"}
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("PETITIONS_", "PREFECT_"))}
    with (home / "serve.log").open("ab") as log:
        serve = subprocess.Popen([sys.executable, "-c", "from cli.main import main; main()",
                                  "serve"], env={**clean, **env}, stdout=log,
                                 stderr=subprocess.STDOUT)
    api = f"http://127.0.0.1:{port}/api"
    auth = installation_key(home, {}, "", "prefect-auth").decode()  # the home's password
    try:
        while True:
            try:
                PrefectApi(api, auth, timeout=2).call(
                    "GET", "/deployments/name/petition-lifecycle/lifecycle")
                break
            except Unreachable:
                time.sleep(0.5)
        time.sleep(2)
        client_env = {**env, "PREFECT_API_URL": api, "PREFECT_API_AUTH_STRING": auth,
                      "PREFECT_HOME": str(home / "prefect"),
                      "PREFECT_LOCAL_STORAGE_PATH": str(home / "prefect" / "results")}
        return measure(client_env, n)
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(60)


def scaled_out(n: int, pg: str) -> float:
    import cluster as script

    home = Path(tempfile.mkdtemp(prefix="petitions-bench-cluster-"))
    state = script.up(home, pg, 2, None, {"PETITIONS_SEND_SECONDS": "86400"}, name="bench")
    try:
        return measure(state["env"], n)
    finally:
        script.down(home, drop=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--petitions", type=int, default=40)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    n = args.petitions
    e = embedded(n)
    print(f"embedded (SQLite, one runner): {n} petitions in {e:.1f} s = {n / e:.2f}/s",
          flush=True)
    c = scaled_out(n, args.pg)
    print(f"scaled out (PostgreSQL, 2 workers): {n} petitions in {c:.1f} s = {n / c:.2f}/s")
    print(f"ratio scaled/embedded: {e / c:.2f}")


if __name__ == "__main__":
    main()
