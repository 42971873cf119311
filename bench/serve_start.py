"""``petitions serve`` from start to ready, on the group built by ``bench/scale.py``.

    .venv/bin/python bench/scale.py --sizes 100000 --db sqlite --home /tmp/scale
    .venv/bin/python bench/serve_start.py --home /tmp/scale \
        --database-url sqlite:////tmp/scale/scale-100000.db [--starts 2]

Starts ``petitions serve`` as a user does (its own Prefect server on a free port, the web
workplace on another), against the scale run's configuration (``HOME/config``) and
database, and times from the process's start until it is ready: the runner has polled the
served lifecycle deployment (Prefect marks it READY) and the workplace answers
``/healthz``. Then it keeps watching serve's output for what runs beside the served engine:
the open cases rescheduled (the first start: the configuration is new to this home, so
every open case is rescheduled in batches) and the reconcile step. It stops serve with
SIGTERM and times the stop, and starts it again (the configuration unchanged: nothing is
rescheduled).

The scale database's cases were written in bulk and have no lifecycle runs: the reconcile
step starts them, ``PETITIONS_RECONCILE_NEW_RUNS`` (50) a round, oldest first, so each start
here also starts up to 50 flow-run processes while it is timed, as serve would after an
import.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESCHEDULED = re.compile(r"(\d+) open case\(s\) rescheduled")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return json.loads(r.read() or b"null")
    except (OSError, ValueError):
        return None


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def _lines(log: Path) -> list[str]:
    return log.read_text(errors="replace").splitlines() if log.exists() else []


def start_once(env: dict[str, str], log: Path, api: str, web: str, watch: float
               ) -> dict[str, float | str]:
    """One start: seconds to ready, to the reschedule line (if any), to stop."""
    t0 = time.perf_counter()
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-c", "from cli.main import main; main()",
                                 "serve"], env=env, stdout=out, stderr=subprocess.STDOUT,
                                cwd=ROOT, start_new_session=True)
    seen = len(_lines(log))
    figures: dict[str, float | str] = {}
    try:
        while "ready" not in figures:
            if proc.poll() is not None:
                raise SystemExit(f"serve exited ({proc.returncode}); see {log}")
            if time.perf_counter() - t0 > 600:
                raise SystemExit(f"serve not ready after 600 s; see {log}")
            deployment = _get(f"{api}/deployments/name/petition-lifecycle/lifecycle") or {}
            if deployment.get("status") == "READY" and _answers(f"{web}/healthz"):
                figures["ready"] = time.perf_counter() - t0
            time.sleep(0.2)
        print(f"  ready (runner polling, workplace answering) in {figures['ready']:.1f} s",
              flush=True)
        end = time.perf_counter() + watch
        while time.perf_counter() < end and "rescheduled" not in figures:
            for line in _lines(log)[seen:]:
                if m := RESCHEDULED.search(line):
                    figures["rescheduled"] = time.perf_counter() - t0
                    figures["cases"] = m.group(1)
            time.sleep(0.5)
        if "rescheduled" in figures:
            print(f"  {figures['cases']} open cases rescheduled in the background, done "
                  f"{figures['rescheduled']:.1f} s after the start", flush=True)
        else:
            print(f"  no reschedule line within {watch:.0f} s (configuration unchanged)",
                  flush=True)
        started = sum("started its lifecycle run" in line for line in _lines(log)[seen:])
        deferred = [line for line in _lines(log)[seen:] if "more open case(s)" in line]
        print(f"  reconcile: {started} lifecycle runs started; "
              f"{deferred[-1].strip() if deferred else 'none deferred'}", flush=True)
    finally:
        t1 = time.perf_counter()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(120)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        figures["stop"] = time.perf_counter() - t1
        print(f"  stopped (SIGTERM) in {figures['stop']:.1f} s", flush=True)
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, required=True, help="bench/scale.py's --home")
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--starts", type=int, default=2)
    ap.add_argument("--watch", type=float, default=600.0,
                    help="how long to wait for the background reschedule after ready")
    args = ap.parse_args()
    home = args.home.resolve()
    port, web_port = _free_port(), _free_port()
    env = {**os.environ, "PETITIONS_HOME": str(home), "PETITIONS_CONFIG_DIR": str(home / "config"),
           "PETITIONS_DATABASE_URL": args.database_url, "PETITIONS_PREFECT_PORT": str(port),
           "PETITIONS_WEB_PORT": str(web_port), "PETITIONS_SWEEP_SECONDS": "3600",
           "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"}  # its lines as they come
    for name in ("PREFECT_API_URL", "PETITIONS_SIMULATED_CLOCK"):
        env.pop(name, None)
    (home / "schedules-fingerprint").unlink(missing_ok=True)  # as after a config change
    log = home / "serve-bench.log"
    print(f"serve against {args.database_url} (log: {log})", flush=True)
    for i in range(1, args.starts + 1):
        print(f"start {i}{' (configuration new to this home)' if i == 1 else ''}:", flush=True)
        start_once(env, log, f"http://127.0.0.1:{port}/api", f"http://127.0.0.1:{web_port}",
                   args.watch if i == 1 else 20.0)


if __name__ == "__main__":
    main()
