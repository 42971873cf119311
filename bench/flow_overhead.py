"""What the engine adds to Prefect on a petition's way from intake to its first wait.

    .venv/bin/python bench/flow_overhead.py [--rounds 8]

One run, one Prefect server (SQLite, started here), one runner serving two deployments:

- **petition**: the real path, as ``petitions intake`` takes it: the petition registered,
  routed and assigned in this process (``services.intake``), its ``petition-lifecycle`` run
  started by case id over Prefect's REST API (``flows.engine.PrefectRuns.start``); the
  runner picks it up, runs its tasks (next step, publish the timeline) and suspends at the
  first responder's form.
- **bare**: the same shape with nothing of ours: a run of a bare lifecycle deployment
  created over the REST API, which runs two no-op tasks and suspends on the same form.

Each round times one of each, interleaved, from the intake's start until the lifecycle run
is suspended (polled every 0.1 s). Prints the medians and their ratio (target ≤ 1.5).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SAMPLE = ROOT / "deploy" / "config" / "samples" / "wage-complaint.json"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


if "--serve" not in sys.argv and __name__ == "__main__":
    # Before Prefect is imported: this run's own home, office and server port.
    HOME = Path(tempfile.mkdtemp(prefix="petitions-bench-"))
    os.environ.update({"PETITIONS_HOME": str(HOME),
                       "PETITIONS_CONFIG_DIR": str(ROOT / "deploy" / "config"),
                       "PETITIONS_PREFECT_PORT": str(_free_port()),
                       "PREFECT_LOGGING_LEVEL": "WARNING"})
    for name in ("PREFECT_API_URL", "PETITIONS_DATABASE_URL", "PETITIONS_SIMULATED_CLOCK"):
        os.environ.pop(name, None)

from flows.prefect_env import configure  # noqa: E402
from services.settings import Settings  # noqa: E402

configure(Settings.from_env())

from prefect import flow, serve, task  # noqa: E402
from prefect.client.orchestration import get_client  # noqa: E402
from prefect.flow_runs import asuspend_flow_run  # noqa: E402

from flows.inputs import FirstResponse  # noqa: E402


@task
def noop(i: int) -> int:
    return i


@flow(name="bare-lifecycle")
async def bare_lifecycle(case_id: str) -> str:
    noop(1)
    noop(2)
    await asuspend_flow_run(wait_for_input=FirstResponse, key="assigned-v1")
    return case_id


def serve_all() -> None:
    from flows.lifecycle import lifecycle

    serve(lifecycle.to_deployment(name="lifecycle"),  # type: ignore[arg-type]
          bare_lifecycle.to_deployment(name="bare"),  # type: ignore[arg-type]
          limit=None, query_seconds=2, pause_on_shutdown=False)


def _suspended(run_id: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            state = client.read_flow_run(uuid.UUID(run_id)).state
            if state is not None and state.is_paused():
                return
            if state is not None and state.is_final():
                raise RuntimeError(f"run {run_id} ended {state.name}")
            time.sleep(0.1)
    raise RuntimeError(f"run {run_id} did not suspend within {timeout:.0f} s")


def petition_path(i: int) -> tuple[float, float]:
    import json

    from flows.engine import PrefectRuns
    from services.bootstrap import bootstrap
    from services.intake import intake

    app = bootstrap()
    data: dict[str, Any] = json.loads(SAMPLE.read_text())
    data.pop("received_at", None)
    started = time.perf_counter()
    case = intake(app, data, registration_no=f"XF-BENCH-{i:03d}", actor="qian.hui")
    why = PrefectRuns(app.settings).start(app, case.id)
    assert why is None, why
    intake_done = time.perf_counter()
    with app.uow() as uow:
        run_id = uow.run_of(case.id)
    _suspended(str(run_id))
    return intake_done - started, time.perf_counter() - started


def bare_path(i: int) -> tuple[float, float]:
    from flows.prefect_env import api

    started = time.perf_counter()
    run_id = api(Settings.from_env()).create_run("bare-lifecycle/bare",
                                                 {"case_id": f"bare-{i:03d}"}, f"bare:{i}")
    intake_done = time.perf_counter()
    _suspended(run_id)
    return intake_done - started, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()

    from flows.prefect_env import api_url, start_server, stop, wait_until_healthy
    from services.bootstrap import bootstrap
    from services.schema import migrated

    settings = Settings.from_env()
    migrated(bootstrap(settings))
    server = start_server(settings, settings.prefect_home / "server.log")
    runner: subprocess.Popen[bytes] | None = None
    try:
        wait_until_healthy(server, api_url(settings), 120, lambda s: None,
                           settings.prefect_home / "server.log")
        runner = subprocess.Popen([sys.executable, __file__, "--serve"], cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with get_client(sync_client=True) as client:
            for name in ("petition-lifecycle/lifecycle", "bare-lifecycle/bare"):
                deadline = time.monotonic() + 120
                while True:
                    try:
                        client.read_deployment_by_name(name)
                        break
                    except Exception:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.5)
        time.sleep(2)  # the runner's first poll
        petition_path(0), bare_path(0)  # warm-up: imports, first flow registration
        ours, bare = [], []
        for i in range(1, args.rounds + 1):
            ours.append(petition_path(i))
            bare.append(bare_path(i))
            print(f"round {i}: petition {ours[-1][1]:.2f} s (intake {ours[-1][0]:.2f} s), "
                  f"bare {bare[-1][1]:.2f} s (run created {bare[-1][0]:.2f} s)", flush=True)
        for part, what in ((0, "intake and run started"), (1, "intake → suspended")):
            po = statistics.median(r[part] for r in ours)
            pb = statistics.median(r[part] for r in bare)
            print(f"{what}, median of {args.rounds}: petition {po:.2f} s, bare {pb:.2f} s, "
                  f"ratio {po / pb:.2f}" + (" (target ≤ 1.5)" if part else ""))
    finally:
        if runner is not None:
            runner.terminate()
            runner.wait(30)
        stop(server)


if __name__ == "__main__":
    if "--serve" in sys.argv:
        serve_all()
    else:
        main()
