"""Logging in and who a request acts as: sessions in signed, expiring, HttpOnly cookies
(Starlette's SessionMiddleware, itsdangerous), a CSRF token per session checked on every
form, wrong passwords throttled per account, journaled and locked (``services.login_gate``:
a guess before the account's turn is 429 with Retry-After), and API tokens."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from domain.errors import NotPermitted
from services.bootstrap import App
from services.settings import Settings
from services.users import (
    Caller,
    authenticate_token,
    end_sessions,
    log_in,
    session_epoch,
)
from storage.audit import installation_key
from web.context import petitions, render

router = APIRouter()


def session_secret(settings: Settings) -> str:
    """``PETITIONS_WEB_SECRET``, else a random key kept in ``HOME/web-secret`` (made on
    first use, readable by its owner only), so every replica of one home signs alike."""
    if settings.web_secret is not None:
        return settings.web_secret.get_secret_value()
    return installation_key(settings.home, {}, "", "web-secret").decode("utf-8")


class LoginRequired(Exception):
    """A page asked for without a login: the browser is sent to the login page."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def check_csrf(request: Request, presented: str) -> None:
    """A form's CSRF token must be this session's; anything else is refused (403)."""
    expected = request.session.get("csrf")
    if not expected or not presented or not secrets.compare_digest(str(expected), presented):
        raise HTTPException(403, "the form's CSRF token is missing or not this session's")


def person(request: Request) -> str:
    """The logged-in person of a page request (to the login page otherwise): a session
    ends with its person's logout or new password (``users.session_epoch``), even one a
    browser kept."""
    who = request.session.get("person")
    if not who or who not in petitions(request).office.org.people \
            or request.session.get("epoch") != session_epoch(petitions(request), str(who)):
        raise LoginRequired(request.url.path)
    return str(who)


def session_via(request: Request) -> str:
    """The channel a page's action is recorded under: ``web:<session>``."""
    return f"web:{request.session.get('sid', '?')}"


Person = Annotated[str, Depends(person)]


def api_caller(request: Request) -> Caller:
    """The caller of an API request, by its bearer token; 401 without a valid one."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "a bearer token is required (petitions token create)",
                            headers={"WWW-Authenticate": "Bearer"})
    try:
        caller = authenticate_token(petitions(request), token.strip())
    except NotPermitted:
        raise HTTPException(401, "the token is not valid (unknown or revoked)",
                            headers={"WWW-Authenticate": "Bearer"}) from None
    request.state.person = caller.person  # the API acts in the caller's office
    return caller


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", next=_safe(next), error="")


@router.post("/login")
async def login(request: Request, person_id: Annotated[str, Form()],
                password: Annotated[str, Form()], csrf: Annotated[str, Form()] = "",
                next: Annotated[str, Form()] = "/") -> Response:
    check_csrf(request, csrf)
    app: App = petitions(request)
    done = await run_in_threadpool(log_in, app, person_id, password, via="web")
    if done.locked:
        return render(request, "login.html", status_code=423, next=_safe(next),
                      error="该账号因连续多次密码错误已锁定，请联系信访办系统管理员解锁")
    if done.retry_after:
        wait = render(request, "login.html", status_code=429, next=_safe(next),
                      error=f"尝试过于频繁，请{done.retry_after}秒后再试")
        wait.headers["Retry-After"] = str(done.retry_after)
        return wait
    ok = done.person
    if ok is None:
        return render(request, "login.html", status_code=401, next=_safe(next),
                      error="编号或密码不正确")
    epoch = await run_in_threadpool(session_epoch, app, ok)
    request.session.clear()  # a new session for the new login (no fixation)
    request.session.update(person=ok, sid=secrets.token_hex(8), epoch=epoch,
                           csrf=secrets.token_urlsafe(24))
    return RedirectResponse(_safe(next), status_code=303)


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf)
    who = request.session.get("person")
    if who:  # every session of theirs ends, a copy a browser kept too
        end_sessions(petitions(request), str(who))
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


def _safe(target: str) -> str:
    """Only a path of this site (no open redirect)."""
    return target if target.startswith("/") and not target.startswith("//") else "/"
