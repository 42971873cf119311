"""What an intake and an accusation's outline must not give away, found by probing the
served engine as an office insider: a retried intake handed the accused the accusation
against him; a registration number named files outside the home; the API's timeline
showed an outline's reader the accusation's subject."""

from __future__ import annotations

from typing import Any

import pytest

from domain.errors import DuplicateRegistration
from services import cases, users
from tests.conftest import WAGE
from tests.integration.test_web import ACCUSATION, client, site  # noqa: F401

AGAINST_WU = {**ACCUSATION, "subject": "检举吴磊泄露来访人信息", "accused_persons": ["wu.lei"],
              "concerns_unit": "office", "petitioner": {"name": "王某", "phone": "13800001234"}}


def _bearer(app: Any, who: str) -> dict[str, str]:
    token = users.create_token(app, f"t-{who.replace('.', '-')}", who, actor="test")
    return {"Authorization": f"Bearer {token}"}


def test_a_retried_intake_never_hands_the_accused_the_accusation(site):  # noqa: F811
    app, _, web = site
    cases.register(app, AGAINST_WU, registration_no="XF-W", actor="dong.xin")
    # The accused clerk registers a complaint of his own under that number, giving the
    # accuser as its petitioner (as a retried intake of the same petition would).
    posing = {**WAGE, "petitioner": AGAINST_WU["petitioner"]}
    with pytest.raises(DuplicateRegistration):
        cases.register(app, posing, registration_no="XF-W", actor="wu.lei")
    c = client(web)
    replay = c.post("/api/v1/intake", json={**posing, "registration_no": "XF-W"},
                    headers=_bearer(app, "wu.lei"))
    other = c.post("/api/v1/intake", json={**WAGE, "registration_no": "XF-W"},
                   headers=_bearer(app, "qian.hui"))
    assert replay.status_code == other.status_code == 422
    assert replay.json() == other.json()  # a number taken, as any other
    for hidden in ("吴磊", "discipline", "dong.xin", "王某"):
        assert hidden not in replay.text
    again = cases.register(app, AGAINST_WU, registration_no="XF-W", actor="dong.xin")
    assert again.ref == "XF-W"  # its registrar's retry still gets it back


@pytest.mark.parametrize("number", ["../../pwned", "/tmp/pwned", "XF 1", "XF-1\x00",
                                    ".hidden", "XF/1", "X" * 65])
def test_a_registration_number_that_could_name_a_path_is_refused(site, number):  # noqa: F811
    app, _, web = site
    answer = client(web).post("/api/v1/intake", json={**ACCUSATION, "registration_no": number},
                              headers=_bearer(app, "qian.hui"))
    assert answer.status_code == 422 and "registration" in answer.text, answer.text
    with app.uow() as uow:
        assert uow.all_cases() == []


def test_an_outline_reader_gets_no_subject_from_the_api_timeline(site):  # noqa: F811
    app, _, web = site
    case = cases.register(app, ACCUSATION, registration_no="XF-A", actor="qian.hui")
    cases.route_and_assign(app, case.id, actor="intake")
    timeline = client(web).get("/api/v1/cases/XF-A/timeline",
                               headers=_bearer(app, "li.ming")).json()
    assert timeline["events"] and timeline["petition"]["content"] is None
    assert "截留" not in str(timeline) and "匿名职工" not in str(timeline)


def test_an_extensions_reason_stays_with_who_sees_the_accusation_in_full(site):  # noqa: F811
    """An extension asked and approved on an accusation: its reason (the handler's, often
    quoting the evidence) never reaches an outline's reader — the API's deadlines and
    timeline, the case page's deadlines and what waits."""
    from services.cases import Act, ActRequest
    from tests.integration.test_web import login

    app, _, web = site
    case = cases.route_and_assign(
        app, cases.register(app, ACCUSATION, registration_no="XF-A", actor="qian.hui").id,
        actor="intake")
    who = str(case.responder)
    for req in (ActRequest(Act.ACK, who), ActRequest(Act.ACCEPT, who),
                ActRequest(Act.REQUEST_EXTENSION, who, days=10, reason="SECRET-举报人补证")):
        cases.act(app, case.id, req)
    head = login(web, "li.ming")  # the office's head: an accusation's outline only
    assert "SECRET" not in head.get("/cases/XF-A").text
    with app.uow() as uow:
        stored = uow.cases.get("XF-A", lock=False)
    approver = sorted(stored.extension_approvers(app.office.org))[0]
    cases.act(app, case.id, ActRequest(Act.APPROVE_EXTENSION, approver))
    api, bearer = client(web), _bearer(app, "li.ming")
    for path in ("/api/v1/cases/XF-A", "/api/v1/cases/XF-A/timeline"):
        answer = api.get(path, headers=bearer)
        assert answer.status_code == 200 and "SECRET" not in answer.text, path
    page = head.get("/cases/XF-A").text
    assert "+10日" in page and "SECRET" not in page
