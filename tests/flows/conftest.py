"""One harness for the session: ``petitions serve`` as a user runs it (a real Prefect server
on SQLite, the runner, the deployments), on a throw-away ``PETITIONS_HOME`` with the
simulated clock. Tests drive it with the real CLI and read Prefect's REST API."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flows.prefect_env import AUTH_FILE, CLIENT_AUTH, SERVER_AUTH, tied_to_parent
from flows.rest import PrefectApi, Unreachable
from storage.audit import installation_key
from tests.conftest import SAMPLE_OFFICE, wait_for

START_TIMEOUT = 120.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(entry.name))
                todo.append(int(entry.name))
    return found


class Engine:
    """The served engine and the CLI, against one ``PETITIONS_HOME``."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = _free_port()
        self.api = f"http://127.0.0.1:{self.port}/api"
        self.web = f"http://127.0.0.1:{_free_port()}"  # the office workplace beside it
        self.env = {**os.environ, "PETITIONS_HOME": str(home),
                    "PETITIONS_CONFIG_DIR": str(SAMPLE_OFFICE),
                    "PETITIONS_PREFECT_PORT": str(self.port),
                    "PETITIONS_WEB_PORT": self.web.rsplit(":", 1)[1],
                    "PETITIONS_SIMULATED_CLOCK": "1",
                    # The session's tests run a sweep, a send, the practices or a reconcile
                    # by hand where they test what it does, on a clock they set: nothing
                    # runs on its own schedule in between. What runs on its own is
                    # test_left_alone's (and test_supervised's) engine.
                    "PETITIONS_SWEEP_SECONDS": "3600", "PETITIONS_SEND_SECONDS": "3600",
                    "PETITIONS_PRACTICES_SECONDS": "3600",
                    "PETITIONS_RECONCILE_SECONDS": "3600"}
        for name in ("PREFECT_API_URL", "PETITIONS_DATABASE_URL", CLIENT_AUTH, SERVER_AUTH):
            self.env.pop(name, None)
        self.proc: subprocess.Popen[bytes] | None = None
        # The home's Prefect password, made here as serve would make it: the tests read
        # Prefect's API as an operator of this office does.
        self.auth = installation_key(home, {}, "", AUTH_FILE).decode()
        self.rest = PrefectApi(self.api, self.auth, timeout=10)

    # --- the served engine ----------------------------------------------------------
    def start(self, **extra_env: str) -> None:
        with (self.home / "serve.log").open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", "from cli.main import main; main()", "serve"],
                env={**self.env, **extra_env}, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=tied_to_parent(signal.SIGTERM, new_session=False))
        # Served and polled: the runner's first poll marks the deployment READY.
        self.wait_for(lambda: (self.get("/deployments/name/petition-lifecycle/lifecycle")
                               or {}).get("status") == "READY",
                      START_TIMEOUT, "the served deployments, polled by the runner")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(60)

    def kill(self) -> None:
        """SIGKILL serve and everything it started (runner, flow-run processes)."""
        assert self.proc is not None
        victims = [self.proc.pid, *_descendants(self.proc.pid)]
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(30)
        deadline = time.monotonic() + 30
        while any(Path(f"/proc/{p}").exists() for p in victims[1:]) and \
                time.monotonic() < deadline:
            time.sleep(0.2)

    # --- the CLI and the API ---------------------------------------------------------
    def cli(self, *args: str, check: bool = True, stdin: str | None = None, **extra_env: str
            ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-c", "from cli.main import main; main()",
                               *args], env={**self.env, **extra_env}, capture_output=True,
                              text=True, timeout=180, input=stdin)
        if check and done.returncode != 0:
            raise AssertionError(f"petitions {' '.join(args)} → {done.returncode}\n"
                                 f"{done.stdout}\n{done.stderr}")
        return done

    def case(self, ref: str) -> dict[str, Any]:
        return dict(json.loads(self.cli("show", ref, "--json").stdout))

    def get(self, path: str) -> Any:
        try:
            return self.rest.call("GET", path)
        except Unreachable:
            return None

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.rest.call("POST", path, body)

    def answer(self, run_id: str, run_input: dict[str, Any]) -> dict[str, Any]:
        """Answer a suspended run's form, as the Prefect UI does. A run caught between
        showing as suspended and saving its form refuses the answer ("Run input schema
        not found", a window of Prefect's own): answered again until it takes it."""
        def accepted() -> dict[str, Any] | None:
            result = dict(self.post(f"/flow_runs/{run_id}/resume", {"run_input": run_input}))
            reason = str((result.get("details") or {}).get("reason") or "")
            return None if "schema not found" in reason else result
        return dict(self.wait_for(accepted, 60, f"run {run_id} to take the answer", every=0.2))

    def run_of(self, case_id: str, *, required: bool = True) -> dict[str, Any]:
        from sqlalchemy import create_engine, text

        engine = create_engine(f"sqlite:///{self.home / 'petitions.db'}")
        with engine.connect() as conn:
            run_id = conn.execute(text("SELECT flow_run_id FROM lifecycle_runs WHERE "
                                       "case_id = :c"), {"c": case_id}).scalar()
        engine.dispose()
        if not run_id:
            assert not required, f"no lifecycle run recorded for {case_id}"
            return {}
        return dict(self.get(f"/flow_runs/{run_id}") or {})

    def paused_at(self, case_id: str, prefix: str, timeout: float = 240) -> dict[str, Any]:
        """Wait until the case's lifecycle run is suspended at a key starting ``prefix``."""
        def ready() -> dict[str, Any] | None:
            run = self.run_of(case_id, required=False)  # catch-up may still be starting it
            state = run.get("state") or {}
            key = (state.get("state_details") or {}).get("pause_key") or ""
            return run if state.get("type") == "PAUSED" and key.startswith(prefix) else None
        return self.wait_for(ready, timeout, f"{case_id} suspended at {prefix}")

    wait_for = staticmethod(wait_for)


def serving(home: Path, clock: str, **env: str) -> Iterator[Engine]:
    """A served engine on ``home`` with the simulated clock at ``clock`` and ``env`` over
    the harness's settings, stopped afterwards (a fixture's body)."""
    engine = Engine(home)
    engine.env.update(env)
    engine.cli("clock", "set", clock)
    engine.start()
    try:
        yield engine
    finally:
        engine.stop()


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    yield from serving(tmp_path_factory.mktemp("petitions-home"), "2026-11-20T10:00+08:00")
