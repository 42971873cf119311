"""The scaled-out engine left alone (Prefect's server and two workers on PostgreSQL, our
database on PostgreSQL, deploy/prefect.yaml's own schedules): a petition registered three
weeks late with no run, then nobody calls anything. Prefect's scheduler must create the
reconciler's, the sweeper's, the sender's and the practices' runs and the workers run them:
the run is started and routes the case, its overdue rungs fire once each, the messages go,
the zero-report alerts are queued, and `petitions health` says the sweeps are on time.
Their schedules are every 5 minutes at the longest, so this waits up to 8."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cluster.test_scale import Cluster, _drive, bring_up
from tests.conftest import wait_for

PATIENCE = 480


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    yield from bring_up(tmp_path_factory, "alone", {})


def _cli(cluster: Cluster, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from cli.main import main; main()", *args],
                          env={**os.environ, **cluster.env}, capture_output=True, text=True,
                          timeout=120)


def _case(cluster: Cluster) -> dict[str, Any]:
    done = _cli(cluster, "show", "XF-C1", "--json")
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def _outbox(cluster: Cluster) -> list[dict[str, Any]]:
    return list(json.loads(_cli(cluster, "outbox", "--limit", "1000", "--json").stdout))


def test_the_cluster_left_alone_starts_routes_sweeps_sends_and_checks(cluster):
    (cluster.home / "clock").write_text("2026-11-20T06:05:00+00:00")  # 14:05 in Shanghai
    _drive(cluster, "register", "XF-C1", "2026-10-30T09:00:00+08:00")
    assert _case(cluster)["stage"] == "registered"

    def routed_and_waiting() -> bool:
        case = _case(cluster)
        runs = [r for r in cluster.runs("petition-lifecycle")
                if r["parameters"].get("case_id") == case["id"]]
        return case["stage"] == "assigned" and any(
            r["state_type"] == "PAUSED" for r in runs)
    wait_for(routed_and_waiting, PATIENCE, "the reconciler to start the run, which routes it",
             every=5)

    def fired() -> list[tuple[str, Any, Any]]:
        rungs = [(e["event"], e["data"].get("clock"), e["data"].get("rung"))
                 for e in _case(cluster)["events"] if e["event"].startswith("Deadline")]
        return rungs if any(r[0] == "DeadlineBreached" for r in rungs) else []
    rungs = wait_for(fired, PATIENCE, "the scheduled sweeper to fire the overdue rungs",
                     every=5)
    assert len(rungs) == len(set(rungs))

    def sent() -> set[str]:
        kinds = {m["kind"] for m in _outbox(cluster)
                 if m["case"] == "XF-C1" and m["status"] == "sent"}
        return kinds if {"assignment", "breach"} <= kinds else set()
    wait_for(sent, PATIENCE, "the scheduled sender to deliver them", every=5)
    wait_for(lambda: [m for m in _outbox(cluster) if m["kind"] == "zero_report_missing"],
             PATIENCE, "the scheduled practices' zero-report alerts", every=5)

    health = _cli(cluster, "health", "--json")
    assert health.returncode == 0, health.stdout + health.stderr
    beats = json.loads(health.stdout)["beats"]
    assert {"sweep", "send", "practices", "reconcile"} <= set(beats)
