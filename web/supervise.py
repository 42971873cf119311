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
from domain.instants import local_date
from domain.quarters import Quarter
from services import glance, monthly_return, supervision, workbooks
from services.measures import measure_rows
from services.report import render_report
from services.review_pack import build_pack, render_pack
from services.targets import target_rows
from web.auth import Person
from web.context import petitions, render
from web.exports import xlsx_response
from web.headers import REPORT_CSP

router = APIRouter(prefix="/supervise")
FORMATS = ("csv", "json", "xlsx")
NOT_SUPERVISOR = "督查页面仅信访办与矿领导班子可见"


def _period(request: Request, me: str, start: str | None, end: str | None
            ) -> tuple[dt.date | None, dt.date | None]:
    """The period asked for (None: the period that holds data); supervisors only."""
    supervision.check_supervisor(petitions(request), me)
    try:
        a = dt.date.fromisoformat(start) if start else None
        b = dt.date.fromisoformat(end) if end else None
    except ValueError:
        raise PetitionError("dates are YYYY-MM-DD") from None
    if a is not None and b is not None and a > b:
        raise PetitionError(f"the period starts ({a}) after it ends ({b})")
    return a, b


def _scoped(request: Request, me: str, office: str | None) -> Any:
    """The app over ``office`` and the offices below it: the group's office switch (only
    offices ``me`` supervises; another is refused as not found)."""
    app = petitions(request)
    if not office:
        return app
    if office not in app.tree.offices_seen_by(me):
        raise PetitionError(f"no office {office!r} to supervise")
    return app.at(office)


@router.get("", response_class=HTMLResponse)
def supervise(request: Request, me: Person, start: str | None = None, end: str | None = None,
              unit: str | None = None, office: str | None = None) -> Response:
    try:
        app = _scoped(request, me, office)
        a, b = _period(request, me, start, end)
        view = supervision.overview(app, me, a, b, unit or None)
    except NotPermitted:
        return render(request, "error.html", status_code=403,
                      message=NOT_SUPERVISOR)
    except PetitionError as e:
        return render(request, "error.html", status_code=422, message=str(e))
    seen = app.tree.offices_seen_by(me)
    targets = target_rows(app, view.end.year, None, me)  # the year's letters, so far
    return render(request, "supervise.html", view=view, targets=targets,
                  quarter=Quarter.of(view.end).key,
                  charts=glance.charts(app, me, view.start, view.end, view.unit),
                  units=sorted((u for o in app.tree.subtree(app.office.id)
                                for u in app.tree.org(o).units.values()), key=lambda x: x.id),
                  offices=[app.tree.node(o) for o in seen] if len(seen) > 1 else [],
                  office_id=app.office.id)


@router.get("/report.html", response_class=HTMLResponse)
async def report(request: Request, me: Person, start: str | None = None,
                 end: str | None = None, unit: str | None = None,
                 office: str | None = None, page: int = 1) -> Response:
    try:
        app = _scoped(request, me, office)
        a, b = _period(request, me, start, end)
        if a is None or b is None:
            first, last = await run_in_threadpool(supervision.data_period, app)
            a, b = a or first, b or last
        html = await run_in_threadpool(render_report, app, a, b, unit or None, me, page)
    except NotPermitted:
        return render(request, "error.html", status_code=403, message=NOT_SUPERVISOR)
    except PetitionError as e:
        return render(request, "error.html", status_code=422, message=str(e))
    return HTMLResponse(html, headers={"Content-Security-Policy": REPORT_CSP})


# An SVG chart styles itself inline (matplotlib writes style attributes) and loads nothing.
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"


@router.get("/charts/{key}.svg")
def chart_svg(request: Request, me: Person, key: str, start: str | None = None,
              end: str | None = None, unit: str | None = None,
              office: str | None = None) -> Response:
    """One chart of the page, as an image (``<img>``: an SVG shown so runs no script)."""
    if key not in glance.BUILDERS:
        return JSONResponse({"detail": f"no chart {key!r}"}, 404)
    try:
        app = _scoped(request, me, office)
        a, b = _period(request, me, start, end)
        if a is None or b is None:
            first, last = supervision.data_period(app)
            a, b = a or first, b or last
        svg = glance.chart(app, me, key, a, b, unit or None).svg()
    except NotPermitted as e:
        return JSONResponse({"detail": str(e)}, 403)
    except PetitionError as e:
        return JSONResponse({"detail": str(e)}, 422)
    return Response(svg, media_type="image/svg+xml",
                    headers={"Content-Security-Policy": SVG_CSP,
                             "Cache-Control": "private, no-store"})
@router.get("/review", response_class=HTMLResponse)
async def review_pack(request: Request, me: Person, quarter: str | None = None,
                      office: str | None = None) -> Response:
    """The quarterly review pack (排查例会材料) as ``me`` may see it: supervisors only."""
    try:
        app = _scoped(request, me, office)
        supervision.check_supervisor(app, me)
        q = Quarter.parse(quarter) if quarter else Quarter.of(local_date(app.clock.now()))
        pack = await run_in_threadpool(build_pack, app, q, me)
    except NotPermitted:
        return render(request, "error.html", status_code=403, message=NOT_SUPERVISOR)
    except PetitionError as e:
        return render(request, "error.html", status_code=422, message=str(e))
    return HTMLResponse(render_pack(pack, app.office.name),
                        headers={"Content-Security-Policy": REPORT_CSP})


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
    if fmt not in FORMATS:
        return JSONResponse({"detail": f"unknown format {fmt!r}; csv, json or xlsx"}, 404)
    try:
        a, b = _period(request, me, start, end)
        view = supervision.overview(petitions(request), me, a, b, unit or None)
        rows = measure_rows(view.measures)
    except NotPermitted as e:
        return JSONResponse({"detail": str(e)}, 403)
    except PetitionError as e:
        return JSONResponse({"detail": str(e)}, 422)
    name = f"measures-{view.start}-{view.end}"
    if fmt == "xlsx":
        return xlsx_response(workbooks.measures_workbook(view.measures, view.start,
                                                         view.end), name)
    return _export(rows, fmt, name)


@router.get("/overdue.{fmt}")
def overdue_export(request: Request, me: Person, fmt: str, unit: str | None = None
                   ) -> Response:
    if fmt not in FORMATS:
        return JSONResponse({"detail": f"unknown format {fmt!r}; csv, json or xlsx"}, 404)
    app = petitions(request)
    try:
        supervision.check_supervisor(app, me)
        if fmt == "xlsx":
            return xlsx_response(workbooks.overdue_workbook(app, me, unit or None), "overdue")
    except NotPermitted as e:
        return JSONResponse({"detail": str(e)}, 403)
    except PetitionError as e:
        return JSONResponse({"detail": str(e)}, 422)
    return _export(supervision.visible_overdue(app, me, unit or None), fmt, "overdue")


@router.get("/cases.xlsx")
def cases_export(request: Request, me: Person, start: str | None = None,
                 end: str | None = None, unit: str | None = None,
                 office: str | None = None) -> Response:
    """The report's cases (received in the period) that ``me`` may see."""
    try:
        app = _scoped(request, me, office)
        a, b = _period(request, me, start, end)
        if a is None or b is None:
            first, last = supervision.data_period(app)
            a, b = a or first, b or last
        data = workbooks.report_cases_workbook(app, a, b, unit or None, me)
    except NotPermitted as e:
        return JSONResponse({"detail": str(e)}, 403)
    except PetitionError as e:
        return JSONResponse({"detail": str(e)}, 422)
    return xlsx_response(data, f"cases-{a}-{b}")


@router.get("/monthly-return.xlsx")
def monthly_return_export(request: Request, me: Person, month: str = "") -> Response:
    """信访月报 for ``month`` (YYYY-MM): supervisors only."""
    try:
        app = petitions(request)
        first = monthly_return.parse_month(month)
        data = monthly_return.monthly_return(app, me, first)
    except NotPermitted as e:
        return JSONResponse({"detail": str(e)}, 403)
    except PetitionError as e:
        return JSONResponse({"detail": str(e)}, 422)
    # The name from the parsed month, never the raw parameter (a stray character would
    # break the header).
    return xlsx_response(data, f"monthly-return-{first:%Y-%m}")
