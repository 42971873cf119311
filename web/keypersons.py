"""重点人员 in the workplace: the register (``/keypersons``), one person's page with its
forms (约访/下访, 稳控状态, 越级上访, 劝返, 息访 with the signed undertaking), and the
undertaking itself. The same use cases as ``petitions keyperson``; a key person the viewer
may not see is "没有这位重点人员", as for one that does not exist."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from domain.errors import KeyPersonNotFound, PetitionError
from domain.keypersons import ContactKind, Stability, parse_choice
from services import keyperson_views as views
from services import keypersons
from web.auth import Person, check_csrf
from web.context import one_line, petitions, render

router = APIRouter(prefix="/keypersons")
NOT_FOUND = "没有这位重点人员"
STATES = [(s.value, s.label) for s in Stability if s is not Stability.SETTLED]
CONTACTS = [(k.value, k.label) for k in ContactKind]


@router.get("", response_class=HTMLResponse)
def register_page(request: Request, me: Person) -> Response:
    rows = views.key_person_states(petitions(request), me)
    return render(request, "keypersons.html", rows=rows)


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
    raise PetitionError(f"unknown form {what!r}")


@router.post("/{kp_id}/{what}")
async def act(request: Request, kp_id: str, what: str, me: Person) -> Response:
    form = await request.form()
    try:
        check_csrf(request, str(form.get("csrf", "")))
        fields = {k: str(v).strip() for k, v in form.items() if isinstance(v, str)}
        upload = form.get("undertaking")
        text = await run_in_threadpool(
            _do, petitions(request), me, kp_id, what, fields,
            upload if isinstance(upload, UploadFile) else None)
    except KeyPersonNotFound:
        return render(request, "error.html", status_code=404, message=NOT_FOUND)
    except PetitionError as e:
        request.session["flash"] = {"error": True, "text": one_line(e)}
    else:
        request.session["flash"] = {"error": False, "text": text}
    finally:
        await form.close()  # an upload's spooled file, now
    return RedirectResponse(f"/keypersons/{kp_id}", status_code=303)


@router.get("/{kp_id}/undertaking")
def undertaking(request: Request, kp_id: str, me: Person) -> Response:
    try:
        file, data = keypersons.undertaking(petitions(request), me, kp_id)
    except KeyPersonNotFound:
        return render(request, "error.html", status_code=404, message=NOT_FOUND)
    except PetitionError as e:
        return render(request, "error.html", status_code=404, message=one_line(e))
    return Response(data, media_type=file.media_type, headers={
        "Content-Disposition": "attachment; filename=undertaking",
        "X-Content-Type-Options": "nosniff"})
