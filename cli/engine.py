"""``petitions serve`` and ``petitions sweep``: the engine itself, so Prefect is loaded here."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import out, reports_errors, say, settings
from cli.home import app as make_app
from domain.errors import ConfigError
from flows.heal import forget_intake_runs, reconcile
from flows.prefect_env import configure, require_server
from flows.runs import failure, run_deployment
from flows.serve import serve
from services.schema import migrated


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_cmd)
    app.command("sweep")(sweep_cmd)
    app.command("reconcile")(reconcile_cmd)
    app.command("forget-intake-runs")(forget_intake_runs_cmd)


@reports_errors
def serve_cmd(sweep_seconds: Annotated[int | None, typer.Option(
        help="Sweep for due deadlines every N seconds (default: PETITIONS_SWEEP_SECONDS, "
        "60).")] = None) -> None:
    """Run the engine: a local Prefect server (unless PREFECT_API_URL answers), the runner
    with the lifecycle deployment and the deadline sweeper, and the office workplace, each
    started again if it dies. Ctrl-C or SIGTERM stops it all."""
    s = settings()
    migrated(make_app())  # the office loads and the schema is current first
    serve(s, say, sweep_seconds=sweep_seconds or s.sweep_seconds, status=out.status)


@reports_errors
def sweep_cmd(timeout: Annotated[float, typer.Option(help="Seconds to wait.")] = 120) -> None:
    """Run the deadline sweeper now (through the served deployment, so its Prefect events
    are emitted), and wait for it."""
    s = settings()
    require_server(s)
    configure(s)
    run = run_deployment("deadline-sweeper/sweeper", {}, None, timeout)
    state = run.state
    if state is None or not state.is_completed():
        raise ConfigError(f"sweeper {failure(run)}")
    say(f"sweeper run {run.name}: {state.result()} rung event(s) fired")


@reports_errors
def reconcile_cmd() -> None:
    """Bring every case's lifecycle run back in step with its case now (the served engine
    does it every PETITIONS_RECONCILE_SECONDS and at start): a run missing, ended, or
    waiting at a stage the case has left."""
    s = settings()
    require_server(s)
    configure(s)
    healed = reconcile(migrated(make_app()))
    for h in healed:
        say(f"{h.ref}: {h.what}")
    say(f"{sum(1 for h in healed if h.case_id)} run(s) brought back in step")


@reports_errors
def forget_intake_runs_cmd() -> None:
    """Delete the runs of the retired `petition-intake` flow and its deployment from
    Prefect: before this version, a petition registered through it was kept whole in the
    run's parameters (the accuser's name and phone, the content), readable to anyone who
    reaches Prefect's API. Our database keeps every case; nothing of ours is lost."""
    s = settings()
    require_server(s)
    configure(s)
    deleted = forget_intake_runs()
    say(f"{deleted} petition-intake run(s) deleted from Prefect")
