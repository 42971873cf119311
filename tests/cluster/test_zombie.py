"""A worker killed mid-run: its flow run stops beating, the automation in
``deploy/automations/zombie-runs.json`` reschedules it, the other worker runs it again, and
nothing happens twice (one case, one lifecycle run)."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.test_scale import ROOT, Cluster, bring_up
from tests.conftest import wait_for

WAGE = json.loads((ROOT / "deploy" / "config" / "samples" / "wage-complaint.json").read_text())


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    yield from bring_up(tmp_path_factory, "zombie", {"PETITIONS_ZOMBIE_SECONDS": "45"})


def test_a_killed_workers_run_is_rescheduled_and_repeats_nothing(cluster):
    data = {k: v for k, v in WAGE.items() if k != "received_at"}
    dep = cluster.get("/deployments/name/petition-intake/intake")
    run = cluster.post(f"/deployments/{dep['id']}/create_flow_run", {
        "parameters": {"petition": data, "registration_no": "XF-Z1", "actor": "qian.hui"},
        # This run sleeps 20 s after registering (fault injection): long enough to kill it.
        "job_variables": {"env": {"PETITIONS_INTAKE_PAUSE_SECONDS": "20"}}})

    def running() -> dict[str, Any] | None:
        r = cluster.get(f"/flow_runs/{run['id']}")
        return r if r["state_type"] == "RUNNING" and r.get("infrastructure_pid") else None

    current = wait_for(running, 240, "the intake run to start", every=1)
    from sqlalchemy import create_engine, text

    db = create_engine(cluster.env["PETITIONS_DATABASE_URL"])

    def registered() -> bool:
        with db.connect() as conn:
            return bool(conn.execute(text("SELECT count(*) FROM cases")).scalar())

    wait_for(registered, 240, "the petition to be registered", every=1)
    pid = int(str(current["infrastructure_pid"]).rsplit(":", 1)[-1])
    worker = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    for victim in (pid, worker):  # the flow-run process and its worker, as a crash would
        os.kill(victim, signal.SIGKILL)
    killed_at = time.monotonic()

    def rescheduled_and_done() -> dict[str, Any] | None:
        r = cluster.get(f"/flow_runs/{run['id']}")
        return r if r["state_type"] == "COMPLETED" else None

    done = wait_for(rescheduled_and_done, 300, "the zombie run to be rescheduled and done",
                    every=1)
    assert done["run_count"] >= 2  # it ran again, under the same flow run id
    with db.connect() as conn:
        cases = conn.execute(text("SELECT id, stage FROM cases")).all()
        runs = conn.execute(text("SELECT count(*) FROM lifecycle_runs")).scalar()
        events = conn.execute(text("SELECT type, count(*) FROM audit_events GROUP BY 1"))\
            .all()
        outbox = conn.execute(text("SELECT count(*), count(DISTINCT key) FROM outbox")).one()
    db.dispose()
    assert len(cases) == 1 and cases[0].stage == "assigned"
    assert runs == 1
    assert dict(events) == {"CaseRegistered": 1, "CaseAssigned": 1}
    assert outbox[0] == outbox[1]
    lifecycles = cluster.runs("petition-lifecycle")
    assert len(lifecycles) == 1
    print(f"\nzombie noticed and re-run done {time.monotonic() - killed_at:.0f} s after the kill")
