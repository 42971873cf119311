"""The public 办理进度查询 page: no login, a registration number and a query code in, the
case's stage and dates out (``services/progress.py``), nothing else. POST keeps the code out
of addresses and logs; wrong numbers and codes get one answer; too many are refused (429)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from domain.errors import CaseNotFound
from services.progress import TooManyLookups, look_up
from web.context import TEMPLATES

router = APIRouter(prefix="/progress")


def _page(request: Request, status_code: int = 200, **context: object) -> Response:
    office = request.app.state.petitions.office.name
    return TEMPLATES.TemplateResponse(request, "progress.html", {
        "office": office, "me": None, "menu": [], "csrf": "", "flash": None,
        "progress": None, "error": "", "ref": "", **context}, status_code=status_code)


@router.get("", response_class=HTMLResponse)
def progress_form(request: Request) -> Response:
    return _page(request)


@router.post("", response_class=HTMLResponse)
async def progress(request: Request, ref: Annotated[str, Form()] = "",
                   code: Annotated[str, Form()] = "") -> Response:
    client = request.client.host if request.client else "?"
    try:
        found = await run_in_threadpool(look_up, request.app.state.petitions, ref, code,
                                        client)
    except TooManyLookups:
        return _page(request, 429, ref=ref, error="查询次数过多，请 15 分钟后再试。")
    except CaseNotFound:
        return _page(request, 404, ref=ref,
                     error="未查到：请核对登记编号和查询码（见受理告知书或短信）。")
    return _page(request, progress=found, ref=ref)
