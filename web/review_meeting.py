"""The quarterly risk review's meeting on the workplace (排查例会记录): a supervisor records
it — chair, attendees, the issues studied, each measure and plan with its owner and due
date — through the same use case as ``petitions review record``; the owner of a measure (or
the chair) marks it done. Who is neither a supervisor nor an owner or chair of the quarter's
measures is refused."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from domain.errors import NotPermitted, PetitionError, RuleViolation
from domain.instants import local_date
from domain.permissions import supervisors
from domain.quarters import Quarter
from domain.review import MeasureInput, MeasureKind
from services import review
from services.bootstrap import App
from web.auth import Person, check_csrf
from web.context import one_line, petitions, render

router = APIRouter(prefix="/supervise/meeting")


def _quarter(app: App, text: str | None) -> Quarter:
    return Quarter.parse(text) if text else Quarter.of(local_date(app.clock.now()))


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _measures(text: str, kind: MeasureKind) -> list[MeasureInput]:
    """Lines of ``内容|责任人编号|YYYY-MM-DD`` (the CLI's ``--measure``)."""
    out = []
    for n, line in enumerate(_lines(text), 1):
        parts = [p.strip() for p in line.replace("｜", "|").split("|")]
        try:
            due = dt.date.fromisoformat(parts[2]) if len(parts) == 3 else None
        except ValueError:
            due = None
        if due is None:
            raise RuleViolation("例会记录", f"{kind.label}第{n}行应为“内容|责任人编号|年-月-日”，"
                                f"收到“{line[:60]}”")
        out.append(MeasureInput(parts[0], parts[1], due, kind))
    return out


@router.get("", response_class=HTMLResponse)
def meeting_page(request: Request, me: Person, quarter: str | None = None) -> Response:
    app = petitions(request)
    try:
        q = _quarter(app, quarter)
    except PetitionError as e:
        return render(request, "error.html", status_code=422, message=one_line(e))
    meeting = review.meeting_of(app, q)
    rows = review.measure_rows(app, meeting)
    supervisor = me in supervisors(app.office.org)
    mine = {r["id"] for r in rows if me in (r["owner"], meeting.chair if meeting else "")}
    if not supervisor and not mine:
        return render(request, "error.html", status_code=403,
                      message="例会记录由信访办和矿领导班子办理，您不是本季度措施的责任人")
    org = app.office.org
    return render(request, "review_meeting.html", quarter=q, meeting=meeting, rows=rows,
                  mine=mine, supervisor=supervisor,
                  people=sorted(org.people.values(), key=lambda p: p.id),
                  chair_name=org.people[meeting.chair].name if meeting else "",
                  attendee_names=[org.people[a].name for a in meeting.attendees
                                  if a in org.people] if meeting else [])


@router.post("")
def record(request: Request, me: Person, csrf: Annotated[str, Form()],
           quarter: Annotated[str, Form()], chair: Annotated[str, Form()] = "",
           attendees: Annotated[list[str] | None, Form()] = None,
           held_on: Annotated[str, Form()] = "", issues: Annotated[str, Form()] = "",
           measures: Annotated[str, Form()] = "", plans: Annotated[str, Form()] = ""
           ) -> Response:
    check_csrf(request, csrf)
    app = petitions(request)
    try:
        q = Quarter.parse(quarter)
        day = dt.date.fromisoformat(held_on) if held_on else None
        review.record_review(app, quarter=q, actor=me, chair=chair, attendees=attendees or [],
                             issues=_lines(issues), held_on=day,
                             measures=_measures(measures, MeasureKind.MEASURE)
                             + _measures(plans, MeasureKind.PLAN))
        request.session["flash"] = {"error": False, "text": f"{q.label}排查例会已记录"}
    except NotPermitted:
        request.session["flash"] = {"error": True, "text": "例会由信访办或矿领导班子记录"}
    except ValueError:
        request.session["flash"] = {"error": True, "text": "召开日期应为“年-月-日”"}
    except PetitionError as e:
        request.session["flash"] = {"error": True, "text": one_line(e)}
    return RedirectResponse(f"/supervise/meeting?quarter={quarter[:6]}", status_code=303)


@router.post("/done")
def done(request: Request, me: Person, csrf: Annotated[str, Form()],
         measure: Annotated[str, Form()], quarter: Annotated[str, Form()],
         note: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf)
    app = petitions(request)
    try:
        m = review.measure_done(app, measure, by=me, note=note)
        request.session["flash"] = {"error": False, "text": f"措施“{m.text[:30]}”已完成"}
    except PetitionError as e:
        request.session["flash"] = {"error": True, "text": one_line(e)}
    return RedirectResponse(f"/supervise/meeting?quarter={quarter[:6]}", status_code=303)
