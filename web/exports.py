"""导出Excel: the queue and search lists as workbooks (``services/workbooks.py``), through
the same use cases as their pages; the supervisors' exports are in ``web/supervise.py``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from domain.errors import PetitionError
from services import workbooks
from services.xlsx import XLSX_TYPE
from web.auth import Person
from web.context import one_line, petitions, render

router = APIRouter()


def xlsx_response(data: bytes, name: str) -> Response:
    """A workbook as a download (an ASCII file name: every browser keeps it)."""
    return Response(data, media_type=XLSX_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})


@router.get("/queue.xlsx")
async def queue_export(request: Request, me: Person) -> Response:
    data = await run_in_threadpool(workbooks.queue_workbook, petitions(request), me)
    return xlsx_response(data, "queue")


@router.get("/search.xlsx")
async def search_export(request: Request, me: Person, q: str = "") -> Response:
    try:
        data = await run_in_threadpool(workbooks.search_workbook, petitions(request), me, q)
    except PetitionError as e:
        return render(request, "error.html", status_code=422, message=one_line(e))
    return xlsx_response(data, "search")
