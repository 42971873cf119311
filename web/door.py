"""The petitioner's own door (网上信访), its own entrance under ``/submit``: the office's
notices, sign-in by the mobile number and an SMS code, the petition form with its scans,
the petitioner's cases with their rating and review requests (``services/door.py``).

No staff session reaches it (nothing here reads the workplace's session) and none of its
sessions reaches a staff page: its own cookie (``petitions_door``), path-scoped to
``/submit``, signed, holding the verified number and its CSRF token, good for 30 minutes
idle (re-signed by each page). Plain HTML forms: no script, works without JavaScript.
"""

from __future__ import annotations

import secrets
import urllib.parse
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature, TimestampSigner
from starlette.concurrency import run_in_threadpool

from domain.attachments import MB
from domain.errors import CaseNotFound, ConfigError, PetitionError, RuleViolation
from domain.outcomes import Rating
from domain.petition import Category
from services import door
from services.door_codes import BadNumber, TooMany, WrongCode, send_code, sign_in
from web import files as web_files
from web.auth import session_secret
from web.context import TEMPLATES, runs

router = APIRouter(prefix="/submit", include_in_schema=False)
COOKIE, IDLE = "petitions_door", 30 * 60
# Before sign-in: a token in a SameSite=Strict cookie and in the form, so no other site can
# sign a visitor in to someone else's number (whose "my cases" would then get their petition).
PRE = "petitions_door_pre"
RATINGS = [(r.value, r.label) for r in Rating if r is not Rating.EXPIRED_UNRATED]
CATEGORIES = [(c.value, c.label) for c in Category]


def _signer(request: Request) -> TimestampSigner:
    settings = request.app.state.petitions.settings
    return TimestampSigner(session_secret(settings), salt="petitions-door")


def _session(request: Request) -> tuple[str, str] | None:
    """(verified number, CSRF token) of the door's session, if one is alive."""
    raw = request.cookies.get(COOKIE, "")
    try:
        value = _signer(request).unsign(raw, max_age=IDLE).decode()
    except BadSignature:  # none, forged, or idle past 30 minutes
        return None
    number, _, csrf = value.partition(":")
    return (number, csrf) if number and csrf else None


def _keep(request: Request, response: Response, number: str, csrf: str) -> Response:
    """``response`` with the session re-signed now: 30 minutes from this page."""
    https = request.app.state.petitions.settings.web_https_only
    response.set_cookie(COOKIE, _signer(request).sign(f"{number}:{csrf}").decode(),
                        max_age=IDLE, path="/submit", httponly=True, samesite="strict",
                        secure=https)
    return response


def _page(request: Request, template: str, status_code: int = 200, **context: object
          ) -> Response:
    app = request.app.state.petitions
    session = _session(request)
    pre = request.cookies.get(PRE) or secrets.token_urlsafe(18)
    response = TEMPLATES.TemplateResponse(request, template, {
        "office": app.office.name, "online": app.office.online, "error": "",
        "number": session[0] if session else "", "csrf": session[1] if session else "",
        "pre": pre, **context}, status_code=status_code)
    if PRE not in request.cookies:
        response.set_cookie(PRE, pre, path="/submit", httponly=True, samesite="strict",
                            secure=app.settings.web_https_only)
    return _keep(request, response, *session) if session else response


def _from_here(request: Request, pre: str) -> Response | None:
    """None if the form came from the door's own page; else the page to start again on."""
    mine = request.cookies.get(PRE, "")
    if mine and secrets.compare_digest(mine, pre):
        return None
    return _page(request, "door_home.html", 403, error="请从本页重新开始。")


def _closed(request: Request) -> Response | None:
    if request.app.state.petitions.office.online.enabled:
        return None
    return _page(request, "door_home.html", 404, closed=True)


FIELDS = {"name": "姓名", "id_number": "身份证号码", "category": "类别", "subject": "事项标题",
          "content": "具体内容", "concerns_unit": "涉及单位", "accused_persons": "被反映人"}


def refusal(e: PetitionError) -> str:
    """A refused submission as the petitioner reads it: Chinese, naming what to put right
    (the domain's own line names fields by id, for staff and logs)."""
    if isinstance(e, door.Refused):
        return str(e)
    if isinstance(e, RuleViolation) and "file refused" in str(e):
        return "附件未被接收：请上传 PDF 或照片（按内容判断类型），且不超过大小限制。"
    if isinstance(e, ConfigError) and e.field == "concerns_unit":
        return "检举控告请填写被反映人或涉及单位。"
    if isinstance(e, ConfigError) and e.field.split(".")[-1].split("[")[0] in FIELDS:
        return f"请核对：{FIELDS[e.field.split('.')[-1].split('[')[0]]}"
    return "提交未成功，请核对填写的内容后重试。"


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


def _wait(e: TooMany) -> str:
    return f"操作过于频繁，请 {e.minutes} 分钟后再试。"


def _too_many(request: Request, e: TooMany, template: str, **context: object) -> Response:
    response = _page(request, template, 429, error=_wait(e), **context)
    response.headers["Retry-After"] = str(e.wait)
    return response


@router.get("", response_class=HTMLResponse)
def home(request: Request) -> Response:
    return _closed(request) or _page(request, "door_home.html")


@router.post("/code", response_class=HTMLResponse)
async def code(request: Request, phone: Annotated[str, Form()] = "",
               pre: Annotated[str, Form()] = "") -> Response:
    if (closed := _closed(request) or _from_here(request, pre)) is not None:
        return closed
    app = request.app.state.petitions
    try:
        await run_in_threadpool(send_code, app, phone, _client(request))
    except TooMany as e:
        return _too_many(request, e, "door_home.html", phone=phone)
    except BadNumber as e:
        return _page(request, "door_home.html", 422, error=str(e), phone=phone)
    except PetitionError:  # the provider refused or failed: said plainly, nothing leaks
        return _page(request, "door_home.html", 503, phone=phone,
                     error="短信暂时无法发送，请稍后再试。")
    return _page(request, "door_code.html", phone=phone)


@router.post("/signin", response_class=HTMLResponse)
async def signin(request: Request, phone: Annotated[str, Form()] = "",
                 code: Annotated[str, Form()] = "", pre: Annotated[str, Form()] = ""
                 ) -> Response:
    if (closed := _closed(request) or _from_here(request, pre)) is not None:
        return closed
    app = request.app.state.petitions
    try:
        number = await run_in_threadpool(sign_in, app, phone, code, _client(request))
    except TooMany as e:
        return _too_many(request, e, "door_code.html", phone=phone)
    except (WrongCode, BadNumber):
        return _page(request, "door_code.html", 401, phone=phone,
                     error="验证码不正确或已过期，请重新输入或重新获取。")
    response = RedirectResponse("/submit/mine", status_code=303)
    return _keep(request, response, number, secrets.token_urlsafe(24))


@router.post("/signout")
def signout(request: Request) -> Response:
    response = RedirectResponse("/submit", status_code=303)
    response.delete_cookie(COOKIE, path="/submit")
    return response


def _signed_in(request: Request, csrf: str | None = None) -> str | None:
    """The verified number, if signed in (and ``csrf`` is the session's, when given)."""
    session = _session(request)
    if session is None or (csrf is not None and not secrets.compare_digest(csrf, session[1])):
        return None
    return session[0]


def _form_page(request: Request, status_code: int = 200, **context: object) -> Response:
    app = request.app.state.petitions
    units = sorted(((u.id, u.name) for u in app.office.org.units.values()),
                   key=lambda u: u[1])
    return _page(request, "door_new.html", status_code, categories=CATEGORIES, units=units,
                 values=context.pop("values", {}), **context)


@router.get("/new", response_class=HTMLResponse)
def new(request: Request) -> Response:
    if (closed := _closed(request)) is not None:
        return closed
    if _signed_in(request) is None:
        return RedirectResponse("/submit", status_code=303)
    return _form_page(request)


@router.post("/new", response_class=HTMLResponse)
async def submit(request: Request, background: BackgroundTasks) -> Response:
    if (closed := _closed(request)) is not None:
        return closed
    app = request.app.state.petitions
    cap = app.office.online.max_mb * MB * door.MAX_FILES + web_files.MARGIN
    refused = web_files.too_large(request, cap)
    if refused is not None:
        return _form_page(request, refused[0], error=refused[1])
    raw = await request.form()
    try:
        form = {k: str(v) for k, v in raw.items() if k != "files"}
        number = _signed_in(request, form.get("csrf", ""))
        if number is None:
            return RedirectResponse("/submit", status_code=303)
        uploads = [door.Upload(u.filename or "", u.file)
                   for u in web_files.uploads_of(raw, "files")]
        try:
            case, done = await run_in_threadpool(door.submit, app, number, form, uploads)
        except PetitionError as e:
            return _form_page(request, 422, error=refusal(e), values=form)
    finally:
        await raw.close()
    # After the page; if Prefect is down, the reconciler starts it once it is back.
    background.add_task(runs(request).start, app, case.id)
    return _page(request, "door_done.html", done=done)


@router.get("/mine", response_class=HTMLResponse)
async def mine(request: Request) -> Response:
    if (closed := _closed(request)) is not None:
        return closed
    number = _signed_in(request)
    if number is None:
        return RedirectResponse("/submit", status_code=303)
    found = await run_in_threadpool(door.my_cases, request.app.state.petitions, number)
    return _page(request, "door_mine.html", cases=found, ratings=RATINGS,
                 message=request.query_params.get("done", ""))


@router.post("/mine/{ref}/act", response_class=HTMLResponse)
async def own_act(request: Request, ref: str, act: Annotated[str, Form()] = "",
              rating: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "",
              csrf: Annotated[str, Form()] = "") -> Response:
    if (closed := _closed(request)) is not None:
        return closed
    number = _signed_in(request, csrf)
    if number is None:
        return RedirectResponse("/submit", status_code=303)
    app = request.app.state.petitions
    try:
        await run_in_threadpool(door.take, app, runs(request), number, ref, act,
                                rating=rating, reason=reason)
    except CaseNotFound:
        return _page(request, "door_mine.html", 404, cases=[], ratings=RATINGS,
                     error="未找到该事项。")
    except PetitionError as e:  # out of its window, or not this stage's: said plainly
        found = await run_in_threadpool(door.my_cases, app, number)
        said = str(e) if isinstance(e, door.Refused) else "已超出办理期限，或当前环节不能办理此项"
        return _page(request, "door_mine.html", 422, cases=found, ratings=RATINGS,
                     error=f"未能办理：{said}。")
    return RedirectResponse("/submit/mine?done=1", status_code=303)


@router.get("/mine/{ref}/answer.pdf")
async def answer(request: Request, ref: str) -> Response:
    number = _signed_in(request)
    if number is None or (_closed(request)) is not None:
        return RedirectResponse("/submit", status_code=303)
    try:
        title, pdf = await run_in_threadpool(door.decision_pdf, request.app.state.petitions,
                                             number, ref)
    except CaseNotFound:
        return _page(request, "door_mine.html", 404, cases=[], ratings=RATINGS,
                     error="未找到该事项。")
    name = urllib.parse.quote(f"{title}.pdf")
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f"inline; filename*=UTF-8''{name}"})
