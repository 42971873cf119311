"""重点人员 in the workplace: the register (``/keypersons``), one person's page with its
forms (约访/下访, 稳控状态, 越级上访, 劝返, 息访 with the signed undertaking), and the
undertaking itself. The same use cases as ``petitions keyperson``; a key person the viewer
may not see is "没有这位重点人员", as for one that does not exist.

A form's refusal is shown in Chinese without internal ids: the use cases' English lines
(the CLI's) are read back through ``ERRORS`` and ``FIELDS`` here; a line none of them
reads is shown as ``UNREAD``. A form's body is bounded (``web.files.too_large``) before
it is read, and its CSRF token checked before anything is done."""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from domain.attachments import Attachment
from domain.errors import KeyPersonNotFound, PetitionError, RuleViolation
from domain.keypersons import ContactKind, Stability, parse_choice
from services import keyperson_views as views
from services import keypersons, workbooks
from web.auth import Person, check_csrf
from web.context import one_line, petitions, render
from web.exports import xlsx_response
from web.files import request_cap, too_large

router = APIRouter(prefix="/keypersons")
NOT_FOUND = "没有这位重点人员"
STATES = [(s.value, s.label) for s in Stability if s is not Stability.SETTLED]
CONTACTS = [(k.value, k.label) for k in ContactKind]
FORMS = ("contact", "state", "over_the_head", "back", "settle")
UNREAD = "未能办理，请检查填写的内容"
FIELDS = {  # the fields the use cases name, as the forms label them
    "the place": "地点", "what was agreed": "约定事项", "the reason": "原因",
    "who reported it": "通报单位", "the contact's date": "约访/下访日期", "the date": "日期",
    "the settling date": "息访日期", "the kind": "约访或下访", "the state": "稳控状态",
}
ERRORS: list[tuple[str, str]] = [  # (the use case's line, the page's), {0}: its part
    (r"(.+) is required$", "请填写{0}"),
    (r"(.+) is longer than (\d+) characters$", "{0}不能超过{1}个字"),
    (r"(.+) '.*' is not a date \(YYYY-MM-DD\)$", "{0}须为日期（年-月-日）"),
    (r"(.+?) [0-9-]+ is after today", "{0}不能晚于今天"),
    (r"(.+) '.*' is not one of: ", "请选择{0}"),
    (r"'.*' is nobody in the org chart$", "所填人员不在本单位组织架构中"),
    (r"'.*' may not manage key persons", "重点人员由信访办管理，您无权办理此项"),
    (r"no over-the-head petition", "尚未记录越级上访，无从记录劝返"),
    (r"settled already, on ([0-9-]+)$", "已于{0}息访，不能重复记录"),
    (r"settling \(息访\) is recorded", "息访须附签字的息访承诺书，在“息访”一栏记录"),
    (r"the state is (.+) already$", "稳控状态已是{0}"),
    (r"file refused: it is empty", "承诺书文件是空的"),
    (r"file refused: larger than (\S+) MB", "承诺书文件过大：超过 {0} MB"),
    (r"file refused: ", "承诺书文件未被接受：请上传签字承诺书的 PDF 或扫描图片"),
]


def chinese(e: PetitionError) -> str:
    """The refusal ``e`` as the page shows it: Chinese, no internal id."""
    if not isinstance(e, RuleViolation):  # the web's own lines are Chinese already
        text = one_line(e)
        return text if re.search(r"[\u4e00-\u9fff]", text) else UNREAD
    said = one_line(e).removeprefix(f"case {e.case_ref}: ")
    for pattern, line in ERRORS:
        m = re.match(pattern, said)
        if m:
            return line.format(*(FIELDS.get(g, g) for g in m.groups()))
    return UNREAD


@router.get("", response_class=HTMLResponse)
def register_page(request: Request, me: Person) -> Response:
    rows = views.key_person_states(petitions(request), me)
    return render(request, "keypersons.html", rows=rows)


@router.get("/register.xlsx")
async def register_export(request: Request, me: Person) -> Response:
    """The register as the page shows it, as a workbook."""
    data = await run_in_threadpool(workbooks.keyperson_workbook, petitions(request), me)
    return xlsx_response(data, "keypersons")


@router.get("/{kp_id}", response_class=HTMLResponse)
def person_page(request: Request, kp_id: str, me: Person) -> Response:
    try:
        p = views.page(petitions(request), me, kp_id)
    except KeyPersonNotFound:
        return render(request, "error.html", status_code=404, message=NOT_FOUND)
    return render(request, "keyperson.html", p=p, states=STATES, contacts=CONTACTS)


def _do(app: Any, me: str, kp_id: str, what: str, f: dict[str, str],
        upload: UploadFile | None) -> str:
    """Apply the form ``what``; the flash's text."""
    if what == "contact":
        keypersons.contact(app, me, kp_id, kind=parse_choice(
            ContactKind, f.get("kind"), kp_id, "the kind"), place=f.get("place", ""),
            agreed=f.get("agreed", ""), on=f.get("on") or None)
        return "已记录约访/下访"
    if what == "state":
        keypersons.change_state(app, me, kp_id, parse_choice(
            Stability, f.get("state"), kp_id, "the state"), f.get("reason", ""))
        return "已变更稳控状态"
    if what == "over_the_head":
        keypersons.over_the_head(app, me, kp_id, reported_by=f.get("reported_by", ""),
                                 place=f.get("place", ""), on=f.get("on") or None,
                                 note=f.get("note", ""))
        return "已记录越级上访"
    if what == "back":
        keypersons.brought_back(app, me, kp_id, on=f.get("on") or None,
                                note=f.get("note", ""))
        return "已记录劝返"
    if what == "settle":
        if upload is None or not upload.filename:
            raise PetitionError("请附上签字的息访承诺书")
        keypersons.settle(app, me, kp_id, undertaking=upload.file, name=upload.filename,
                          on=f.get("on") or None, note=f.get("note", ""))
        return "已记录息访"
    raise PetitionError("没有这项操作")


@router.post("/{kp_id}/{what}")
async def act(request: Request, kp_id: str, what: str, me: Person) -> Response:
    if what not in FORMS:
        return render(request, "error.html", status_code=404, message="没有这项操作")
    refused = too_large(request, request_cap(petitions(request)))
    if refused is not None:  # the undertaking it may carry: bounded before it is read
        return render(request, "error.html", status_code=refused[0], message=refused[1])
    form = await request.form()
    try:
        check_csrf(request, str(form.get("csrf", "")))  # before anything is done
        fields = {k: str(v).strip() for k, v in form.items() if isinstance(v, str)}
        upload = form.get("undertaking")
        text = await run_in_threadpool(
            _do, petitions(request), me, kp_id, what, fields,
            upload if isinstance(upload, UploadFile) else None)
    except KeyPersonNotFound:
        return render(request, "error.html", status_code=404, message=NOT_FOUND)
    except PetitionError as e:
        request.session["flash"] = {"error": True, "text": chinese(e)}
    else:
        request.session["flash"] = {"error": False, "text": text}
    finally:
        await form.close()  # an upload's spooled file, now
    return RedirectResponse(f"/keypersons/{kp_id}", status_code=303)


@router.get("/{kp_id}/undertaking")
def undertaking(request: Request, kp_id: str, me: Person) -> Response:
    try:
        kp, file, data = keypersons.undertaking(petitions(request), me, kp_id)
    except KeyPersonNotFound:
        return render(request, "error.html", status_code=404, message=NOT_FOUND)
    except PetitionError:
        return render(request, "error.html", status_code=404, message="尚未息访，没有息访承诺书")
    return Response(data, media_type=file.media_type, headers={
        "Content-Disposition": disposition(kp.petitioner.name, file),
        "X-Content-Type-Options": "nosniff"})


def disposition(name: str, file: Attachment) -> str:
    """``attachment`` named 息访承诺书-<姓名>.<ext> (RFC 5987 UTF-8; an ASCII fallback)."""
    ext = {"jpeg": "jpg"}.get(file.type.id, file.type.id) if file.type else "bin"
    full = f"息访承诺书-{name}.{ext}"
    return (f"attachment; filename=\"undertaking.{ext}\"; "
            f"filename*=UTF-8''{urllib.parse.quote(full)}")
