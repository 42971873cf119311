"""``petitions intake``: register a petition (登记) here, then start its lifecycle run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cli.common import note, out, reports_errors, runs, via
from cli.home import app as make_app
from cli.views import print_header
from domain.errors import ConfigError
from services.bootstrap import App
from services.cases import new_registration_no
from services.files import load_json
from services.intake import intake
from services.progress import query_code
from services.schema import migrated


def register(app: typer.Typer) -> None:
    app.command("intake")(intake_cmd)


def petition_data(file: Path | None, fields: dict[str, Any]) -> dict[str, Any]:
    """The petition from ``file`` (JSON, ``-`` for stdin), with the given fields filled in
    or overriding it."""
    data: dict[str, Any] = load_json(file) if file is not None else {}
    if not isinstance(data, dict):
        raise ConfigError("a petition is a JSON object", source=str(file))
    petitioner = dict(data.get("petitioner") or {})
    for key in ("name", "phone", "id_number"):
        if fields.get(key):
            petitioner[key] = fields.pop(key)
    data.update({k: v for k, v in fields.items() if v is not None})
    if petitioner:
        data["petitioner"] = petitioner
    return data


def submit(a: App, data: dict[str, Any], registration_no: str | None, actor: str,
           signal: str | None = None) -> None:
    """Register and route ``data`` here, in this process (``services.intake``: bad input is
    refused and nothing stored), print where it went, then start its lifecycle run by case
    id. If the engine does not answer, the reconciler starts the run when it is back."""
    case = intake(a, data, registration_no=registration_no or new_registration_no(a),
                  actor=actor, via=via(), signal=signal)
    print_header(out, case)
    out.print(f"query code      {query_code(a, case)}  (for the petitioner: 办理进度查询 with "
              "the number; also on the acceptance notice)", highlight=False)
    out.file.flush()
    why = runs().start(a, case.id)
    if why:
        note(f"its lifecycle run did not start now: {why}")


@reports_errors
def intake_cmd(
    actor: Annotated[str, typer.Option(
        "--actor", "-a", help="Who registers: one of the petition office's staff.")],
    file: Annotated[Path | None, typer.Argument(help="Petition JSON, or - for stdin.")] = None,
    name: Annotated[str | None, typer.Option(help="Petitioner's name.")] = None,
    phone: Annotated[str | None, typer.Option()] = None,
    id_number: Annotated[str | None, typer.Option()] = None,
    category: Annotated[str | None, typer.Option()] = None,
    channel: Annotated[str | None, typer.Option()] = None,
    subject: Annotated[str | None, typer.Option()] = None,
    content: Annotated[str | None, typer.Option()] = None,
    concerns_unit: Annotated[str | None, typer.Option()] = None,
    registration_no: Annotated[str | None, typer.Option(
        help="Registration number (default: generated, XF-YYYYMMDD-…).")] = None,
) -> None:
    """Register a petition (登记), route it and assign its first responder, then start its
    lifecycle run (when `petitions serve` is not running, the run starts once it is).
    Channel `reception` needs a leader reception day on the day it is received: that
    leader responds and owns the case.
    Without `received_at` the petition was received now."""
    data = petition_data(file, {"name": name, "phone": phone, "id_number": id_number,
                                "category": category, "channel": channel,
                                "subject": subject, "content": content,
                                "concerns_unit": concerns_unit})
    submit(migrated(make_app()), data, registration_no, actor)
