"""Search and the petitioner's history through the workplace and the API (TestClient, the
SQLite database): the clerk finds a letter by phone and by words of its content and opens
the petitioner's history, sees "来过 N 次" while registering; the accused get the page a
query matching nothing gets, and the same 404 as for a case that does not exist."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pendulum
import pytest

from services import cases, users
from services.bootstrap import sql_app
from services.clock import FixedClock
from services.settings import Settings
from storage.db import make_engine
from storage.migrate import upgrade
from tests.conftest import SAMPLE_OFFICE, WAGE
from tests.integration.test_search import ACCUSATION
from tests.integration.test_web import PASSWORD, RecordingRuns, csrf_of, login
from web.main import create_app


@pytest.fixture
def site(office: Any, tmp_path: Path) -> Iterator[tuple[Any, RecordingRuns, Any]]:
    """The workplace on a fresh SQLite database, a fixed clock, passwords set."""
    engine = make_engine(f"sqlite:///{tmp_path / 'petitions.db'}")
    upgrade(engine)
    settings = Settings(home=tmp_path, config_dir=SAMPLE_OFFICE)
    app = sql_app(settings, office, FixedClock(pendulum.datetime(2026, 11, 20, 3, 0)), engine)
    for who in ("qian.hui", "zhang.hua"):
        users.set_password(app, who, PASSWORD, actor="test")
    runs = RecordingRuns()
    yield app, runs, create_app(app, runs)
    engine.dispose()


def results(page: str) -> str:
    """The part of a search page that depends on the query (the box echoes it)."""
    found = re.search(r'<table id="search-results">.*?</table>|<p class="empty" id="search-'
                      r'empty">.*?</p>', page, re.S)
    assert found, page
    return found.group(0)


def test_the_clerk_finds_a_letter_by_phone_and_words_and_opens_the_history(site: Any) -> None:
    _, _, web = site
    c = login(web, "qian.hui")
    form = {"csrf": csrf_of(c.get("/intake").text), "name": "刘建军",
            "phone": "13812341234", "channel": "letter", "category": "complaint",
            "subject": WAGE["subject"], "content": WAGE["content"]}
    first = c.get("/search?q=13812341234")
    assert "没有找到相符的信访件" in first.text  # nothing yet
    done = c.post("/intake", data=form)
    assert done.status_code == 200 and "首次来访" in done.text
    ref = re.search(r'id="new-ref">([^<]+)<', done.text).group(1)  # type: ignore[union-attr]
    for q in ("13812341234", "工资 补发", "刘建军", ref):
        page = c.get("/search", params={"q": q})
        assert page.status_code == 200 and f">{ref}</a>" in page.text, q
        assert "138****1234" in page.text and "13812341234" not in results(page.text)
    person = re.search(r'href="(/people/[^"]+)"', results(c.get(
        "/search?q=13812341234").text)).group(1)  # type: ignore[union-attr]
    assert "1381234" not in person
    history = c.get(person)
    assert history.status_code == 200 and "来过 1 次" in history.text
    assert "来信 1 次" in history.text and ref in history.text
    again = c.post("/intake/visits", data={**form, "phone": "138 1234 1234"})
    assert again.status_code == 200 and "来过 1 次" in again.text
    assert 'value="138 1234 1234"' in again.text  # the form keeps what was typed
    second = c.post("/intake", data={**form, "channel": "visit"})
    assert "此前来过 1 次" in second.text


def test_the_accused_find_nothing_and_are_told_nothing_exists(site: Any) -> None:
    app, _, web = site
    case = cases.register(app, ACCUSATION, registration_no="XF-A-1", actor="qian.hui")
    cases.route_and_assign(app, case.id, actor="intake")
    accused = login(web, "zhang.hua")
    nothing = results(accused.get("/search?q=不存在的内容词").text)
    for q in ("XF-A-1", "截留奖金", "赵秀英", "13700001111", "XF"):
        assert results(accused.get("/search", params={"q": q}).text) == nothing, q
    missing = accused.get("/people/p-000000000000")
    hidden = accused.get(f"/people/{case.id}")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.text == missing.text
    clerk = login(web, "qian.hui")
    assert "XF-A-1" not in results(clerk.get("/search?q=截留奖金").text)
    assert ">XF-A-1</a>" in results(clerk.get("/search?q=XF-A-1").text)
    assert clerk.get(f"/people/{case.id}").status_code == 404  # an outline: no accuser


def test_the_api_searches_as_the_token_s_person(site: Any) -> None:
    app, _, web = site
    case = cases.register(app, WAGE, registration_no="XF-W-1", actor="qian.hui")
    cases.route_and_assign(app, case.id, actor="intake")
    hidden = cases.register(app, ACCUSATION, registration_no="XF-A-2", actor="qian.hui")
    cases.route_and_assign(app, hidden.id, actor="intake")
    c = login(web, "qian.hui")

    def bearer(who: str) -> dict[str, str]:
        token = users.create_token(app, f"t-{who.replace('.', '-')}", who, actor="test")
        return {"Authorization": f"Bearer {token}"}

    clerk, accused = bearer("qian.hui"), bearer("zhang.hua")
    found = c.get("/api/v1/cases", params={"q": "138 1234 1234"}, headers=clerk).json()
    assert [x["registration_no"] for x in found["cases"]] == ["XF-W-1"]
    hit = found["cases"][0]
    assert hit["phone"] == "138****1234" and hit["stage"] and hit["stage_label"]
    assert hit["channel"] == "letter" and hit["channel_label"] == "来信"
    assert found["more"] is False and "total" not in found
    empty = c.get("/api/v1/cases", params={"q": "没有的词语"}, headers=accused).json()
    for q in ("XF-A-2", "截留奖金", "赵秀英"):
        got = c.get("/api/v1/cases", params={"q": q}, headers=accused).json()
        assert {**got, "q": ""} == {**empty, "q": ""}, q
    bad = c.get("/api/v1/cases", params={"q": "  "}, headers=clerk)
    assert bad.status_code == 422 and "nothing to search for" in bad.json()["detail"]
    h = c.get(f"/api/v1/cases/{case.registration_no}/petitioner-history",
              headers=clerk).json()
    assert h["cases"] == 1 and h["by_channel"] == [
        {"channel": "letter", "label": "来信", "cases": 1}]
    assert h["phone"] == "138****1234"
    for ref in (hidden.registration_no, "XF-NONE"):
        answer = c.get(f"/api/v1/cases/{ref}/petitioner-history", headers=accused)
        assert answer.status_code == 404 and "赵秀英" not in answer.text
