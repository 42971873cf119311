"""How fast the commands answer, against the cost of the libraries they need.

    .venv/bin/python bench/cli_latency.py [--runs 15] [--intakes 15]

On a fresh ``PETITIONS_HOME`` holding one case of the sample office, it times whole
processes (``petitions calendar due``, ``list``, ``show``; as a clerk's shell starts them)
and, for each, its import floor: a process that imports the third-party libraries the
command really needs and runs a one-option typer command, and nothing of ours. Prints the
medians, the ratio to the floor (target ≤ 1.3) and the absolute targets (``calendar due``
under 0.3 s; ``list`` and ``show`` under 0.5 s), then the heaviest imports of ``list``
(``python -X importtime``). Then ``petitions intake`` of a petition received now, against
``petitions serve`` running on the same home (a real Prefect server and runner): the time
until it prints where the petition went (target: p50 under 1 s) and until it exits, its
lifecycle run started. Run it on a quiet machine: every figure is wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("cli", "domain", "flows", "notifications", "services", "storage")
PETITIONS = [sys.executable, "-c", "from cli.main import main; main()"]

# What each command needs beyond the interpreter: the CLI's own (typer runs the command,
# rich prints), the calendar's (pendulum, YAML for the office's calendar file; China's
# schedules come from the cache under PETITIONS_HOME, not from importing ``holidays``,
# which the first command of a new home does once) and, reading cases, SQLAlchemy with
# SQLite's dialect.
CALENDAR_LIBS = ("typer", "rich.console", "rich.table", "pendulum", "yaml")
CASE_LIBS = (*CALENDAR_LIBS, "sqlalchemy", "sqlalchemy.dialects.sqlite")
FLOOR = """
import sys
{imports}
import typer
app = typer.Typer()
@app.command()
def one(start: str, days: int = 1) -> None:
    pass
@app.command()
def two() -> None:
    pass
sys.argv = ["floor", "one", "2026-12-01", "--days", "15"]
try:
    app()
except SystemExit:
    pass
"""

COMMANDS = {
    "calendar due": (["calendar", "due", "2026-12-01", "--days", "15"], CALENDAR_LIBS, 0.3),
    "list": (["list"], CASE_LIBS, 0.5),
    "show": (["show", "XF-BENCH"], CASE_LIBS, 0.5),
    "list --json": (["list", "--json"], CASE_LIBS, 0.5),
}
INTAKE = ["intake", "--actor", "qian.hui", "--name", "赵立新", "--phone", "13900002222",
          "--category", "complaint", "--channel", "visit", "--subject", "井口浴室热水供应不足",
          "--content", "夜班下井后无热水洗浴"]


def _home() -> dict[str, str]:
    home = Path(tempfile.mkdtemp(prefix="petitions-cli-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PETITIONS_", "PREFECT_"))}
    env.update(PETITIONS_HOME=str(home), PETITIONS_CONFIG_DIR=str(ROOT / "deploy" / "config"))
    petition = json.loads((ROOT / "deploy" / "config" / "samples" / "wage-complaint.json")
                          .read_text())
    code = f"""
from services.bootstrap import bootstrap
from services.cases import register, route_and_assign
from services.schema import migrated
app = migrated(bootstrap())
case = register(app, {petition!r}, registration_no="XF-BENCH", actor="qian.hui")
route_and_assign(app, case.id, actor="intake")
"""
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True)
    return env


def _once(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(args, env=env, cwd=ROOT, capture_output=True)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {done.stderr.decode()[-500:]}")
    return took


def _time(args: list[str], env: dict[str, str], runs: int) -> float:
    return statistics.median(_once(args, env) for _ in range(runs))


def _paired(a: list[str], b: list[str], env: dict[str, str], runs: int
            ) -> tuple[float, float]:
    """Medians of ``a`` and ``b`` run alternately, so a drift in the machine's load
    weighs on both alike."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        times[0].append(_once(a, env))
        times[1].append(_once(b, env))
    return statistics.median(times[0]), statistics.median(times[1])


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _intake_once(env: dict[str, str]) -> tuple[float, float]:
    """Seconds until ``intake`` printed its first line, and until it exited."""
    started = time.perf_counter()
    proc = subprocess.Popen([*PETITIONS, *INTAKE], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    printed = time.perf_counter() - started
    _rest, err = proc.communicate(timeout=120)
    took = time.perf_counter() - started
    if proc.returncode != 0 or not first or err:
        raise SystemExit(f"intake failed ({proc.returncode}): {err.decode()[-800:]}")
    return printed, took


def _served_intakes(env: dict[str, str], runs: int) -> None:
    """``petitions serve`` on the bench's home, then ``runs`` intakes against it."""
    sys.path.insert(0, str(ROOT))
    from flows.rest import PrefectApi, Unreachable
    from storage.audit import installation_key

    served = {**env, "PETITIONS_PREFECT_PORT": str(_free_port()), "PETITIONS_WEB_PORT": "0"}
    api = PrefectApi(f"http://127.0.0.1:{served['PETITIONS_PREFECT_PORT']}/api",
                     installation_key(Path(env["PETITIONS_HOME"]), {}, "", "prefect-auth")
                     .decode(), timeout=5)
    log = Path(env["PETITIONS_HOME"]) / "serve.log"
    with log.open("ab") as out:
        serve = subprocess.Popen([*PETITIONS, "serve"], env=served, cwd=ROOT, stdout=out,
                                 stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                dep = api.call("GET", "/deployments/name/petition-lifecycle/lifecycle")
                if dep.get("status") == "READY":
                    break
            except Unreachable:
                pass
            if time.monotonic() > deadline or serve.poll() is not None:
                raise SystemExit(f"serve not ready; see {log}")
            time.sleep(0.5)
        time.sleep(10)  # the runner's first scheduled runs settle
        _intake_once(served)  # warm the caches (the home's first intake builds none)
        timed = [_intake_once(served) for _ in range(runs)]
        printed = sorted(t[0] for t in timed)
        took = sorted(t[1] for t in timed)
        p50 = statistics.median(printed)
        print(f"\nintake, received now, against a served engine ({runs} runs):")
        print(f"  printed where it went: p50 {p50 * 1000:.0f} ms, p95 "
              f"{printed[int(0.95 * (runs - 1))] * 1000:.0f} ms  (target p50 < 1000 ms: "
              f"{'met' if p50 < 1.0 else 'NOT met'})")
        print(f"  exited, its run started: p50 {statistics.median(took) * 1000:.0f} ms, "
              f"p95 {took[int(0.95 * (runs - 1))] * 1000:.0f} ms")
    finally:
        serve.terminate()
        serve.wait(60)


def _heaviest(env: dict[str, str], args: list[str], n: int = 12) -> list[tuple[int, str]]:
    done = subprocess.run([sys.executable, "-X", "importtime", *PETITIONS[1:], *args],
                          env=env, cwd=ROOT, capture_output=True, text=True)
    found = []
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s*\d+ \|\s*(\d+) \| (\s*)(\S+)", line)
        if m and len(m.group(2)) <= 4:  # top-level imports and their direct children
            found.append((int(m.group(1)), m.group(2) + m.group(3)))
    return sorted(found, reverse=True)[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--intakes", type=int, default=15, help="0: no served intakes")
    args = parser.parse_args()
    # Bytecode cached, as in any installation (a shell with PYTHONDONTWRITEBYTECODE=1 would
    # otherwise compile our modules from source on every run: +45 ms, measured).
    subprocess.run([sys.executable, "-m", "compileall", "-q",
                    *(str(ROOT / p) for p in PACKAGES)], check=True)
    env = _home()
    python = _time([sys.executable, "-c", "pass"], env, args.runs)
    print(f"python itself: {python * 1000:.0f} ms (median of {args.runs})")
    print(f"{'command':<14} {'median':>8} {'floor':>8} {'ratio':>6} {'target':>8}  met")
    for name, (argv, libs, target) in COMMANDS.items():
        took, floor = _paired(
            [*PETITIONS, *argv],
            [sys.executable, "-c", FLOOR.format(imports="\n".join(f"import {m}" for m in libs))],
            env, args.runs)
        ratio = took / floor
        ok = took < target and ratio <= 1.3
        print(f"{name:<14} {took * 1000:>6.0f}ms {floor * 1000:>6.0f}ms {ratio:>6.2f} "
              f"{target * 1000:>6.0f}ms  {'yes' if ok else 'NO'}")
    cold = {**env, "PETITIONS_HOME": tempfile.mkdtemp(prefix="petitions-cli-cold-")}
    first = _time([*PETITIONS, *COMMANDS["calendar due"][0]], cold, 1)
    print(f"calendar due in a new home (builds the holidays cache): {first * 1000:.0f} ms")
    print("\nheaviest imports of `petitions list` (cumulative µs, -X importtime):")
    for cumulative, name in _heaviest(env, ["list"]):
        print(f"  {cumulative:>8}  {name}")
    if args.intakes:
        _served_intakes(env, args.intakes)


if __name__ == "__main__":
    main()
