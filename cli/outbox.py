"""``petitions outbox``: every message queued, held, sent or dead; ``outbox send`` delivers
what is due now."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import Json, emit, out, prefect_secret, reports_errors, say, table
from cli.home import app as make_app
from services.channels import SecretReader
from services.outbox import deliver, queue_digests
from services.reading import outbox_items
from services.schema import migrated

outbox_app = typer.Typer(help="The outbox: every message queued, held, sent or dead.",
                         invoke_without_command=True)
STATUSES = ("queued", "sending", "sent", "dead")


def register(app: typer.Typer) -> None:
    app.add_typer(outbox_app, name="outbox")


@outbox_app.callback()
@reports_errors
def outbox_list(ctx: typer.Context,
                status: Annotated[str | None, typer.Option(
                    help="queued | sending | sent | dead")] = None,
                limit: Annotated[int, typer.Option()] = 50, as_json: Json = False) -> None:
    """List messages, newest first (with the .eml file or provider id of each sent one)."""
    if ctx.invoked_subcommand is not None:
        return
    if status and status not in STATUSES:
        raise typer.BadParameter(f"unknown status {status!r}; expected queued, sending, sent "
                                 "or dead", param_hint="--status")
    a = make_app()
    items, counts = outbox_items(a, status, limit)
    if as_json:
        emit(items)
        return
    out.print(table(({**i, "where": i["error"] or i["note"] or i["ref"]} for i in items),
                    ("id", "status", "kind", "recipient", "case", "queued", "attempts",
                     "where"),
                    headers=("id", "status", "kind", "recipient", "case", "queued",
                             "attempts", "where / why")))
    say(", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "the outbox is empty")
    say(f".eml files (no SendGrid key): {a.settings.home / 'outbox'}")


@outbox_app.command("send")
@reports_errors
def outbox_send(limit: Annotated[int, typer.Option()] = 200) -> None:
    """Deliver what is due now (the served engine does this every PETITIONS_SEND_SECONDS)."""
    a = migrated(make_app())
    reader: SecretReader = prefect_secret
    digests = queue_digests(a)
    report = deliver(a, limit=limit, read_secret=reader)
    say(f"{digests} digest(s) queued; {report}")
