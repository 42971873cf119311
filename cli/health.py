"""``petitions health``: the engine's health, as ``/healthz`` says it (no Prefect needed): the
age of the last completed deadline sweep and each recurring job's heartbeat. Exit code 1
when unhealthy (no sweep for three intervals), so that a container's probe can run it."""

from __future__ import annotations

import typer

from cli.common import Json, emit, out, reports_errors, say
from cli.home import app as make_app
from domain.instants import format_local
from services import health


def register(app: typer.Typer) -> None:
    app.command("health")(health_cmd)


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
