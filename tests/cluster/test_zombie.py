"""A worker killed mid-run: its flow run stops beating, the automation in
``deploy/automations/zombie-runs.json`` reschedules it, the other worker runs it again, and
nothing happens twice (one case, one lifecycle run, its wait once)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.test_scale import Cluster, _drive, bring_up
from tests.conftest import wait_for


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    # Each lifecycle step sleeps 20 s after reading its case (fault injection): long
    # enough to kill the run mid-step.
    yield from bring_up(tmp_path_factory, "zombie", {"PETITIONS_ZOMBIE_SECONDS": "45",
                                                     "PETITIONS_STEP_PAUSE_SECONDS": "20"})


def test_a_killed_workers_run_is_rescheduled_and_repeats_nothing(cluster):
    _drive(cluster, "intake", "1")  # registered and routed here; its run started by id
    from sqlalchemy import create_engine, text

    db = create_engine(cluster.env["PETITIONS_DATABASE_URL"])
    with db.connect() as conn:
        run_id = str(conn.execute(text("SELECT flow_run_id FROM lifecycle_runs")).scalar())

    def running() -> dict[str, Any] | None:
        r = cluster.get(f"/flow_runs/{run_id}")
        return r if r["state_type"] == "RUNNING" and r.get("infrastructure_pid") else None

    current = wait_for(running, 240, "the lifecycle run to start", every=1)
    pid = int(str(current["infrastructure_pid"]).rsplit(":", 1)[-1])
    worker = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    for victim in (pid, worker):  # the flow-run process and its worker, as a crash would
        os.kill(victim, signal.SIGKILL)
    killed_at = time.monotonic()

    def rescheduled_and_waiting() -> dict[str, Any] | None:
        r = cluster.get(f"/flow_runs/{run_id}")
        key = ((r.get("state") or {}).get("state_details") or {}).get("pause_key") or ""
        return r if r["state_type"] == "PAUSED" and key.startswith("assigned-") else None

    done = wait_for(rescheduled_and_waiting, 300,
                    "the zombie run to be rescheduled and wait at the first form", every=1)
    assert done["run_count"] >= 2  # it ran again, under the same flow run id
    with db.connect() as conn:
        cases = conn.execute(text("SELECT id, stage FROM cases")).all()
        runs = conn.execute(text("SELECT count(*) FROM lifecycle_runs")).scalar()
        waits = conn.execute(text("SELECT waits FROM lifecycle_runs")).scalar()
        # The case's own journal: the cluster's scheduled practices (zero-report alerts,
        # reception days) journal beside it whenever their 5-minute schedule comes round.
        events = conn.execute(text("SELECT type, count(*) FROM audit_events"
                                   " WHERE case_id IN (SELECT id FROM cases) GROUP BY 1")).all()
        outbox = conn.execute(text("SELECT count(*), count(DISTINCT key) FROM outbox")).one()
    db.dispose()
    assert len(cases) == 1 and cases[0].stage == "assigned"
    assert runs == 1 and waits == 1
    assert dict(events) == {"CaseRegistered": 1, "CaseAssigned": 1}
    assert outbox[0] == outbox[1]
    lifecycles = cluster.runs("petition-lifecycle")
    assert len(lifecycles) == 1
    print(f"\nzombie noticed and re-run done {time.monotonic() - killed_at:.0f} s after the kill")
