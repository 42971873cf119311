"""The workplace's pages: 我的待办, 案件, 登记, 领导, and the practices. Each calls the same use
case as the CLI (an action commits, then wakes the case's run) and shows only what the
person may see."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from domain.acts import Act
from domain.case import Case
from domain.deadlines import PauseReason
from domain.errors import CaseNotFound, PetitionError
from domain.instants import local_date
from domain.outcomes import Outcome, Rating, Resolution
from domain.petition import Category, Channel
from services import attachments, cases, history, notices, practices, workplace
from services import intake as registering
from services.bootstrap import App
from services.progress import query_code
from web import files as web_files
from web.auth import Person, check_csrf, session_via
from web.context import one_line, petitions, render, runs

router = APIRouter()

OUTCOMES = [(o.value, o.label) for o in Outcome]
CLASSES = [(r.value, r.label) for r in Resolution]
RATINGS = [(r.value, r.label) for r in Rating if r is not Rating.EXPIRED_UNRATED]
PAUSES = [(p.value, p.label) for p in PauseReason]
CHOICES = {"outcome": OUTCOMES, "resolution": CLASSES, "rating": RATINGS,
           "pause_reason": PAUSES}
_REASON, _SUMMARY = ("reason", "理由"), ("summary", "办理情况")
_DECIDE = [("outcome", "处理结果"), ("resolution", "三个到位"), _SUMMARY]
# Each act's form: its button, and the fields it needs (services.cases._apply reads them).
ACT_FORMS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    Act.ACK.value: ("首问复命（确认收到）", []),
    Act.ACCEPT.value: ("受理", [("reason", "受理告知（可选）")]),
    Act.DECLINE.value: ("不予受理", [_REASON]),
    Act.ASSIGN_LEADER.value: ("指定包案领导", [("leader", "包案领导"), _REASON]),
    Act.LEADER_ACCEPT.value: ("领导接案", []),
    Act.PAUSE.value: ("暂停计时", [("pause_reason", "暂停事由"), ("reason", "依据")]),
    Act.RESUME.value: ("恢复计时", [("reason", "依据")]),
    Act.EXTEND.value: ("批准并延期", [("days", "延长天数"), _REASON]),
    Act.REQUEST_EXTENSION.value: ("申请延期", [("days", "延长天数"), _REASON]),
    Act.APPROVE_EXTENSION.value: ("批准延期", []),
    Act.REFUSE_EXTENSION.value: ("不批准延期", [_REASON]),
    Act.REQUEST_REPORT.value: ("要求报告办理情况", []),
    Act.LIST_CASE.value: ("挂牌督办", [("body", "督办机关"), ("reference", "文号"),
                                   ("required", "要求办结日期"), ("days", "每几日报告一次")]),
    Act.REPORT_TO_LISTER.value: ("向督办机关报告", [("summary", "报告内容")]),
    Act.CLOSE.value: ("办结答复", _DECIDE),
    Act.RATE.value: ("录入满意度评价（代信访人）", [("rating", "评价")]),
    Act.REQUEST_REVIEW.value: ("申请复查（代信访人）", [_REASON]),
    Act.DECIDE_REVIEW.value: ("复查决定", _DECIDE),
    Act.REQUEST_RE_REVIEW.value: ("申请复核（代信访人）", [_REASON]),
    Act.DECIDE_RE_REVIEW.value: ("复核决定", _DECIDE),
    Act.STRIKE_OFF.value: ("销号", [("reason", "说明")]),
    Act.REPORT.value: ("完成任务报告", [_SUMMARY]),
    Act.WITHDRAW.value: ("撤回（代信访人）", [_REASON]),
    Act.ASSIGN.value: ("分办", [("unit", "承办单位"), ("responder", "首问责任人")]),
    Act.HAND_DOWN.value: ("交办下级", [("office", "下级信访部门（编号）")]),
}


@router.get("/", response_class=HTMLResponse)
def queue(request: Request, me: Person) -> Response:
    app = petitions(request)
    mine = workplace.my_queue(app, me)
    return render(request, "queue.html", rows=mine.rows, total=mine.total,
                  triage=workplace.triage_queue(app, me),
                  show_triage=me in app.office.org.office_staff)


@router.get("/cases/{ref}", response_class=HTMLResponse)
def case_page(request: Request, ref: str, me: Person) -> Response:
    app = petitions(request)
    try:
        view = workplace.case_view(app, ref, me)
    except CaseNotFound:
        return render(request, "error.html", status_code=404, message=f"没有信访件 {ref}")
    org = app.office.org
    return render(request, "case.html", case=view, forms=ACT_FORMS, choices=CHOICES,
                  people=sorted(org.people.values(), key=lambda p: p.id),
                  units=sorted(org.units.values(), key=lambda u: u.id),
                  unit_names={u.id: u.name for u in org.units.values()},
                  notices=notices.printable(app, ref, me),
                  files=attachments.listing(app, ref, me), file_kinds=web_files.KINDS)


@router.post("/cases/{ref}/notices/{kind}.pdf")
async def notice_pdf(request: Request, ref: str, kind: str, me: Person) -> Response:
    """The notice as PDF, printed now (recorded on the timeline) by whoever may."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    app = petitions(request)
    try:
        made = await run_in_threadpool(notices.print_notice, app, ref, kind, me)
    except CaseNotFound:
        return render(request, "error.html", status_code=404, message=f"没有信访件 {ref}")
    except PetitionError as e:
        return render(request, "error.html", status_code=403, message=one_line(e))
    return Response(made.pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{made.kind.id}-{ref}.pdf"'})


_FIELDS = ("reason", "leader", "outcome", "summary", "rating", "approver", "pause_reason",
           "resolution", "unit", "responder", "office", "body", "reference", "required")


@router.post("/cases/{ref}/act")
async def act(request: Request, ref: str, me: Person) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    app = petitions(request)
    fields: dict[str, Any] = {k: str(form[k]).strip() or None for k in _FIELDS if k in form}
    try:
        what = Act(str(form.get("act", "")))
        days = str(form.get("days") or "").strip()
        req = cases.ActRequest(what, me, days=int(days) if days else None, via=session_via(
            request), **{k: (v if v is not None else "") if k in ("reason", "summary") else v
                         for k, v in fields.items()})
        # in a worker thread: the engine's client (Prefect) is synchronous here, and the
        # event loop keeps serving other people meanwhile
        done = await run_in_threadpool(cases.act_and_wake, app, ref, req, runs(request))
    except (ValueError, PetitionError) as e:
        request.session["flash"] = {"error": True, "text": one_line(e)}
    else:
        note = f"（流程稍后跟进：{done.not_woken}）" if done.not_woken else ""
        request.session["flash"] = {"error": False,
                                    "text": f"{done.result.ref}：{ACT_FORMS[what.value][0]}"
                                            f"已办理，现为{done.result.stage.label}{note}"}
    return RedirectResponse(f"/cases/{ref}", status_code=303)


@router.get("/intake", response_class=HTMLResponse)
def intake_page(request: Request, me: Person) -> Response:
    return _intake_form(request, me, {}, "")


def _intake_form(request: Request, me: str, values: dict[str, str], error: str,
                 status_code: int = 200, visits: tuple[int, str | None] | None = None
                 ) -> Response:
    app = petitions(request)
    if me not in app.office.org.office_staff:
        return render(request, "error.html", status_code=403,
                      message="登记由信访办工作人员办理")
    return render(request, "intake.html", status_code=status_code, values=values,
                  error=error, channels=[(c.value, c.label) for c in Channel],
                  categories=[(c.value, c.label) for c in Category],
                  units=sorted(app.office.org.units.values(), key=lambda u: u.id),
                  visits=visits, file_kinds=web_files.KINDS)


@router.post("/intake", response_class=HTMLResponse)
async def intake(request: Request, me: Person, background: BackgroundTasks) -> Response:
    app = petitions(request)
    refused = web_files.too_large(request, web_files.request_cap(app, web_files.INTAKE_FILES))
    if refused is not None:  # the scans it carries: bounded before they are read
        return render(request, "error.html", status_code=refused[0], message=refused[1])
    raw = await request.form()
    try:  # the files of the form are spooled to disk: closed (deleted) however it ends
        return await _intake(request, me, background, app, raw)
    finally:
        await raw.close()


async def _intake(request: Request, me: str, background: BackgroundTasks, app: App,
                  raw: FormData) -> Response:
    form = {k: str(v) for k, v in raw.items() if k != "files"}
    check_csrf(request, form.get("csrf", ""))
    scans = web_files.uploads_of(raw, "files")
    try:
        web_files.precheck(app, scans)  # a file refused: nothing registered
        case = await run_in_threadpool(_register, app, form, me, session_via(request))
    except (ValueError, PetitionError) as e:
        return _intake_form(request, me, form, one_line(e), status_code=422)
    try:
        attached = await run_in_threadpool(web_files.attach_all, app, case.id, scans, me,
                                           session_via(request), form.get("file_kind"))
    except PetitionError as e:  # registered all the same: said on the page that follows
        attached, request.session["flash"] = [], {"error": True, "text": one_line(e)}
    background.add_task(_start, app, request, case.id)
    view = await run_in_threadpool(workplace.case_view, app, case.id, me)
    seen, latest = await run_in_threadpool(history.visits, app, me,
                                           case.petition.petitioner, case.id)
    return render(request, "intake_done.html", case=view, reasons=view.reasons,
                  repeat=view.header["repeat_of"], repeat_ref=view.header["repeat_ref"],
                  code=query_code(app, case),
                  attached=[a.file for a in attached if a.file is not None],
                  visits=seen, history_of=latest.id if latest else "")


def _register(app: App, form: dict[str, str], me: str, via: str) -> Case:
    """Register and route the petition of the intake form, in the request."""
    return registering.intake(app, petition_data(form),
                              registration_no=cases.new_registration_no(app),
                              actor=me, via=via)


def _start(app: App, request: Request, case_id: str) -> None:
    """The lifecycle run, right after the page; if Prefect is down, the reconcile step
    starts it when it is back."""
    runs(request).start(app, case_id)


def petition_data(form: dict[str, str]) -> dict[str, Any]:
    """The intake form as the petition mapping ``services.cases.register`` reads."""
    def text(name: str) -> str | None:
        return form.get(name, "").strip() or None

    petitioner = {k: text(k) for k in ("name", "phone", "id_number", "address", "email")}
    data: dict[str, Any] = {
        "petitioner": {k: v for k, v in petitioner.items() if v},
        "channel": text("channel"), "category": text("category"), "subject": text("subject"),
        "content": form.get("content", ""), "concerns_unit": text("concerns_unit"),
        "accused_persons": [a.strip() for a in form.get("accused_persons", "").replace(
            "，", ",").split(",") if a.strip()],
        "key_person": form.get("key_person") == "on"}
    for field in ("headcount", "representatives"):
        if text(field):
            data[field] = int(form[field])
    return {k: v for k, v in data.items() if v is not None}


@router.get("/leader", response_class=HTMLResponse)
def leader(request: Request, me: Person) -> Response:
    return render(request, "leader.html", board=workplace.leader_board(petitions(request), me))


@router.get("/zero-report", response_class=HTMLResponse)
def zero_report(request: Request, me: Person) -> Response:
    app = petitions(request)
    day = local_date(app.clock.now())
    mine = app.office.org.people[me].unit
    listed = mine in app.office.practices.zero_report.units
    return render(request, "zero_report.html", rows=practices.zero_report_status(app, day),
                  day=day.isoformat(), unit=mine if listed else None)


@router.post("/zero-report")
def file_zero_report(request: Request, me: Person, csrf: Annotated[str, Form()],
                     items: Annotated[int, Form()] = 0,
                     summary: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf)
    app = petitions(request)
    try:
        r = practices.file_zero_report(app, unit=app.office.org.people[me].unit,
                                       reporter=me, items=items, summary=summary)
        text = f"{r.day} 已报告：{'无情况' if r.nothing else f'{r.items} 件'}" + (
            "（迟报）" if r.late else "")
        request.session["flash"] = {"error": False, "text": text}
    except PetitionError as e:
        request.session["flash"] = {"error": True, "text": one_line(e)}
    return RedirectResponse("/zero-report", status_code=303)


@router.get("/reception", response_class=HTMLResponse)
def reception(request: Request, me: Person) -> Response:
    app = petitions(request)
    first = local_date(app.clock.now())
    rows = practices.reception_items(app, first, first.add(days=90))
    names = {p.id: p.name for p in app.office.org.people.values()}
    return render(request, "reception.html", rows=rows, names=names)


@router.get("/signals", response_class=HTMLResponse)
def signals(request: Request, me: Person) -> Response:
    app = petitions(request)
    board = workplace.signal_board(app, me)
    return render(request, "signals.html", rows=board.rows, officer=board.officer,
                  digest_note=board.digest_note,
                  units=sorted(app.office.org.units.values(), key=lambda u: u.id))


@router.post("/signals")
def record_signal(request: Request, me: Person, csrf: Annotated[str, Form()],
                  unit: Annotated[str, Form()], summary: Annotated[str, Form()],
                  detail: Annotated[str, Form()] = "",
                  risk: Annotated[str, Form()] = "low") -> Response:
    check_csrf(request, csrf)
    try:
        s = practices.new_signal(petitions(request), officer=me, unit=unit, summary=summary,
                                 detail=detail, risk=risk)
        request.session["flash"] = {"error": False, "text": f"已记录 {s.id}"}
    except PetitionError as e:
        request.session["flash"] = {"error": True, "text": one_line(e)}
    return RedirectResponse("/signals", status_code=303)

