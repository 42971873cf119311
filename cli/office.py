"""``petitions check-config`` and ``petitions route``: the office's configuration, and where a
petition would go."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import ConfigOpt, office_dir, out, reports_errors, say, settings, table, warn
from domain.deadlines import due_text, state_text
from services.clock import configured
from services.config import load_installation
from services.files import load_json
from services.intake import preview_route
from services.package_cache import package_schedules


def register(app: typer.Typer) -> None:
    app.command("check-config")(check_config)
    app.command("route")(route_cmd)


@reports_errors
def check_config(config: ConfigOpt = None) -> None:
    """Load and validate every file of the office configuration (of every office of a
    tree)."""
    offices = load_installation(office_dir(config), package_schedules(settings().cache_dir))
    for office in offices.offices.values():
        where = "" if len(offices.offices) == 1 else (
            f"office {office.id} ({office.name}"
            f"{', under ' + office.parent if office.parent else ', the root'}): ")
        out.print(f"ok: {where}{len(office.org.units)} units, {len(office.org.people)} "
                  f"people, {len(office.routing.rules)} routing rules, policies "
                  f"{', '.join(office.policies.ids())} (default {office.policies.default_id})",
                  highlight=False)
        if office.org.office is None:
            warn([f"{where}org.yaml names no petition_office: nobody may register "
                  "petitions or enter the petitioner's own acts"])


@reports_errors
def route_cmd(
    petition_file: Annotated[Path, typer.Argument(help="Petition JSON, or - for stdin.")],
    config: ConfigOpt = None,
    workload: Annotated[Path | None, typer.Option(
        help="JSON object: person id → open cases held.")] = None,
    repeat: Annotated[bool, typer.Option(help="Treat it as a repeat petition.")] = False,
) -> None:
    """Show where a petition goes: unit, first responder, owning leader, recusals, and the
    deadlines that start on registration. Nothing is stored."""
    s = settings()
    office = load_installation(office_dir(config), package_schedules(s.cache_dir)
                               ).office(s.office)
    now = configured(s.home, s.simulated_clock).now()
    p = preview_route(office, load_json(petition_file), now,
                      load_json(workload) if workload else {}, repeat=repeat)
    org, decision, petition = office.org, p.decision, p.petition
    say(f"unit:      {decision.unit} {org.unit(decision.unit).name} (rule: {decision.rule})")
    say(f"responder: {decision.responder} {org.person(decision.responder).name}")
    if decision.leader:
        say(f"leader:    {decision.leader} {org.person(decision.leader).name} "
            f"(领导包案: {'、'.join(decision.leader_reasons)})")
    else:
        say("leader:    not required")
    if petition.is_accusation:
        accused = [x for x in (petition.concerns_unit, *petition.accused_persons) if x]
        say(f"accused:   {', '.join(accused)} — never routed, assigned or notified")
    for bar in decision.bars:
        say(f"excluded:  {bar.who} ({bar.reason})")
    say(f"policy:    {p.policy.id} {p.policy.title}")
    out.print(table(({"deadline": f"{v.kind.label} {v.kind.value}", "limit": str(v.period),
                      "due": due_text(v), "state": state_text(v), "basis": v.basis}
                     for v in p.deadlines),
                    ("deadline", "limit", "due", "state", "basis"),
                    headers=("deadline", "limit", "due (local)", "state", "basis")))
    warn(w for v in p.deadlines for w in v.warnings)
