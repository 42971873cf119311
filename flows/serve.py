"""``petitions serve``: the embedded default, with nothing to install.

Starts a local Prefect server (SQLite under ``PETITIONS_HOME``) as a child process unless one
already answers at ``PREFECT_API_URL``, waits for it, serves the deployments (lifecycle,
intake, and the sweeper on an interval), and on Ctrl-C or SIGTERM stops the runner and then
the server, leaving nothing running.
"""

from __future__ import annotations

import signal
import subprocess
from types import FrameType

from rich.console import Console

from flows.config import Settings
from flows.prefect_env import (
    api_url,
    configure,
    healthy,
    start_server,
    stop,
    wait_until_healthy,
)

SERVER_START_TIMEOUT = 120.0


def _stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # the same orderly stop as Ctrl-C


def serve(settings: Settings, console: Console, *, sweep_seconds: int) -> None:
    configure(settings)
    url = api_url(settings)
    log = settings.prefect_home / "server.log"
    proc: subprocess.Popen[bytes] | None = None
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        if healthy(url):
            console.print(f"using the Prefect server already at {url}", highlight=False)
        else:
            proc = start_server(settings, log)
            with console.status(f"starting the Prefect server at {url} (log: {log})") as status:
                wait_until_healthy(proc, url, SERVER_START_TIMEOUT,
                                   lambda s: status.update(
                                       f"starting the Prefect server at {url}: {s:.0f} s"),
                                   log)
            console.print(f"Prefect server ready at {url.removesuffix('/api')}",
                          highlight=False)
        _serve_deployments(settings, console, sweep_seconds)
    except KeyboardInterrupt:
        console.print("stopping")
    finally:
        if proc is not None:
            stop(proc)
            console.print("Prefect server stopped")


def _serve_deployments(settings: Settings, console: Console, sweep_seconds: int) -> None:
    from prefect import serve as prefect_serve
    from prefect.deployments.runner import RunnerDeployment
    from prefect.schedules import Cron

    from flows.lifecycle import daily_checks, intake, lifecycle, sender, sweeper
    from flows.office import daily_zero_report, office_practices
    from flows.tasks import app, start_lifecycle

    deployments: list[RunnerDeployment] = [
        lifecycle.to_deployment(name="lifecycle",  # type: ignore[list-item]
                                description="One petition, stage by stage"),
        intake.to_deployment(name="intake",  # type: ignore[list-item]
                             description="登记, 首问负责, 领导包案"),
        sweeper.to_deployment(name="sweeper", interval=sweep_seconds,  # type: ignore[list-item]
                              description="Reminders, warnings, breaches, escalations"),
        sender.to_deployment(name="sender", interval=settings.send_seconds,  # type: ignore[list-item]
                             description="Deliver the outbox; the leaders' daily digests"),
        office_practices.to_deployment(  # type: ignore[list-item]
            name="practices", interval=settings.practices_seconds,
            description="领导接待日 notices, 每日零报告 alerts, the weekly 信访信息参考"),
        daily_zero_report.to_deployment(  # type: ignore[list-item]
            name="report", description="每日零报告: run it with your unit's report"),
        daily_checks.to_deployment(  # type: ignore[list-item]
            name="daily-checks", schedule=Cron("0 7 * * *", timezone="Asia/Shanghai"),
            description="Audit chains, overdue deadlines, dead letters; reschedules rungs"),
    ]
    for d in deployments:
        d.apply()
    a = app()
    with a.uow() as uow:  # the key periods or ladders may have changed since the last run
        uow.reschedule_open(a.clock.now())
        uow.commit()
    with a.uow() as uow:
        orphans = uow.without_run()
    for case_id in orphans:  # an intake cut short: its lifecycle starts now
        start_lifecycle.fn(case_id)
    if orphans:
        console.print(f"started the lifecycle of {len(orphans)} case(s) whose intake was cut "
                      "short")
    prefect_serve(*deployments, pause_on_shutdown=False, limit=None, query_seconds=2)
