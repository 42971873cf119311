"""The actions on a case: one command per act of the domain's vocabulary (``domain.acts``),
named by ``Act.command``. Each is committed first, then the case's suspended lifecycle run
is woken with the same request (``services.cases.act_and_wake``)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from typing import Annotated, Any

import typer

from cli.common import note, reports_errors, runs, say, via
from cli.home import app as make_app
from domain.acts import Act
from services.cases import ActRequest, act_and_wake

Actor = Annotated[str, typer.Option("--actor", "-a", help="Who acts (a person id).")]
Ref = Annotated[str, typer.Argument(help="Case id or registration number.")]
Reason = Annotated[str, typer.Option("--reason", "-r", help="Reason / notice / basis.")]
Outcome = Annotated[str, typer.Option(help="support | explain | reject | mediated")]
Resolution = Annotated[str | None, typer.Option(
    "--class", help="三个到位: resolved (解决问题到位) | explained (思想教育到位) | "
    "assisted (帮扶救助到位)")]
Summary = Annotated[str, typer.Option(help="The decision's summary (处理意见).")]


def run_act(ref: str, req: ActRequest) -> None:
    """Commit ``req`` and wake the case's run; say what happened."""
    done = act_and_wake(make_app(), ref,
                        dataclasses.replace(req, request_id=f"cli:{uuid.uuid4().hex}",
                                            via=via()), runs())
    r = done.result
    say(f"{r.ref}: {req.act.value} by {req.actor} → {r.stage.value}")
    if done.not_woken:
        note(f"the lifecycle run was not resumed now ({done.not_woken}); it follows the case "
             "when it next wakes")


@reports_errors
def ack_cmd(ref: Ref, actor: Actor) -> None:
    """首问复命: the first responder takes the matter on."""
    run_act(ref, ActRequest(Act.ACK, actor))


@reports_errors
def accept_cmd(ref: Ref, actor: Actor, notice: Reason = "") -> None:
    """受理: accept and tell the petitioner in writing; the handling clock starts."""
    run_act(ref, ActRequest(Act.ACCEPT, actor, reason=notice))


@reports_errors
def decline_cmd(ref: Ref, actor: Actor, reason: Reason = "") -> None:
    """不予受理: not accepted; the petitioner is told why."""
    run_act(ref, ActRequest(Act.DECLINE, actor, reason=reason))


@reports_errors
def assign_leader_cmd(ref: Ref, leader: Annotated[str, typer.Argument()], actor: Actor,
                      reason: Reason = "") -> None:
    """领导包案: name the leader who owns the case."""
    run_act(ref, ActRequest(Act.ASSIGN_LEADER, actor, reason=reason, leader=leader))


@reports_errors
def leader_accept_cmd(ref: Ref, actor: Actor) -> None:
    """The named leader accepts ownership."""
    run_act(ref, ActRequest(Act.LEADER_ACCEPT, actor))


@reports_errors
def extend_cmd(ref: Ref, actor: Actor, days: Annotated[int, typer.Option()],
               reason: Reason = "", approver: Annotated[str, typer.Option(
                   help="Must be --actor: only the approver records an approval.")] = ""
               ) -> None:
    """Extend the handling limit once (第三十四条), with its reason, as its approver (the
    unit's head or above); anyone else asks with request-extension."""
    run_act(ref, ActRequest(Act.EXTEND, actor, reason=reason, days=days,
                            approver=approver or None))


@reports_errors
def request_extension_cmd(ref: Ref, actor: Actor, days: Annotated[int, typer.Option()],
                          reason: Reason = "") -> None:
    """申请延期: ask the unit's head (or above) to extend the handling limit."""
    run_act(ref, ActRequest(Act.REQUEST_EXTENSION, actor, reason=reason, days=days))


@reports_errors
def approve_extension_cmd(ref: Ref, actor: Actor) -> None:
    """批准延期: approve the extension asked, for its period and reason."""
    run_act(ref, ActRequest(Act.APPROVE_EXTENSION, actor))


@reports_errors
def refuse_extension_cmd(ref: Ref, actor: Actor, reason: Reason = "") -> None:
    """不批准延期: refuse the extension asked, saying why."""
    run_act(ref, ActRequest(Act.REFUSE_EXTENSION, actor, reason=reason))


@reports_errors
def request_report_cmd(ref: Ref, actor: Actor, note: Reason = "") -> None:
    """要求报告: ask the case's handlers to report how the task stands."""
    run_act(ref, ActRequest(Act.REQUEST_REPORT, actor, reason=note))


@reports_errors
def list_case_cmd(ref: Ref, actor: Actor,
                  body: Annotated[str, typer.Option(help="The listing body, e.g. 省信访局.")],
                  reference: Annotated[str, typer.Option(help="Its reference (文号).")],
                  required: Annotated[str, typer.Option(help="Done by, YYYY-MM-DD.")],
                  every: Annotated[int, typer.Option(help="Report to it every N days.")]
                  ) -> None:
    """挂牌督办: a higher body lists the case; its required date and reports run as clocks."""
    run_act(ref, ActRequest(Act.LIST_CASE, actor, body=body, reference=reference,
                            required=required, days=every))


@reports_errors
def report_to_lister_cmd(ref: Ref, actor: Actor, summary: Annotated[str, typer.Option(
        help="What was reported.")]) -> None:
    """向督办机关报告: file the periodic report to the listing body; the next falls due."""
    run_act(ref, ActRequest(Act.REPORT_TO_LISTER, actor, summary=summary))


@reports_errors
def pause_cmd(ref: Ref, actor: Actor, why: Annotated[str, typer.Option(
        "--why", help="hearing | awaiting_materials | appraisal")],
              basis: Reason = "") -> None:
    """Stop the running clock (the time does not count)."""
    run_act(ref, ActRequest(Act.PAUSE, actor, reason=basis, pause_reason=why))


@reports_errors
def resume_clock_cmd(ref: Ref, actor: Actor, basis: Reason = "") -> None:
    """Restart a paused clock."""
    run_act(ref, ActRequest(Act.RESUME, actor, reason=basis))


@reports_errors
def report_completion_cmd(ref: Ref, actor: Actor,
                          summary: Annotated[str, typer.Option(help="What was done.")]) -> None:
    """完成任务报告: the handler reports the task done; the case cannot be closed before."""
    run_act(ref, ActRequest(Act.REPORT, actor, summary=summary))


@reports_errors
def close_cmd(ref: Ref, actor: Actor, outcome: Outcome, resolution: Resolution = None,
              summary: Summary = "") -> None:
    """书面答复: issue the written decision, classed under 三个到位 (--class)."""
    run_act(ref, ActRequest(Act.CLOSE, actor, outcome=outcome, summary=summary,
                            resolution=resolution))


@reports_errors
def rate_cmd(ref: Ref, rating: Annotated[str, typer.Argument(
        help="satisfied | basically | not_satisfied")], actor: Actor) -> None:
    """The petitioner's rating."""
    run_act(ref, ActRequest(Act.RATE, actor, rating=rating))


def _request(act: Act, doc: str) -> Callable[..., None]:
    """The petitioner's request for a review or a re-review (entered by the office)."""
    @reports_errors
    def command(ref: Ref, actor: Actor, reason: Reason = "") -> None:
        run_act(ref, ActRequest(act, actor, reason=reason))
    command.__doc__ = doc
    return command


def _decision(act: Act, doc: str) -> Callable[..., None]:
    """A review's or re-review's opinion, after the completion report."""
    @reports_errors
    def command(ref: Ref, actor: Actor, outcome: Outcome, summary: Summary = "",
                resolution: Resolution = None) -> None:
        run_act(ref, ActRequest(act, actor, outcome=outcome, summary=summary,
                                resolution=resolution))
    command.__doc__ = doc
    return command


@reports_errors
def withdraw_cmd(ref: Ref, actor: Actor, reason: Reason = "") -> None:
    """撤回: the petitioner withdraws the petition (or the review asked for); entered by
    the petition office for them."""
    run_act(ref, ActRequest(Act.WITHDRAW, actor, reason=reason))


@reports_errors
def assign_cmd(ref: Ref, actor: Actor,
               unit: Annotated[str, typer.Option(help="The unit to hand it to.")],
               responder: Annotated[str | None, typer.Option(
                   help="Its first responder (default: the unit's least loaded).")] = None
               ) -> None:
    """分办: the petition office assigns a case from the triage queue (待分办) by hand."""
    run_act(ref, ActRequest(Act.ASSIGN, actor, unit=unit, responder=responder))


@reports_errors
def hand_down_cmd(ref: Ref, actor: Actor,
                  to: Annotated[str, typer.Option("--to", help="The office below that "
                                                  "handles it (an id of offices.yaml).")]
                  ) -> None:
    """交办: hand the case down to an office below (a group's mine); it comes back to this
    office, which reports and decides it."""
    run_act(ref, ActRequest(Act.HAND_DOWN, actor, office=to))


@reports_errors
def strike_off_cmd(ref: Ref, actor: Actor, note: Reason = "") -> None:
    """销号: strike the settled case off the ledger."""
    run_act(ref, ActRequest(Act.STRIKE_OFF, actor, reason=note))


COMMANDS: dict[Act, Callable[..., Any]] = {
    Act.ACK: ack_cmd, Act.ACCEPT: accept_cmd, Act.DECLINE: decline_cmd,
    Act.ASSIGN_LEADER: assign_leader_cmd, Act.LEADER_ACCEPT: leader_accept_cmd,
    Act.PAUSE: pause_cmd, Act.RESUME: resume_clock_cmd, Act.EXTEND: extend_cmd,
    Act.REQUEST_EXTENSION: request_extension_cmd, Act.APPROVE_EXTENSION: approve_extension_cmd,
    Act.REFUSE_EXTENSION: refuse_extension_cmd, Act.REQUEST_REPORT: request_report_cmd,
    Act.LIST_CASE: list_case_cmd, Act.REPORT_TO_LISTER: report_to_lister_cmd,
    Act.CLOSE: close_cmd, Act.RATE: rate_cmd,
    Act.REQUEST_REVIEW: _request(Act.REQUEST_REVIEW, "复查: the petitioner asks for a review."),
    Act.DECIDE_REVIEW: _decision(Act.DECIDE_REVIEW, "The review opinion (复查意见), after the "
                                 "completion report; --class re-classes it."),
    Act.REQUEST_RE_REVIEW: _request(Act.REQUEST_RE_REVIEW, "复核: the petitioner asks for a "
                                    "re-review of the review opinion."),
    Act.DECIDE_RE_REVIEW: _decision(Act.DECIDE_RE_REVIEW, "The re-review opinion (复核意见), "
                                    "final; --class re-classes it."),
    Act.STRIKE_OFF: strike_off_cmd,
    Act.REPORT: report_completion_cmd, Act.WITHDRAW: withdraw_cmd, Act.ASSIGN: assign_cmd,
    Act.HAND_DOWN: hand_down_cmd,
}


def register(app: typer.Typer) -> None:
    """One command per act, named ``act.command``; an act without one is an error here."""
    for act in Act:
        app.command(act.command)(COMMANDS[act])
