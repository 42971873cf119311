"""What every answer of the workplace tells the browser about itself: a Content-Security-
Policy that allows no inline script, no inline style and no other origin (the pages hold
none: ``tests/integration/test_security_headers.py`` reads every template), and HSTS when
the request came over HTTPS — as uvicorn sees it, which believes X-Forwarded-Proto only
from the proxies ``PETITIONS_PROXY_IPS`` names (``flows.prefect_env.start_web``). A route
that sets its own policy keeps it (a file's preview: ``web.files``, stricter still)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request
from fastapi.responses import Response

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "object-src 'none'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'")
# The printable supervision report (``services/templates/report.html``) is one document
# that stands alone when saved: its timeline bars are placed by inline styles computed per
# case. It may style itself inline; it runs no script and loads nothing from anywhere.
REPORT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
              "frame-ancestors 'self'; base-uri 'none'; form-action 'none'")
HSTS = "max-age=31536000"  # a year; no includeSubDomains: the office's other hosts are theirs


async def security_headers(request: Request,
                           call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    response = await call_next(request)
    response.headers.setdefault("Content-Security-Policy", CSP)
    if request.url.scheme == "https":
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response
