"""``petitions keyperson``: the register of key persons (重点人员, 四包一) — add, list, show,
contact (约访/下访), state, settle (息访, with the signed undertaking), over-the-head (越级上访)
and back (劝返). Each calls the same use case as the workplace's pages."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

from cli.common import Json, emit, out, reports_errors, say, table
from cli.home import app as make_app
from domain.keypersons import ContactKind, Holders, Stability, parse_choice
from domain.petition import Petitioner
from services import keyperson_views as views
from services import keypersons

keyperson_app = typer.Typer(help="Key persons (重点人员, 四包一): the register, contacts, "
                            "state, settling, over-the-head petitions.", no_args_is_help=True)

Actor = Annotated[str, typer.Option("--actor", "-a", help="Who acts (a person id).")]
Id = Annotated[str, typer.Argument(help="The key person's id (petitions keyperson list).")]
Day = Annotated[str | None, typer.Option("--on", help="A local date YYYY-MM-DD (default: "
                                         "today).")]
Opt = Annotated[str, typer.Option()]


def register(app: typer.Typer) -> None:
    app.add_typer(keyperson_app, name="keyperson")


@keyperson_app.command("add")
@reports_errors
def add_cmd(actor: Actor, leader: Opt, unit_head: Opt, responder: Opt,
            contact_name: Annotated[str, typer.Option(help="The family or community "
                                                      "contact (a name).")],
            contact_phone: Opt, reason: Opt,
            case: Annotated[str | None, typer.Option(help="A case of theirs: the person is "
                                                     "its petitioner.")] = None,
            name: Annotated[str | None, typer.Option(help="By hand: the name.")] = None,
            phone: Annotated[str | None, typer.Option()] = None,
            id_number: Annotated[str | None, typer.Option()] = None,
            state: Annotated[str, typer.Option(help="stable | watch | unstable")] = "watch"
            ) -> None:
    """Name a key person, held under 四包一 (a leader, a unit head, a responder, a family or
    community contact)."""
    a = make_app()
    who = None if case else Petitioner(name or "", id_number=id_number, phone=phone)
    kp = keypersons.add(a, actor, holders=Holders(leader, unit_head, responder, contact_name,
                                                  contact_phone), reason=reason,
                        state=parse_choice(Stability, state, "keyperson", "the state"),
                        from_case=case, petitioner=who)
    say(f"key person {kp.id}: {kp.petitioner.name}（{kp.state.label}）")


@keyperson_app.command("holders")
@reports_errors
def holders_cmd(kp_id: Id, actor: Actor, leader: Opt, unit_head: Opt, responder: Opt,
                contact_name: Annotated[str, typer.Option(help="The family or community "
                                                          "contact (a name).")],
                contact_phone: Opt, reason: Opt) -> None:
    """Reassign 四包一 (the petition office), e.g. when told a holder may not hold them."""
    kp = keypersons.reassign(make_app(), actor, kp_id, Holders(
        leader, unit_head, responder, contact_name, contact_phone), reason)
    say(f"key person {kp.id}: held by {', '.join(kp.holders.people)}, "
        f"{kp.holders.contact_name}")


@keyperson_app.command("list")
@reports_errors
def list_cmd(actor: Actor, as_json: Json = False) -> None:
    """The key persons you may see, the most watched first."""
    rows = [dataclasses.asdict(r) for r in views.key_person_states(make_app(), actor)]
    if as_json:
        emit(rows)
        return
    if not rows:
        say("no key person you may see")
        return
    out.print(table(rows, ["id", "name", "state_label", "leader", "unit_head", "responder",
                           "contact_name", "open_matters", "last_contact", "over_the_head",
                           "settled_on"],
                    headers=["id", "姓名", "稳控状态", "包案领导", "单位负责人", "责任人",
                             "亲属/社区", "在办", "最近约访下访", "越级上访", "息访"]))


@keyperson_app.command("show")
@reports_errors
def show_cmd(kp_id: Id, actor: Actor, as_json: Json = False) -> None:
    """One key person: 四包一, their matters you may see, the journal."""
    p = views.page(make_app(), actor, kp_id)
    if as_json:
        emit(dataclasses.asdict(p))
        return
    r = p.row
    say(f"{r.name}（{r.state_label}）  电话 {p.phone or '—'}  身份证 {p.id_number or '—'}")
    say(f"四包一：包案领导 {r.leader}，单位负责人 {r.unit_head}，责任人 {r.responder}，"
        f"亲属/社区 {r.contact_name} {p.contact_phone}")
    say(f"列为重点人员：{p.reason}" + (f"；{r.settled_on}息访，承诺书 {p.undertaking}"
                                  if r.settled_on else ""))
    if p.matters:
        out.print(table(p.matters, ["ref", "received", "subject", "stage_label"],
                        headers=["编号", "收到", "事由", "环节"], title="信访事项"))
    out.print(table([dataclasses.asdict(j) for j in p.journal], ["at", "by", "what", "text"],
                    headers=["时间", "人员", "事项", "说明"], title="记录"))


@keyperson_app.command("contact")
@reports_errors
def contact_cmd(kp_id: Id, actor: Actor,
                kind: Annotated[str, typer.Option(help="invited (约访) | visited (下访)")],
                place: Opt, agreed: Annotated[str, typer.Option(help="What was agreed.")],
                on: Day = None,
                by: Annotated[str | None, typer.Option(help="Who met them (default: the "
                                                       "actor).")] = None) -> None:
    """Record a contact: 约访 (they came) or 下访 (a leader went)."""
    kp = keypersons.contact(make_app(), actor, kp_id,
                            kind=parse_choice(ContactKind, kind, kp_id, "the kind"),
                            place=place, agreed=agreed, on=on, by=by)
    say(f"recorded: {kp.petitioner.name}")


@keyperson_app.command("state")
@reports_errors
def state_cmd(kp_id: Id, actor: Actor,
              state: Annotated[str, typer.Argument(help="stable | watch | unstable")],
              reason: Opt) -> None:
    """Change the stability state (稳定/关注/不稳定), saying why."""
    kp = keypersons.change_state(make_app(), actor, kp_id,
                                 parse_choice(Stability, state, kp_id, "the state"), reason)
    say(f"{kp.petitioner.name}: {kp.state.label}")


@keyperson_app.command("settle")
@reports_errors
def settle_cmd(kp_id: Id, actor: Actor,
               undertaking: Annotated[Path, typer.Option(help="The signed undertaking "
                                                         "(息访承诺书): a scan or PDF.")],
               on: Day = None, note: Annotated[str, typer.Option()] = "") -> None:
    """Record the settling (息访) with the signed undertaking, kept with the key person."""
    if not undertaking.is_file():
        raise typer.BadParameter(f"no file {undertaking}")
    with undertaking.open("rb") as f:
        kp = keypersons.settle(make_app(), actor, kp_id, undertaking=f, name=undertaking.name,
                               on=on, note=note)
    say(f"{kp.petitioner.name}: 息访 {kp.settled_on}")


@keyperson_app.command("over-the-head")
@reports_errors
def over_the_head_cmd(kp_id: Id, actor: Actor,
                      reported_by: Annotated[str, typer.Option(help="Who reported it, e.g. "
                                                               "省信访局.")],
                      place: Opt, on: Day = None,
                      note: Annotated[str, typer.Option()] = "") -> None:
    """Record an over-the-head petition (越级上访) a higher level reported."""
    kp = keypersons.over_the_head(make_app(), actor, kp_id, reported_by=reported_by,
                                  place=place, on=on, note=note)
    say(f"recorded: {kp.petitioner.name} 越级上访")


@keyperson_app.command("back")
@reports_errors
def back_cmd(kp_id: Id, actor: Actor, on: Day = None,
             by: Annotated[str | None, typer.Option(help="Who brought them back (default: "
                                                    "the actor).")] = None,
             note: Annotated[str, typer.Option()] = "") -> None:
    """Record the bringing back (劝返) from an over-the-head petition."""
    kp = keypersons.brought_back(make_app(), actor, kp_id, by=by, on=on, note=note)
    say(f"recorded: {kp.petitioner.name} 劝返")
