"""The runner of ``petitions serve``: a child process that applies the engine's deployments to
the office's Prefect server and serves them (Prefect's runner: it polls for scheduled runs
and starts each in a process of its own). ``serve`` supervises it; started again, it applies
the deployments again and reconciles the runs in the background.

    python -m flows.runner --sweep-seconds 60
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from types import FrameType

from prefect import serve as prefect_serve
from prefect.client.orchestration import get_client
from prefect.deployments.runner import RunnerDeployment
from prefect.exceptions import ObjectNotFound
from prefect.schedules import Cron

from domain.instants import LOCAL_ZONE
from flows.backup import daily_backup
from flows.heal import LIFECYCLE_DEPLOYMENT, reconcile
from flows.lifecycle import daily_checks, lifecycle, reconciler, sender, sweeper
from flows.office import daily_zero_report, office_practices
from flows.prefect_env import configure
from flows.tasks import app
from services.settings import Settings


def deployments(settings: Settings, sweep_seconds: int) -> list[RunnerDeployment]:
    """Every deployment the engine serves, with its schedule."""
    return [
        lifecycle.to_deployment(name="lifecycle",  # type: ignore[list-item]
                                description="One petition, stage by stage"),
        sweeper.to_deployment(name="sweeper", interval=sweep_seconds,  # type: ignore[list-item]
                              description="Reminders, warnings, breaches, escalations"),
        sender.to_deployment(name="sender", interval=settings.send_seconds,  # type: ignore[list-item]
                             description="Deliver the outbox; the leaders' daily digests"),
        office_practices.to_deployment(  # type: ignore[list-item]
            name="practices", interval=settings.practices_seconds,
            description="领导接待日 notices, 每日零报告 alerts, the weekly 信访信息参考"),
        daily_zero_report.to_deployment(  # type: ignore[list-item]
            name="report", description="每日零报告: run it when your unit has nothing to report"),
        reconciler.to_deployment(  # type: ignore[list-item]
            name="reconciler", interval=settings.reconcile_seconds,
            description="Each case's lifecycle run brought back in step with the case"),
        daily_checks.to_deployment(  # type: ignore[list-item]
            name="daily-checks", schedule=Cron("0 7 * * *", timezone=LOCAL_ZONE),
            description="Audit chains, overdue deadlines, dead letters; reschedules rungs"),
        daily_backup.to_deployment(  # type: ignore[list-item]
            name="daily-backup", schedule=Cron("30 2 * * *", timezone=LOCAL_ZONE),
            description="Database, files, configuration and sealed keys into the backups "
            "folder; the newest N kept"),
    ]


APPLY_WAIT = 120.0  # seconds the start's reconcile waits for the lifecycle deployment


def _applied(name: str) -> None:
    """Wait until the runner beside has applied deployment ``name``: on a home served for
    the first time it does not exist yet, and no run of it can be started."""
    deadline = time.monotonic() + APPLY_WAIT
    with get_client(sync_client=True) as client:
        while True:
            try:
                client.read_deployment_by_name(name)
                return
            except ObjectNotFound:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)


def _reconcile() -> None:
    """Runs missing, ended or left behind while the engine was down (``flows.heal``)."""
    try:
        _applied(LIFECYCLE_DEPLOYMENT)
        for healed in reconcile(app()):
            print(f"{healed.ref}: {healed.what}", flush=True)
    except Exception as e:  # the scheduled reconciler does it again; say why, with the trace
        print(f"the reconcile step at start failed: {type(e).__name__}: {e} (the scheduled "
              "lifecycle-reconciler runs do it again)", file=sys.stderr, flush=True)
        raise


def run(settings: Settings, sweep_seconds: int) -> None:
    """Serve the deployments (Prefect's runner applies each, once: applying them twice in
    a row let the server's scheduler create each interval's runs twice, for the schedule
    replaced and for the new one), reconcile beside them, until stopped."""
    configure(settings)
    served = deployments(settings, sweep_seconds)
    threading.Thread(target=_reconcile, name="runner-reconcile", daemon=True).start()
    prefect_serve(*served, pause_on_shutdown=False, limit=None, query_seconds=2)


def _stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # the runner's own orderly stop, as on Ctrl-C


def main() -> None:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sweep-seconds", type=int, required=True)
    args = parser.parse_args()
    try:
        run(Settings.from_env(), args.sweep_seconds)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
