"""Shared fixtures: the sample office from deploy/config, built without touching files in
unit tests (the data is parsed from the YAML once per session)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pendulum
import pytest

from domain.calendar import WorkingCalendar
from domain.case import Case, CaseRules
from domain.petition import Category, Channel, Petition, Petitioner
from domain.policies import default_registry
from services.config import Office, load_office

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_OFFICE = ROOT / "deploy" / "config"


@pytest.fixture(scope="session")
def office() -> Office:
    return load_office(SAMPLE_OFFICE)


@pytest.fixture(scope="session")
def calendar() -> WorkingCalendar:
    return WorkingCalendar()


@pytest.fixture(scope="session")
def rules(office: Office) -> CaseRules:
    return CaseRules(default_registry().get("cn-2022"), office.calendar, office.org)


def at(text: str) -> pendulum.DateTime:
    """A local (Asia/Shanghai) time as a UTC instant: at('2026-03-02 09:00')."""
    return pendulum.parse(text, tz="Asia/Shanghai").in_timezone("UTC")  # type: ignore[union-attr]


def wage_petition(received: str = "2026-03-02 09:00", **changes: object) -> Petition:
    fields: dict[str, object] = dict(
        petitioner=Petitioner("刘建军", id_number="142601198001011234", phone="13812341234"),
        channel=Channel.LETTER, category=Category.COMPLAINT,
        subject="9月、10月工资未足额发放", content="请求核查补发工资",
        received_at=at(received), concerns_unit="mining1")
    fields.update(changes)
    return Petition(**fields)  # type: ignore[arg-type]


def new_case(office: Office, rules: CaseRules, petition: Petition | None = None,
             now: pendulum.DateTime | None = None, workload: dict[str, int] | None = None,
             case_id: str = "c1") -> Case:
    """A registered and assigned case, routed by the sample office's rules."""
    from domain.routing import route

    petition = petition or wage_petition()
    now = now or petition.received_at
    case = Case.register(case_id=case_id, registration_no=f"XF-{case_id}", petition=petition,
                         policy=rules.policy, actor="qian.hui", now=now)
    decision = route(petition, office.routing, office.org, workload or {})
    case.assign(decision, actor="qian.hui", now=now, rules=rules)
    return case


WAGE = json.loads((SAMPLE_OFFICE / "samples" / "wage-complaint.json").read_text())


def events_of(app: Any, case_id: str) -> list[Any]:
    """A case's audit rows, through the app's unit of work."""
    with app.uow() as uow:
        return list(uow.events_of(case_id))


def in_handling(app: Any) -> str:
    """The sample wage complaint registered, routed, acknowledged and accepted by lin.na
    through the use cases; its case id."""
    from services import cases as s

    case = s.register(app, WAGE, registration_no="XF-1", actor="qian.hui")
    s.route_and_assign(app, case.id, actor="intake")
    s.act(app, case.id, s.ActRequest(s.Act.ACK, "lin.na"))
    s.act(app, case.id, s.ActRequest(s.Act.ACCEPT, "lin.na", reason="受理"))
    return case.id


def wait_for(probe: Any, timeout: float, what: str, every: float = 0.5) -> Any:
    """Poll ``probe`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def post_json(url: str, body: dict[str, Any], timeout: float = 30) -> Any:
    """POST a JSON body to a Prefect API path; the decoded answer (None when empty). A 503
    (a busy server's SQLite) is retried, as Prefect's own client does."""
    req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    for attempt in range(6):
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                text = r.read()
                return json.loads(text) if text else None
        except urllib.error.HTTPError as e:
            if e.code != 503 or attempt == 5:
                raise
            e.close()
            time.sleep(1 + attempt)
    return None


@pytest.fixture
def memory_app(office: Office, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The app on the in-memory unit of work, with a fixed clock (Friday 2026-11-20 11:00
    local): the use cases without a database, in milliseconds."""
    from services.bootstrap import App
    from services.clock import FixedClock
    from services.settings import Settings
    from storage.memory import MemoryStore

    store = MemoryStore()
    return App(Settings(home=tmp_path, config_dir=SAMPLE_OFFICE), office,
               FixedClock(pendulum.datetime(2026, 11, 20, 3, 0)), store.uow)
