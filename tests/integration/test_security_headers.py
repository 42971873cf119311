"""Every answer of the workplace carries the Content-Security-Policy (no inline script, no
other origin), and HSTS when it came over HTTPS; no template holds an inline script, an
inline style or an event-handler attribute the policy would block."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.integration.test_web import PASSWORD, csrf_of, site, wage_case  # noqa: F401
from web.headers import CSP, REPORT_CSP

TEMPLATES = Path(__file__).parents[2] / "web" / "templates"
INLINE = re.compile(r"<script(?![^>]*\bsrc=)|\sstyle\s*=|\son[a-z]+\s*=|javascript:", re.I)
SCRIPT = re.compile(r"<script|\son[a-z]+\s*=|javascript:", re.I)
OWN_POLICY = {"/supervise/report.html": REPORT_CSP,  # standalone documents: inline styles
              "/supervise/review": REPORT_CSP}


def routes_of(routes: list[Any]) -> list[APIRoute]:
    """The app's routes, those of the routers it includes too (no prefix is used)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):  # FastAPI's wrapper of an included router
            found += routes_of(route.original_router.routes)
    return found


def every_route(web: Any) -> list[tuple[str, str]]:
    """Each (method, path) of the app, its path parameters filled in with a case's."""
    found = [("GET", "/static/style.css")]
    for route in routes_of(web.routes):
        path = re.sub(r"\{ref\}", "XF-1", route.path)
        path = re.sub(r"\{[^}]+\}", "x", path)
        found += [(m, path) for m in sorted(route.methods) if m != "HEAD"]
    return found


def logged_in(web: Any, base: str) -> TestClient:
    c = TestClient(web, base_url=base, follow_redirects=False)
    c.post("/login", data={"person_id": "li.ming", "password": PASSWORD,
                           "csrf": csrf_of(c.get("/login").text)})
    return c


@pytest.mark.parametrize("base", ["http://testserver", "https://testserver"])
def test_every_route_sends_the_policy_and_hsts_only_over_https(site, base):  # noqa: F811
    app, _, web = site
    wage_case(app)
    routes = every_route(web)
    assert len(routes) > 30  # the walk found the app's routes
    for c in (TestClient(web, base_url=base, follow_redirects=False), logged_in(web, base)):
        for method, path in routes:
            answer = c.request(method, path)
            assert answer.headers.get("content-security-policy"), (method, path)
            if "/files/" not in path:  # a file's own policy: stricter (test_web_files)
                assert answer.headers["content-security-policy"] == OWN_POLICY.get(
                    path, CSP) or answer.status_code != 200, (method, path)
                assert "http" not in answer.headers["content-security-policy"]
            assert ("strict-transport-security" in answer.headers) == \
                base.startswith("https"), (method, path)


def test_the_pages_a_person_reads_hold_no_inline_script_or_style(site):  # noqa: F811
    app, _, web = site
    wage_case(app)
    c = logged_in(web, "http://testserver")
    pages = [p for m, p in every_route(web) if m == "GET" and not p.startswith("/api")]
    read = 0
    for path in pages:
        answer = c.get(path)
        if answer.headers.get("content-type", "").startswith("text/html"):
            read += 1
            banned = SCRIPT if path in OWN_POLICY else INLINE
            assert not banned.search(answer.text), (path, banned.search(answer.text))
    assert read > 8


def test_no_template_holds_an_inline_script_style_or_handler():
    templates = sorted(TEMPLATES.glob("*.html"))
    assert len(templates) > 10
    for t in templates:
        found = INLINE.search(t.read_text(encoding="utf-8"))
        assert found is None, f"{t.name}: {found.group(0) if found else ''}"
