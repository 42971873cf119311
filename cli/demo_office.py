"""The demo's office work beside the cases (issue 29): the wage complainant who came back is
named a key person (重点人员) under 四包一 and invited to talk (约访), and the quarterly risk
review (不稳定因素分析排查例会) is held, its measure reminded by the sweeper like any
deadline. Each step calls the same use case as the CLI and the workplace."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from rich.console import Console

from domain.keypersons import ContactKind, Holders
from services import keypersons
from services.bootstrap import App

CLERK = "qian.hui"
KEY_PERSON: dict[str, str] = {}  # the demo's key person's id, once named


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
    console.print(f"  重点人员 {kp.petitioner.name}: 四包一 {unit.leader} / {unit.head} / "
                  f"{case.responder} / 王秀英（妻子）", highlight=False, style="cyan")


def invite_key_person(app: App, refs: Mapping[str, str], console: Console) -> None:
    """约访: the leader in charge talks with him; what was agreed is recorded."""
    kp_id = KEY_PERSON["wage"]
    with app.uow() as uow:
        leader = keypersons.get(app, CLERK, kp_id, uow).holders.leader
    keypersons.contact(app, leader, kp_id, kind=ContactKind.INVITED, place="矿信访接待室",
                       agreed="同意等待复查结果，有诉求到矿信访办反映，不越级上访")
    console.print(f"  约访: {leader} 与重点人员面谈，达成约定", highlight=False, style="cyan")


STEPS: dict[str, Callable[[App, Mapping[str, str], Console], None]] = {
    "key_person": name_key_person,
    "invite": invite_key_person,
}
