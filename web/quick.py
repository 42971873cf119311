"""The leader's phone: from a message's link to a done act in two taps. The case page
offers each act that needs nothing typed (领导接案, 首问复命) as one large button at its top;
the button opens this confirmation page (no script: a page of its own), whose one button
posts the act to the case page's own form handler (``web.pages.act``, the same use case).
A person who may not take the act, or may not see the case, gets the case page's 404."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from domain.acts import Act
from domain.errors import CaseNotFound
from services import workplace
from web.auth import Person
from web.context import petitions, render
from web.pages import ACT_FORMS

router = APIRouter()


def quick(act: Act) -> bool:
    """Whether ``act`` needs nothing typed: one tap and a confirmation take it."""
    return not ACT_FORMS[act.value][1]


@router.get("/cases/{ref}/confirm/{act}", response_class=HTMLResponse)
def confirm(request: Request, ref: str, act: str, me: Person) -> Response:
    try:
        view = workplace.case_view(petitions(request), ref, me)
        what = Act(act)
    except (CaseNotFound, ValueError):
        return render(request, "error.html", status_code=404, message=f"没有信访件 {ref}")
    if what not in view.acts or not quick(what):
        return render(request, "error.html", status_code=404,
                      message=f"信访件 {view.ref} 当前没有您可以办理的“{what.label}”")
    return render(request, "confirm.html", case=view, act=what, button=ACT_FORMS[act][0])
