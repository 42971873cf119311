"""What every page and API route reaches: the app, the engine's runs, the templates."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from domain.permissions import supervisors
from services.bootstrap import App
from services.ports import Runs

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use): every form carries it."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(24)
    return str(token)


def one_line(e: Exception) -> str:
    """A refusal as the person is shown it: its first line."""
    return str(e).splitlines()[0] if str(e) else type(e).__name__


def petitions(request: Request) -> App:
    """The app acting in the office of whoever is logged in (or calls the API): a person
    of a mine works in their mine's office, the group's people in the group's."""
    app: App = request.app.state.petitions
    who = request.session.get("person") or getattr(request.state, "person", None)
    return app.for_person(who) if who else app


def runs(request: Request) -> Runs:
    engine: Runs = request.app.state.runs
    return engine


def render(request: Request, template: str, *, status_code: int = 200,
           **context: Any) -> HTMLResponse:
    """A page, with who is logged in, what they may reach and the session's CSRF token."""
    app = petitions(request)
    who = request.session.get("person")
    org = app.office.org
    person = org.people.get(who) if who else None
    menu = []
    if person is not None:
        menu = [("/", "我的待办")]
        if who in org.office_staff:
            menu.append(("/intake", "登记"))
        if any(who in (u.leader,) for u in org.units.values()) or who in (
                org.mine_head, org.party_secretary):
            menu.append(("/leader", "领导"))
        if who in supervisors(org):
            menu.append(("/supervise", "督查"))
        menu += [("/keypersons", "重点人员"), ("/zero-report", "每日零报告"),
                 ("/reception", "接待日"), ("/signals", "信息员")]
    return TEMPLATES.TemplateResponse(request, template, {
        "office": app.office.name, "me": person, "menu": menu, "csrf": csrf_token(request),
        "flash": request.session.pop("flash", None), **context}, status_code=status_code)
