"""The demo's engine: ``petitions serve`` in a child process of the demo, on the demo's own
environment, ready once the lifecycle deployment exists, and stopped with the demo."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from prefect.client.orchestration import get_client
from rich.console import Console

from domain.errors import ConfigError
from flows.prefect_env import CLIENT_AUTH, tied_to_parent
from flows.rest import PrefectApi, Unreachable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def poll(probe: Callable[[], Any], timeout: float, what: str) -> Any:
    """``probe()`` again until it is not None; a one-line error naming ``what`` at ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise ConfigError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.3)


def flow_run_counts() -> dict[str, dict[str, int]]:
    """The demo's flow runs on the Prefect server: per flow, how many in each state."""
    counts: dict[str, dict[str, int]] = {}
    with get_client(sync_client=True) as client:
        names = {f.id: f.name for f in client.read_flows()}
        offset = 0
        while batch := client.read_flow_runs(limit=200, offset=offset):
            offset += len(batch)
            for run in batch:
                state = str(run.state.name) if run.state else "unknown"
                per = counts.setdefault(str(names.get(run.flow_id, run.flow_id)), {})
                per[state] = per.get(state, 0) + 1
    return counts


class ServedEngine:
    """``petitions serve`` at ``api`` (its Prefect server's address), logging to ``log``."""

    def __init__(self, api: str, log: Path, ready_timeout: float) -> None:
        self.api, self.log, self.ready_timeout = api, log, ready_timeout
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, env: Mapping[str, str], console: Console) -> None:
        """Start it with ``env`` and wait until its deployments exist."""
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", "from cli.main import main; main()", "serve"],
                env=dict(env), stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,  # dies with the demo, however the demo ends
                preexec_fn=tied_to_parent(signal.SIGTERM, new_session=False))
        started = time.monotonic()
        with console.status("starting the engine (Prefect server, deployments)") as s:
            while not self.deployed():
                waited = time.monotonic() - started
                if self.proc.poll() is not None:
                    raise ConfigError(f"`petitions serve` exited with {self.proc.returncode}",
                                      source=str(self.log))
                if waited > self.ready_timeout:
                    raise ConfigError(f"the engine was not ready within {waited:.0f} s",
                                      source=str(self.log))
                s.update(f"starting the engine (Prefect server, deployments): {waited:.0f} s")
                time.sleep(0.5)
        console.print(f"engine ready in {time.monotonic() - started:.0f} s: "
                      f"{self.api.removesuffix('/api')}", highlight=False)

    def deployed(self) -> bool:
        try:
            found = PrefectApi(self.api, os.environ.get(CLIENT_AUTH), timeout=2).call(
                "GET", "/deployments/name/petition-lifecycle/lifecycle")
        except Unreachable:
            return False
        return bool(found and found.get("id"))

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
