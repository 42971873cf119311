"""The workplace's search (检索) and the petitioner's history (信访人档案) pages, and the
intake's "来过 N 次": the same use cases as the API and the CLI (``services/search.py``,
``services/history.py``), showing only what the person may see. A history's address is
one of the person's cases (its id), never a phone or ID number."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from domain.errors import CaseNotFound, PetitionError
from domain.petition import Petitioner
from services import history, search
from web.auth import Person, check_csrf
from web.context import one_line, petitions, render
from web.pages import _intake_form

router = APIRouter()


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, me: Person, q: str = "", after: str | None = None
                ) -> Response:
    app = petitions(request)
    if not q.strip():
        return render(request, "search.html", q="", rows=[], more=False, after=None,
                      error="")
    try:
        found = search.search(app, me, q, after=after)
    except PetitionError as e:
        return render(request, "search.html", status_code=422, q=q, rows=[], more=False,
                      after=None, error=one_line(e))
    rows = [search.hit_record(app, h, found.query) for h in found.hits]
    return render(request, "search.html", q=q, rows=rows, more=found.more,
                  after=found.after, error="", paged=after is not None)


@router.get("/people/{case_id}", response_class=HTMLResponse)
def person_page(request: Request, case_id: str, me: Person) -> Response:
    app = petitions(request)
    try:
        h = history.petitioner_history(app, me, case_id)
    except CaseNotFound:
        return render(request, "error.html", status_code=404, message="没有这位信访人的档案")
    return render(request, "person.html", h=h, items=history.history_record(app, h)["items"])


@router.post("/intake/visits", response_class=HTMLResponse)
async def intake_visits(request: Request, me: Person) -> Response:
    """The intake form again with "来过 N 次" for the petitioner typed so far (the form's
    second button: no script needed)."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    check_csrf(request, form.get("csrf", ""))
    app = petitions(request)
    name = form.get("name", "").strip()
    if me not in app.office.org.office_staff or not name:
        return _intake_form(request, me, form, "" if name else "请先填写信访人姓名")
    who = Petitioner(name, form.get("id_number", "").strip() or None,
                     form.get("phone", "").strip() or None)
    n, latest = await run_in_threadpool(history.visits, app, me, who)
    return _intake_form(request, me, form, "", visits=(n, latest.id if latest else None))
