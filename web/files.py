"""A case's files (附件) in the workplace and the API: upload (multipart), download, preview,
withdraw. Each route calls ``services.attachments`` as the person (or the token's person):
whoever may see nothing of the case gets the very 404 of a case that does not exist, an
outline reader the count alone.

Files go out as ``Content-Disposition: attachment`` (the name as RFC 5987 UTF-8 and an
ASCII stand-in) with ``X-Content-Type-Options: nosniff``, so a browser neither renders nor
guesses them; only images and PDFs, whose type was judged by their content, preview inline,
framed by the case page alone (``X-Frame-Options: SAMEORIGIN``, a CSP without scripts).

An upload's size is bounded before it is read: a request without ``Content-Length`` (411)
or above the office's cap plus a form's margin (413) is refused at once; the use case
itself reads no more than the cap of what the form held.
"""

from __future__ import annotations

import urllib.parse
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from domain.attachments import Attachment, FileKind
from domain.errors import CaseNotFound, NotPermitted, PetitionError
from services import attachments
from services.attachments import FileNotInCase
from services.bootstrap import App
from services.users import Caller
from web.auth import Person, api_caller, check_csrf, session_via
from web.context import one_line, petitions, render

router = APIRouter()
api = APIRouter(prefix="/api/v1", tags=["api"])
Token = Annotated[Caller, Depends(api_caller)]
KINDS = [(k.value, k.label) for k in FileKind]
MARGIN = 1024 * 1024  # a form's other fields and its multipart framing
INTAKE_FILES = 5  # files the intake form takes at once


def request_cap(app: App, files: int = 1) -> int:
    """The largest request body an upload of ``files`` files may be: the largest cap of
    the installation's offices each, and the margin."""
    return max(o.files.max_bytes for o in app.offices.offices.values()) * files + MARGIN


def too_large(request: Request, cap: int) -> tuple[int, str] | None:
    """Why the upload is refused before reading it (status and one line), or None."""
    length = request.headers.get("content-length")
    if length is None or not length.isdigit():
        return 411, "上传须注明大小（Content-Length）"
    if int(length) > cap:
        return 413, f"上传过大：超过 {cap // 1024 // 1024} MB"
    return None


def uploads_of(form: FormData, field: str = "file") -> list[UploadFile]:
    """The files of the form's ``field`` that were chosen (a browser sends an empty part
    for a file input left empty)."""
    return [f for f in form.getlist(field) if isinstance(f, UploadFile) and f.filename]


def precheck(app: App, uploads: list[UploadFile]) -> None:
    """Refuse the intake form's files before anything is registered: too many, or one the
    office would not take (type by content, size); read back to their start after."""
    if len(uploads) > INTAKE_FILES:
        raise PetitionError(f"at most {INTAKE_FILES} files at intake; attach the rest on "
                            "the case's page")
    for u in uploads:
        attachments.judge(app.office.files, u.file, f"intake ({u.filename})")
        u.file.seek(0)


def attach_all(app: App, ref: str, uploads: list[UploadFile], who: str, via: str,
               kind: str | None) -> list[attachments.Attached]:
    return [attachments.attach(app, ref, u.file, name=u.filename or "", actor=who,
                               kind=kind, via=via) for u in uploads]


def said(done: attachments.Attached) -> str:
    """The upload's flash: the file's name only to whoever may see the case's files."""
    f = done.file
    if f is None:  # bytes the case held, in a file this outline reader may not see
        return "该文件已在附件中"
    return f"{f.name}：" + ("该文件已在附件中" if done.already else f"已作为{f.kind.label}上传")


def _disposition(how: str, name: str) -> str:
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
    return f"{how}; filename=\"{ascii_name}\"; filename*=UTF-8''{urllib.parse.quote(name)}"


def file_response(file: Attachment, data: bytes, inline: bool = False) -> Response:
    headers = {"Content-Disposition": _disposition("inline" if inline else "attachment",
                                                   file.name),
               "X-Content-Type-Options": "nosniff",
               "Content-Security-Policy": "default-src 'none'; img-src 'self'; "
                                          "object-src 'self'; plugin-types application/pdf",
               "ETag": f'"{file.sha256}"'}
    if inline:
        headers["X-Frame-Options"] = "SAMEORIGIN"  # the case page frames a PDF's preview
    return Response(data, media_type=file.media_type, headers=headers)


def _no_case(request: Request, ref: str) -> Response:
    """The case page's own answer for a case that does not exist (``pages.case_page``)."""
    return render(request, "error.html", status_code=404, message=f"没有信访件 {ref}")


def _serve(request: Request, ref: str, which: str, me: str, inline: bool) -> Response:
    app = petitions(request)
    try:
        file, data = attachments.open_file(app, ref, which, me)
    except CaseNotFound:
        return _no_case(request, ref)
    except FileNotInCase:
        return render(request, "error.html", status_code=404, message=f"{ref} 没有该附件")
    except PetitionError as e:
        return render(request, "error.html", status_code=403, message=one_line(e))
    if inline and not (file.type and file.type.preview):
        return render(request, "error.html", status_code=404, message="该附件不能预览，请下载")
    return file_response(file, data, inline)


@router.get("/cases/{ref}/files/{which}")
def download(request: Request, ref: str, which: str, me: Person) -> Response:
    return _serve(request, ref, which, me, inline=False)


@router.get("/cases/{ref}/files/{which}/preview")
def preview(request: Request, ref: str, which: str, me: Person) -> Response:
    return _serve(request, ref, which, me, inline=True)


@router.post("/cases/{ref}/files")
async def upload(request: Request, ref: str, me: Person) -> Response:
    app = petitions(request)
    refused = too_large(request, request_cap(app))
    if refused is not None:
        return render(request, "error.html", status_code=refused[0], message=refused[1])
    form = await request.form()
    try:
        check_csrf(request, str(form.get("csrf", "")))
        chosen = uploads_of(form)
        if not chosen:
            raise PetitionError("请选择要上传的文件")
        done = await run_in_threadpool(attach_all, app, ref, chosen[:1], me,
                                       session_via(request), str(form.get("kind") or ""))
    except CaseNotFound:
        return _no_case(request, ref)
    except PetitionError as e:
        request.session["flash"] = {"error": True, "text": one_line(e)}
    else:
        request.session["flash"] = {"error": False, "text": said(done[0])}
    finally:
        await form.close()
    return RedirectResponse(f"/cases/{ref}#files", status_code=303)


@router.post("/cases/{ref}/files/{which}/withdraw")
def withdraw(request: Request, ref: str, which: str, me: Person,
             csrf: Annotated[str, Form()], reason: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf)
    app = petitions(request)
    try:
        f = attachments.withdraw(app, ref, which, actor=me, reason=reason,
                                 via=session_via(request))
    except CaseNotFound:
        return _no_case(request, ref)
    except PetitionError as e:
        request.session["flash"] = {"error": True, "text": one_line(e)}
    else:
        request.session["flash"] = {"error": False, "text": f"{f.name}：已撤回（留档）"}
    return RedirectResponse(f"/cases/{ref}#files", status_code=303)


# --- the API ------------------------------------------------------------------------------

def _refused(e: PetitionError) -> HTTPException:
    if isinstance(e, CaseNotFound | FileNotInCase):
        return HTTPException(404, one_line(e))
    if isinstance(e, NotPermitted):
        return HTTPException(403, one_line(e))
    return HTTPException(422, one_line(e))


def file_record(f: Attachment, ref: str) -> dict[str, Any]:
    """A file as the API shows it: ids beside labels, never where its bytes are."""
    return {"id": f.id, "name": f.name, "kind": f.kind.value, "kind_label": f.kind.label,
            "media_type": f.media_type, "size": f.size, "sha256": f.sha256, "by": f.by,
            "at": f.at.isoformat(), "url": f"/api/v1/cases/{ref}/files/{f.id}"}


def view_record(f: attachments.FileView, ref: str) -> dict[str, Any]:
    return {"id": f.id, "name": f.name, "kind": f.kind, "kind_label": f.kind_label,
            "media_type": f.media_type, "size": f.size, "sha256": f.sha256, "by": f.by,
            "at": f.at_utc, "url": f"/api/v1/cases/{ref}/files/{f.id}"}


@api.get("/cases/{ref}/files")
def api_list(ref: str, request: Request, caller: Token) -> dict[str, Any]:
    """The case's files as the caller may see them: an outline reader gets ``count``
    and no ``files``."""
    try:
        found = attachments.listing(petitions(request), ref, caller.person)
    except PetitionError as e:
        raise _refused(e) from None
    return {"ref": found.ref, "count": found.count,
            "files": [view_record(f, found.ref) for f in found.files]}


@api.post("/cases/{ref}/files", status_code=201)
async def api_upload(ref: str, request: Request, caller: Token) -> Response:
    """Attach a file (multipart: ``file``, optional ``kind``). 201 with the file; 200
    with the file the case held already when the same bytes were sent before (``file``
    null for an outline reader, who may not see it)."""
    app = petitions(request)
    refused = too_large(request, request_cap(app))
    if refused is not None:
        raise HTTPException(*refused)
    form = await request.form()
    try:
        chosen = uploads_of(form)
        if not chosen:
            raise HTTPException(422, "no file: send it as the multipart field 'file'")
        done = (await run_in_threadpool(attach_all, app, ref, chosen[:1], caller.person,
                                        f"api:{caller.token}", str(form.get("kind") or "")))[0]
    except PetitionError as e:
        raise _refused(e) from None
    finally:
        await form.close()
    record = file_record(done.file, done.ref) if done.file is not None else None
    return JSONResponse({"file": record, "already": done.already},
                        status_code=200 if done.already else 201)


@api.get("/cases/{ref}/files/{which}")
def api_download(ref: str, which: str, request: Request, caller: Token) -> Response:
    """A file's bytes (by id or SHA-256), as an attachment."""
    try:
        file, data = attachments.open_file(petitions(request), ref, which, caller.person)
    except PetitionError as e:
        raise _refused(e) from None
    return file_response(file, data)


@api.post("/cases/{ref}/files/{which}/withdraw")
def api_withdraw(ref: str, which: str, request: Request, caller: Token,
                 body: dict[str, str]) -> dict[str, Any]:
    """Withdraw a file (``{"reason": "..."}``): hidden from the list, kept."""
    try:
        f = attachments.withdraw(petitions(request), ref, which, actor=caller.person,
                                 reason=str(body.get("reason", "")),
                                 via=f"api:{caller.token}")
    except PetitionError as e:
        raise _refused(e) from None
    return {"withdrawn": file_record(f, ref)}
