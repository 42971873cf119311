"""``petitions health``: the engine's health, as ``/healthz`` says it (no Prefect needed): the
age of the last completed deadline sweep and each recurring job's heartbeat. Exit code 1
when unhealthy (no sweep for three intervals), so that a container's probe can run it."""

from __future__ import annotations

import time

import typer

from cli.common import Json, emit, out, reports_errors, say
from cli.home import app as make_app
from domain.instants import format_local
from services import health


def register(app: typer.Typer) -> None:
    app.command("health")(health_cmd)
    app.command("watchdog")(watchdog_cmd)


@reports_errors
def health_cmd(as_json: Json = False) -> None:
    """Whether deadlines are being swept: the last completed sweep and its age (unhealthy,
    exit code 1, past three PETITIONS_SWEEP_SECONDS), and when each recurring job (sweep,
    send, practices, reconcile) last completed."""
    h = health.health(make_app())
    if as_json:
        emit(h.as_dict())
    else:
        say(f"{'healthy' if h.ok else 'UNHEALTHY'}: {h.why}")
        for name, (at, detail) in sorted(h.beats.items()):
            out.print(f"  {name:<10} {format_local(at)}  {detail or ''}", highlight=False,
                      markup=False)
    if not h.ok:
        raise typer.Exit(1)


@reports_errors
def watchdog_cmd() -> None:
    """Watch the deadline sweeps and alarm the office when they stop (and when they come
    back), without Prefect: what `petitions serve` does beside its engine, for a scaled-out
    engine (compose, Helm) whose sweeps run on Prefect's workers. Runs until stopped."""
    a = make_app()
    state: dict[str, object] = {}
    every = min(30.0, float(a.settings.sweep_seconds))
    say(f"watching the sweeps every {every:.0f} s (unhealthy past three intervals)")
    while True:
        try:
            h = health.watch(a, state)
        except Exception as e:  # the database down: said, and looked at again
            say(f"could not read the engine's health: {type(e).__name__}: {e}")
        else:
            if not h.ok:
                say(f"unhealthy: {h.why}")
        time.sleep(every)
