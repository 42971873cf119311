"""The office workplace: ``create_app()`` builds the FastAPI application that
``petitions serve`` runs (``uvicorn web.main:create_app --factory``). It keeps no state of
its own — sessions are signed cookies, everything else is the database — so several
replicas can stand behind the office's proxy."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from services import health
from services.bootstrap import App, bootstrap
from services.ports import Runs, RunsOnFirstUse
from services.schema import migrated
from services.settings import Settings
from web import (
    api,
    auth,
    door,
    exports,
    files,
    keypersons,
    pages,
    progress,
    quick,
    review_meeting,
    search,
    supervise,
)
from web.auth import LoginRequired, session_secret
from web.headers import security_headers


def _prefect_runs(settings: Settings) -> Runs:
    from flows.engine import PrefectRuns  # the engine, on first use only

    return PrefectRuns(settings)


def create_app(app: App | None = None, runs: Runs | None = None) -> FastAPI:
    """The web application over ``app`` (by default the installation's, from the
    environment, its schema brought up to date) and the engine's ``runs``."""
    petitions = app if app is not None else migrated(bootstrap())
    settings = petitions.settings
    web = FastAPI(title="petition-engine", version="1",
                  description="The petition office's workplace and its JSON API (/api/v1).",
                  # no Swagger UI page: FastAPI's loads its script from a CDN and runs an
                  # inline one, which the Content-Security-Policy refuses (web.headers);
                  # the OpenAPI document is for the calling system's own tools
                  docs_url=None, openapi_url="/api/openapi.json", redoc_url=None)
    web.state.petitions = petitions
    web.state.runs = runs if runs is not None else RunsOnFirstUse(
        lambda: _prefect_runs(settings))
    web.add_middleware(SessionMiddleware, secret_key=session_secret(settings),
                       session_cookie="petitions_session",
                       max_age=int(settings.web_session_hours * 3600), same_site="lax",
                       https_only=settings.web_https_only)
    web.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")),
              name="static")

    @web.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={exc.path}", status_code=303)

    @web.get("/livez", include_in_schema=False)
    def livez() -> Response:
        """The workplace itself answers (a probe that restarts it)."""
        return PlainTextResponse("ok")

    @web.get("/healthz", include_in_schema=False)
    def healthz() -> Response:
        """The engine's health: the age of the last completed deadline sweep; 503 past
        three sweep intervals (``services.health``), whatever else still answers. No
        login: nothing of what the engine did (``petitions health`` says that)."""
        h = health.health(petitions)
        return JSONResponse(h.public(), status_code=200 if h.ok else 503)

    @web.middleware("http")
    async def no_caching(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        if not request.url.path.startswith("/static"):
            response.headers.setdefault("Cache-Control", "no-store")
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    web.middleware("http")(security_headers)
    for router in (auth.router, pages.router, supervise.router, api.router, progress.router,
                   files.router, files.api, search.router, quick.router, door.router,
                   exports.router, keypersons.router, review_meeting.router):
        web.include_router(router)
    return web
