"""The scaled-out set-up end to end (``deploy/cluster.py``): a Prefect server on its own
PostgreSQL database, two process workers, our database on PostgreSQL. Petitions go through
intake, suspend, are resumed by the CLI's own code, and breach a deadline while two sweepers
and then two senders run at once. ``PETITIONS_SCALE_PETITIONS`` sets how many (200)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pendulum
import pytest

from flows.rest import PrefectApi

ROOT = Path(__file__).resolve().parents[2]
N = int(os.environ.get("PETITIONS_SCALE_PETITIONS", "200"))
START = pendulum.datetime(2026, 11, 20, 9, 0, tz="Asia/Shanghai")  # a Friday


def _pg() -> str:
    url = os.environ.get("PETITIONS_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("PETITIONS_TEST_POSTGRES_URL is not set in CI")
        pytest.skip("PETITIONS_TEST_POSTGRES_URL is not set; the cluster test needs it")
    return url.replace("+psycopg", "")


class Cluster:
    def __init__(self, home: Path, state: dict[str, Any]) -> None:
        self.home, self.state, self.env = home, state, state["env"]
        self.api = self.env["PREFECT_API_URL"]
        self.rest = PrefectApi(self.api, self.env["PREFECT_API_AUTH_STRING"], timeout=30)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.rest.call("POST", path, body)

    def get(self, path: str) -> Any:
        return self.rest.call("GET", path)

    def runs(self, flow: str) -> list[dict[str, Any]]:
        out, offset = [], 0
        while True:
            batch = self.post("/flow_runs/filter", {"flows": {"name": {"any_": [flow]}},
                                                    "limit": 200, "offset": offset})
            out += batch
            offset += len(batch)
            if len(batch) < 200:
                return out

    def wait_runs(self, flow: str, count: int, done: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            runs = self.runs(flow)
            bad = [r for r in runs if r["state_type"] in ("FAILED", "CRASHED")]
            assert not bad, f"{len(bad)} {flow} run(s) failed: {bad[0]['state_name']}"
            if sum(1 for r in runs if done(r)) >= count:
                return
            time.sleep(2)
        states = Counter(r["state_name"] for r in self.runs(flow))
        raise AssertionError(f"timed out waiting for {what}: {dict(states)}")

    def deployment_runs(self, name: str, copies: int) -> list[str]:
        dep = self.get(f"/deployments/name/{name}")
        return [self.post(f"/deployments/{dep['id']}/create_flow_run", {})["id"]
                for _ in range(copies)]


def bring_up(tmp_path_factory: pytest.TempPathFactory, name: str,
             extra: dict[str, str]) -> Iterator[Cluster]:
    """``deploy/cluster.py up`` on databases ``*_<name>`` with the simulated clock at
    ``START``; ``down --drop`` afterwards."""
    pg = _pg()
    home = tmp_path_factory.mktemp(name)
    sys.path.insert(0, str(ROOT / "deploy"))
    import cluster as script  # deploy/cluster.py

    (home / "clock").write_text(START.in_timezone("UTC").isoformat())
    state = script.up(home, pg, 2, None, {"PETITIONS_SIMULATED_CLOCK": "1", **extra},
                      name=name, tied=True)  # an interrupted run leaves nothing behind
    try:
        yield Cluster(home, state)
    finally:
        script.down(home, drop=True)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    yield from bring_up(tmp_path_factory, "cluster", {"PETITIONS_SEND_SECONDS": "86400"})


def _drive(cluster: Cluster, *args: str) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "tests" / "cluster" / "drive.py"),
                           *args], env={**os.environ, **cluster.env}, capture_output=True,
                          text=True, timeout=3600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]


def test_petitions_through_two_workers_and_two_sweepers_each_rung_once(cluster):
    from sqlalchemy import create_engine, text

    started = time.monotonic()
    _drive(cluster, "intake", str(N))
    intake_s = time.monotonic() - started
    cluster.wait_runs("petition-lifecycle", N, lambda r: r["state_type"] == "PAUSED",
                      60 + N * 3, "every lifecycle suspended at the first form")
    suspended_s = time.monotonic() - started

    _drive(cluster, "ack")  # every case, by the CLI's own path: commit, then resume

    def acknowledged(r: dict[str, Any]) -> bool:
        key = (r["state"] or {}).get("state_details", {}).get("pause_key") or ""
        return r["state_type"] == "PAUSED" and key.startswith("acknowledged-")

    cluster.wait_runs("petition-lifecycle", N, acknowledged, 60 + N * 3,
                      "every lifecycle suspended at the acceptance form")
    resumed_s = time.monotonic() - started

    # 20 days on: the 15-day written notice is breached for every case. Two sweepers at once.
    (cluster.home / "clock").write_text(START.add(days=20).in_timezone("UTC").isoformat())
    sweepers = cluster.deployment_runs("deadline-sweeper/sweeper", 2)
    cluster.wait_runs("deadline-sweeper", 2, lambda r: r["id"] in sweepers
                      and r["state_type"] == "COMPLETED", 300, "both sweepers")
    db = create_engine(cluster.env["PETITIONS_DATABASE_URL"])

    def queued() -> int:
        with db.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM outbox WHERE status <> 'sent'"))
                       .scalar() or 0)

    rounds = 0
    while queued() and rounds < 10:  # a sender run delivers up to 200: two at once, again
        senders = cluster.deployment_runs("outbox-sender/sender", 2)
        cluster.wait_runs("outbox-sender", 2, lambda r, ids=senders: r["id"] in ids
                          and r["state_type"] == "COMPLETED", 300 + N, "both senders")
        rounds += 1

    with db.connect() as conn:
        fired = conn.execute(text(
            "SELECT case_id, data->>'clock', data->>'rung', count(*) FROM audit_events "
            "WHERE type IN ('DeadlineReminder', 'DeadlineWarning', 'DeadlineBreached', "
            "'Escalated') GROUP BY 1, 2, 3")).all()
        breached = conn.execute(text(
            "SELECT count(DISTINCT case_id) FROM audit_events WHERE type = 'DeadlineBreached' "
            "AND data->>'clock' = 'acceptance_notice'")).scalar()
        outbox = conn.execute(text("SELECT status, attempts, count(*) FROM outbox "
                                   "GROUP BY 1, 2")).all()
        registered = conn.execute(text("SELECT count(*) FROM cases")).scalar()
    db.dispose()
    assert registered == N
    assert breached == N
    assert max(r[3] for r in fired) == 1, "a rung fired twice"
    assert {(r[0], r[1]) for r in outbox} == {("sent", 1)}, outbox  # each message once
    sent = sum(r[2] for r in outbox)
    assert len(list((cluster.home / "outbox").glob("*.eml"))) == sent
    print(f"\n{N} petitions: intake {intake_s:.0f} s, all suspended {suspended_s:.0f} s, "
          f"all resumed {resumed_s:.0f} s; {len(fired)} rungs fired once; {sent} messages "
          "sent once")


def test_the_cli_reads_the_cluster(cluster):
    done = subprocess.run([sys.executable, "-c", "from cli.main import main; main()", "list",
                           "--json"], env={**os.environ, **cluster.env}, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)) == N
