"""挂牌督办: the cases higher bodies listed for supervision, as a viewer may see them — the
body, its reference, the required date and the days left (or overdue), the last report
to the body and the next one due. The 督查 page lists them first; the quarterly review
reads ``listed_cases``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from domain.deadlines import DeadlineState
from domain.errors import CaseNotFound
from domain.instants import format_local, local_date
from domain.offices import sight_in
from domain.permissions import Sight
from domain.policy import DeadlineKind as K
from services.bootstrap import App
from services.records import OUTLINE_SUBJECT


@dataclass(frozen=True)
class ListedRow:
    case_id: str
    ref: str
    subject: str          # the matter, or the outline's placeholder for an outline reader
    unit_name: str
    stage_label: str
    body: str             # 督办机关
    reference: str        # 文号
    required: str         # YYYY-MM-DD
    days_left: int        # calendar days to the required date; negative: overdue
    state_label: str      # 进行中 / 超期 / 按期完成...
    done: bool            # the case was decided (the required date is met or late)
    last_report: str      # local time of the last report to the body ("" when none)
    last_report_by: str
    next_report: str      # the next report's due date ("" when the case is done)
    report_overdue: bool


def listed_cases(app: App, viewer: str) -> list[ListedRow]:
    """The listed cases ``viewer`` may see, those still running first, the fewest days
    left (the most overdue) first."""
    now = app.clock.now()
    today = local_date(now)
    rows: list[ListedRow] = []
    with app.uow() as uow:
        ids = uow.keypersons.listed_case_ids()
        for cid in ids:
            try:
                case = uow.cases.get(cid, lock=False)
            except CaseNotFound:
                continue
            if (app.scope and case.office not in app.scope) or case.listing is None:
                continue
            seen = sight_in(app.tree, case, viewer)
            if seen < Sight.OUTLINE:
                continue
            rules = app.rules_for(case)
            listed = case.view(K.LISTED, rules, now)
            report = case.view(K.LISTING_REPORT, rules, now)
            if listed is None:
                continue
            reports = case.listing.get("reports") or []
            last = reports[-1] if reports else None
            unit = app.office_of(case).org.units.get(case.unit or "")
            who = app.person(last["by"]) if last else None
            running = report is not None and report.closed_at is None
            rows.append(ListedRow(
                case.id, case.ref,
                case.petition.subject if seen >= Sight.MATERIAL else OUTLINE_SUBJECT,
                unit.name if unit else "待分办", case.stage.label, case.listing["body"],
                case.listing["reference"], listed.due_date.isoformat(),
                (listed.due_date - today).days, listed.state.label,
                listed.closed_at is not None,
                format_local(dt.datetime.fromisoformat(last["at"])) if last else "",
                who.name if who else "",
                report.due_date.isoformat() if report is not None and running else "",
                bool(running and report is not None
                     and report.state is DeadlineState.BREACHED)))
    return sorted(rows, key=lambda r: (r.done, r.days_left, r.ref))
