"""督查: the measures for a period (by default the one that holds data), overdue by unit and
by leader, the audit chain check, the report page and the CSV/JSON exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from domain.errors import NotPermitted, PetitionError
from services import supervision
from services.measures import measure_rows
from services.report import render_report
from web.auth import Person
from web.context import petitions, render

router = APIRouter(prefix="/supervise")
NOT_SUPERVISOR = "督查页面仅信访办与矿领导班子可见"


def _period(request: Request, me: str, start: str | None, end: str | None,
            unit: str | None) -> tuple[dt.date, dt.date, str | None]:
    app = petitions(request)
    supervision.check_supervisor(app, me)
    first, last = supervision.data_period(app) if not (start and end) else (None, None)
    try:
        a = dt.date.fromisoformat(start) if start else first
        b = dt.date.fromisoformat(end) if end else last
    except ValueError:
        raise PetitionError("dates are YYYY-MM-DD") from None
    assert a is not None and b is not None
    if a > b:
        raise PetitionError(f"the period starts ({a}) after it ends ({b})")
    return a, b, unit or None


@router.get("", response_class=HTMLResponse)
def supervise(request: Request, me: Person, start: str | None = None, end: str | None = None,
              unit: str | None = None) -> Response:
    app = petitions(request)
    try:
        a, b, u = _period(request, me, start, end, unit)
        view = supervision.overview(app, me, a, b, u)
    except NotPermitted:
        return render(request, "error.html", status_code=403,
                      message=NOT_SUPERVISOR)
    except PetitionError as e:
        return render(request, "error.html", status_code=422, message=str(e))
    return render(request, "supervise.html", view=view,
                  units=sorted(app.office.org.units.values(), key=lambda x: x.id))


@router.get("/report.html", response_class=HTMLResponse)
async def report(request: Request, me: Person, start: str | None = None,
                 end: str | None = None, unit: str | None = None) -> Response:
    try:
        a, b, u = _period(request, me, start, end, unit)
        page = await run_in_threadpool(render_report, petitions(request), a, b, u, me)
    except NotPermitted:
        return render(request, "error.html", status_code=403, message=NOT_SUPERVISOR)
    except PetitionError as e:
        return render(request, "error.html", status_code=422, message=str(e))
    return HTMLResponse(page)


def _export(rows: list[dict[str, Any]], fmt: str, name: str) -> Response:
    if fmt == "json":
        return JSONResponse(rows)
    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return Response("\ufeff" + buf.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


@router.get("/measures.{fmt}")
def measures_export(request: Request, me: Person, fmt: str, start: str | None = None,
                    end: str | None = None, unit: str | None = None) -> Response:
    if fmt not in ("csv", "json"):
        return JSONResponse({"detail": f"unknown format {fmt!r}; csv or json"}, 404)
    try:
        a, b, u = _period(request, me, start, end, unit)
        rows = measure_rows(supervision.overview(petitions(request), me, a, b, u).measures)
    except NotPermitted as e:
        return JSONResponse({"detail": str(e)}, 403)
    except PetitionError as e:
        return JSONResponse({"detail": str(e)}, 422)
    return _export(rows, fmt, f"measures-{a}-{b}")


@router.get("/overdue.{fmt}")
def overdue_export(request: Request, me: Person, fmt: str, unit: str | None = None
                   ) -> Response:
    if fmt not in ("csv", "json"):
        return JSONResponse({"detail": f"unknown format {fmt!r}; csv or json"}, 404)
    app = petitions(request)
    try:
        supervision.check_supervisor(app, me)
    except NotPermitted as e:
        return JSONResponse({"detail": str(e)}, 403)
    return _export(supervision.visible_overdue(app, me, unit or None), fmt, "overdue")
