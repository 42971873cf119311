"""The supervisors' HTML report: one self-contained page (no script, no network).

At the top, the audit chain check. Then the measures with their numerators and
denominators, the overdue list, and each case's timeline: its stages as bars along time,
with each deadline drawn at its due instant (green met, red breached, grey otherwise).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pendulum
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from domain.case import Case
from domain.deadlines import DeadlineState, due_text, estimate_note, state_label, state_text
from domain.errors import ConfigError
from domain.instants import format_local
from domain.offices import sight_in
from domain.permissions import Sight
from domain.stages import Stage
from services import glance
from services.bootstrap import App
from services.measures import kpis, office_lines
from services.naming import OfficeNames
from services.reading import (
    OVERDUE_PAGE,
    audit_state,
    overdue_rows,
    overdue_summary,
    visible_breaks,
)
from services.targets import target_rows
from services.timeline import breach_holders, held_by
from storage.chain import AuditRow

COLOURS = {DeadlineState.MET: "#2e7d32", DeadlineState.USED: "#2e7d32",
           DeadlineState.BREACHED: "#c62828", DeadlineState.PENDING: "#1565c0",
           DeadlineState.OPEN: "#1565c0", DeadlineState.PAUSED: "#ef6c00"}


def _pct(at: dt.datetime, start: dt.datetime, span: float) -> float:
    return round(max(0.0, min(100.0, (at - start).total_seconds() / span * 100)), 2)


def case_bars(app: App, case: Case, audit: list[AuditRow], now: dt.datetime
              ) -> dict[str, Any]:
    """A case's stages as segments, and its deadlines as marks, in % of its time span."""
    views = case.deadlines(app.rules_for(case), now)
    start = pendulum.instance(case.registered_at)
    ends = [pendulum.instance(now)] + [v.due_at for v in views if v.state is not
                                       DeadlineState.CANCELLED]
    if case.stage is Stage.CLOSED and audit:
        ends = [pendulum.instance(audit[-1].at)] + [
            v.due_at for v in views if v.state in (DeadlineState.MET, DeadlineState.BREACHED)]
    end = max(ends)
    span = max((end - start).total_seconds(), 3600.0)
    segments: list[dict[str, Any]] = []
    for r in audit:
        stage = r.stage
        if segments and segments[-1]["stage"] == stage:
            continue
        if segments:
            segments[-1]["x1"] = _pct(r.at, start, span)
        segments.append({"stage": stage, "label": Stage(stage).label,
                         "x0": _pct(r.at, start, span), "x1": 100.0})
    if case.stage is Stage.CLOSED and segments:
        segments[-1]["x1"] = max(segments[-1]["x0"] + 0.5, segments[-1]["x1"])
    holders = breach_holders(audit)
    names = OfficeNames(app)
    marks = []
    for v in views:
        if v.state is DeadlineState.CANCELLED:
            continue
        held = holders.get(v.kind.value)
        marks.append({"label": v.kind.label, "kind": v.kind.value, "due": due_text(v),
                      "warning": estimate_note(v) if v.closed_at is None else "",
                      "state": state_text(v), "state_label": v.state.label,
                      "state_text": state_label(v),
                      "x": _pct(v.due_at, start, span), "colour": COLOURS.get(v.state, "#777"),
                      "held_by": held_by(names, held) if held else ""})
    return {"ref": case.ref, "id": case.id, "subject": case.petition.subject,
            "restricted": case.petition.is_accusation, "stage": case.stage.label,
            "unit": _unit_name(app, case.unit),
            "from": format_local(start), "to": format_local(end),
            "segments": segments, "marks": marks}


def _unit_name(app: App, unit: str | None) -> str:
    home = next((o for o in app.tree.nodes if unit in app.tree.org(o).units), None)
    found = app.tree.org(home).units.get(unit or "") if home else None
    return found.name if found else (unit or "")


REPORT_PAGE = 100  # case timelines drawn per page of the report


def render_document(template: str, **context: Any) -> str:
    """A document that stands alone (the report, the review pack) from
    ``services/templates``: HTML for the browser or WeasyPrint's PDF."""
    env = Environment(loader=PackageLoader("services", "templates"), undefined=StrictUndefined,
                      autoescape=select_autoescape(("html",)), trim_blocks=True,
                      lstrip_blocks=True)
    return env.get_template(template).render(**context)


def render_report(app: App, start: dt.date, end: dt.date, unit: str | None,
                  viewer: str | None = None, page: int = 1) -> str:
    """The page; with ``viewer``, only the cases they may see (the CLI, run by the
    server's operator, shows every case). It summarises every case (the measures, each
    office's line, the overdue list) and draws the timelines of one page of them: the
    ``page``-th ``REPORT_PAGE`` received in the period, the latest first."""
    now = app.clock.now()
    if page < 1:
        raise ConfigError(f"pages start at 1, got {page}", field="page")
    ms = kpis(app, start, end, unit, viewer)
    lines = office_lines(app, start, end, viewer)
    with app.uow() as uow:
        checked, every_break, audited = audit_state(app, uow)
        breaks = visible_breaks(app, uow, every_break, viewer)
        drawn, in_period = uow.received_page(start, end, unit, app.scope, REPORT_PAGE,
                                             (page - 1) * REPORT_PAGE)
        drawn = [c for c in drawn
                 if viewer is None or sight_in(app.tree, c, viewer) is not Sight.NONE]
        bars = [case_bars(app, c, uow.events_of(c.id), now) for c in drawn]
    overdue = [r for r in overdue_rows(app, seen_by=viewer, limit=OVERDUE_PAGE)
               if unit is None or r["unit"] == unit]
    overdue_cases, _ = overdue_summary(app, viewer)
    # The charts on the first page only, as data: images (the report stands alone).
    charts = [(c, c.data_uri()) for c in glance.charts(app, viewer, start, end, unit)] \
        if page == 1 else []
    return render_document("report.html",
        office=app.office.name, start=start.isoformat(), end=end.isoformat(), unit=unit,
        unit_name=_unit_name(app, unit) if unit else "",
        generated=format_local(now), checked=checked, audited=audited, breaks=breaks,
        measures=ms, charts=charts, targets=target_rows(app, end.year, None, viewer),
        overdue=overdue, cases=bars, lines=lines, page=page,
        hidden_breaks=len(every_break) - len(breaks), overdue_cases=overdue_cases,
        overdue_listed=len({r["id"] for r in overdue}),
        pages=max(1, -(-in_period // REPORT_PAGE)), in_period=in_period)
