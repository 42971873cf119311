"""The demo's office work beside the cases (issue 29): the wage complainant who came back is
named a key person (重点人员) under 四包一 and invited to talk (约访), and the quarterly risk
review (不稳定因素分析排查例会) is held, its measure reminded by the sweeper like any
deadline. Each step calls the same use case as the CLI and the workplace."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from rich.console import Console

from domain.keypersons import ContactKind, Holders
from domain.quarters import Quarter
from domain.review import MeasureInput
from services import keypersons, review
from services.bootstrap import App

CLERK = "qian.hui"
KEY_PERSON: dict[str, str] = {}  # the demo's key person's id, once named
MEASURES: dict[str, str] = {}    # the review's measure's id, once recorded


def name_key_person(app: App, refs: Mapping[str, str], console: Console) -> None:
    """The wage complainant came back in person: the office names him a key person, held by
    the mine's leader in charge, the unit's head, its first responder and his wife."""
    with app.uow() as uow:
        case = uow.cases.get(refs["wage"], lock=False)
    unit = app.office.org.units[str(case.unit)]
    kp = keypersons.add(app, CLERK, holders=Holders(
        leader=str(unit.leader), unit_head=str(unit.head), responder=str(case.responder),
        contact_name="王秀英（妻子）", contact_phone="13800005555"),
        reason="工资问题两次信访（来信、来访），情绪激动", from_case=case.id)
    KEY_PERSON["wage"] = kp.id
    held = "、".join(app.office.org.people[p].name for p in kp.holders.people)
    console.print(f"  重点人员 {kp.petitioner.name}：四包一 {held}、王秀英（妻子）",
                  highlight=False, style="cyan")


def invite_key_person(app: App, refs: Mapping[str, str], console: Console) -> None:
    """约访: the leader in charge talks with him; what was agreed is recorded."""
    kp_id = KEY_PERSON["wage"]
    with app.uow() as uow:
        leader = keypersons.get(app, CLERK, kp_id, uow).holders.leader
    keypersons.contact(app, leader, kp_id, kind=ContactKind.INVITED, place="矿信访接待室",
                       agreed="同意等待复查结果，有诉求到矿信访办反映，不越级上访")
    console.print(f"  约访：{app.office.org.people[leader].name}与重点人员面谈，达成约定",
                  highlight=False, style="cyan")


def hold_review(app: App, refs: Mapping[str, str], console: Console) -> None:
    """每季不稳定因素分析排查例会: the leader in charge chairs the third quarter's review; one
    measure, owned by the head of production, is due in three weeks."""
    org = app.office.org
    chair = str(org.units["production"].leader)
    owner = str(org.units["production"].head)
    meeting = review.record_review(
        app, quarter=Quarter(2026, 3), actor="li.ming", chair=chair,
        attendees=["li.ming", owner, str(org.units["hr"].head)],
        issues=["家属区房屋开裂集体访（省信访局挂牌督办）", "职工工资发放重复信访"],
        measures=[MeasureInput("排查家属区12至15号楼采动影响，制定维修和临时安置预案", owner,
                               dt.date(2026, 10, 20))])
    MEASURES["survey"] = meeting.measures[0].id
    console.print(f"  排查例会 2026年第三季度：{org.people[chair].name}主持；措施1项，"
                  f"{org.people[owner].name}负责，2026-10-20前完成", highlight=False, style="cyan")


def measure_done(app: App, refs: Mapping[str, str], console: Console) -> None:
    """Reminded three days before, the owner reports the measure done."""
    with app.uow() as uow:
        found = uow.reviews.measure(MEASURES["survey"])
    assert found is not None
    done = review.measure_done(app, MEASURES["survey"], by=found[1].owner,
                               note="排查完毕，预案已报矿长办公会")
    console.print(f"  例会措施完成：{app.office.org.people[done.owner].name}"
                  f"（{done.state(app.clock.now()).label}）", highlight=False, style="cyan")


STEPS: dict[str, Callable[[App, Mapping[str, str], Console], None]] = {
    "key_person": name_key_person,
    "invite": invite_key_person,
    "review": hold_review,
    "measure_done": measure_done,
}
