"""The CLI's case commands: intake, the actions, show and list, serve, the simulated clock.

Read commands (``show``, ``list``) never import Prefect. An action is validated by the
domain and committed first; then the case's suspended lifecycle run is resumed so it moves
on with the case. The database is the truth: a run that cannot be resumed now (the server
is down) follows the case when it is next resumed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
import uuid
from pathlib import Path
from typing import Annotated, Any

import pendulum
import typer
from rich.table import Table

from domain.case import Case
from domain.deadlines import DeadlineState
from domain.errors import ConfigError
from domain.instants import format_duration, format_local
from flows import services
from flows.bootstrap import App, bootstrap
from flows.cli import app, err, out, reports_errors
from flows.clock import FileClock
from flows.config import Settings, load_json
from flows.services import Act, ActRequest
from flows.timeline import deadline_rows, event_rows, print_case, print_header

clock_app = typer.Typer(help="The simulated clock (PETITIONS_SIMULATED_CLOCK=1: demo, tests).",
                        no_args_is_help=True)
app.add_typer(clock_app, name="clock")

Actor = Annotated[str, typer.Option("--actor", "-a", help="Who acts (a person id).")]
Ref = Annotated[str, typer.Argument(help="Case id or registration number.")]
Reason = Annotated[str, typer.Option("--reason", "-r", help="Reason / notice / basis.")]


# --- serve and intake ----------------------------------------------------------------------

@app.command("serve")
@reports_errors
def serve_cmd(sweep_seconds: Annotated[int | None, typer.Option(
        help="Sweep for due deadlines every N seconds (default: PETITIONS_SWEEP_SECONDS, "
        "60).")] = None) -> None:
    """Run the engine: a local Prefect server (unless PREFECT_API_URL answers), the lifecycle
    and intake deployments, and the deadline sweeper. Ctrl-C or SIGTERM stops it all."""
    from flows.serve import serve

    settings = Settings()
    bootstrap(settings, migrate=True)  # the office loads and the schema is current first
    serve(settings, out, sweep_seconds=sweep_seconds or settings.sweep_seconds)


def _petition_data(file: Path | None, fields: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = load_json(file) if file is not None else {}
    if not isinstance(data, dict):
        raise ConfigError("a petition is a JSON object", source=str(file))
    petitioner = dict(data.get("petitioner") or {})
    for key in ("name", "phone", "id_number"):
        if fields.get(key):
            petitioner[key] = fields.pop(key)
    data.update({k: v for k, v in fields.items() if v is not None})
    if petitioner:
        data["petitioner"] = petitioner
    return data


@app.command("intake")
@reports_errors
def intake_cmd(
    file: Annotated[Path | None, typer.Argument(help="Petition JSON, or - for stdin.")] = None,
    name: Annotated[str | None, typer.Option(help="Petitioner's name.")] = None,
    phone: Annotated[str | None, typer.Option()] = None,
    id_number: Annotated[str | None, typer.Option()] = None,
    category: Annotated[str | None, typer.Option()] = None,
    channel: Annotated[str | None, typer.Option()] = None,
    subject: Annotated[str | None, typer.Option()] = None,
    content: Annotated[str | None, typer.Option()] = None,
    concerns_unit: Annotated[str | None, typer.Option()] = None,
    registration_no: Annotated[str | None, typer.Option(
        help="Registration number (default: generated, XF-YYYYMMDD-…).")] = None,
    actor: Annotated[str, typer.Option("--actor", "-a")] = "clerk",
    timeout: Annotated[float, typer.Option(help="Seconds to wait for routing.")] = 120,
) -> None:
    """Register a petition (登记), route it and assign its first responder; its lifecycle
    run starts. Needs `petitions serve` running. Channel `reception` needs a leader
    reception day on the day it is received: that leader responds and owns the case."""
    settings = Settings()
    data = _petition_data(file, {"name": name, "phone": phone, "id_number": id_number,
                                 "category": category, "channel": channel,
                                 "subject": subject, "content": content,
                                 "concerns_unit": concerns_unit})
    a = bootstrap(settings)
    services.check_petition(a, data)  # bad input: nothing submitted
    submit_intake(a, settings, data, registration_no, actor, timeout)


def submit_intake(a: App, settings: Settings, data: dict[str, Any], registration_no: str | None,
                  actor: str, timeout: float, signal: str | None = None) -> None:
    """Run the intake deployment for ``data`` and print the case it registered."""
    from flows.prefect_env import configure, require_server

    require_server(settings)
    configure(settings)
    number = registration_no or services.new_registration_no(a)
    run = _run_deployment("petition-intake/intake",
                          {"petition": data, "registration_no": number, "actor": actor,
                           "signal": signal},
                          f"intake:{number}", timeout)
    state = run.state
    if state is None or not state.is_completed():
        name_ = state.name if state else "unknown"
        raise ConfigError(f"intake run {run.id} is {name_}; see the Prefect UI",
                          source=str(number))
    with a.uow() as uow:
        case = uow.cases.get(number, lock=False)
    print_header(out, case)


def _run_deployment(name: str, parameters: dict[str, Any], key: str | None,
                    timeout: float) -> Any:
    """Create a run of a served deployment and wait for it to finish (or ``timeout``)."""
    import time

    from prefect.client.orchestration import get_client

    from flows.runs import create_run

    run = create_run(name, parameters, key)
    with get_client(sync_client=True) as client:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = client.read_flow_run(run.id)
            if run.state is not None and run.state.is_final():
                break
            time.sleep(0.3)
        return run


# --- actions -------------------------------------------------------------------------------

def _act(ref: str, req: ActRequest) -> None:
    a = bootstrap()
    req = dataclasses.replace(req, request_id=f"cli:{uuid.uuid4().hex}")
    result = services.act(a, ref, req)
    out.print(f"{result.ref}: {req.act.value} by {req.actor} → {result.stage.value}",
              highlight=False)
    _resume(a, result.case_id, req)


def _resume(a: App, case_id: str, req: ActRequest) -> None:
    """Wake the case's suspended lifecycle run so it follows the case. If no server answers,
    nothing is lost: the action is committed, and the run, still waiting on its open wait,
    applies what it is next handed only once (request ids)."""
    import httpx

    from flows.prefect_env import api_url, configure, healthy

    with a.uow() as uow:
        run_id = uow.run_of(case_id)
    if run_id is None:
        return
    # A refused connection fails at once; a busy server gets 5 s (1 s proved too short
    # under load: 3 of 200 runs were left waiting).
    if not healthy(api_url(a.settings), timeout=5.0):
        err.print("note: no Prefect server answers; the lifecycle run follows when "
                  "`petitions serve` runs and the case is next acted on", highlight=False)
        return
    configure(a.settings)
    from flows.runs import wake

    try:
        why = wake(run_id, req.as_dict())
    except (httpx.HTTPError, OSError) as e:  # no server, or it did not answer in time
        why = f"no answer from the Prefect server: {e}"
    if why is not None:
        err.print(f"note: lifecycle run {run_id} not resumed now ({why}); it follows the case "
                  "when it next wakes", highlight=False)


@app.command("ack")
@reports_errors
def ack_cmd(ref: Ref, actor: Actor) -> None:
    """首问复命: the first responder takes the matter on."""
    _act(ref, ActRequest(Act.ACK, actor))


@app.command("accept")
@reports_errors
def accept_cmd(ref: Ref, actor: Actor, notice: Reason = "") -> None:
    """受理: accept and tell the petitioner in writing; the handling clock starts."""
    _act(ref, ActRequest(Act.ACCEPT, actor, reason=notice))


@app.command("decline")
@reports_errors
def decline_cmd(ref: Ref, actor: Actor, reason: Reason = "") -> None:
    """不予受理: not accepted; the petitioner is told why."""
    _act(ref, ActRequest(Act.DECLINE, actor, reason=reason))


@app.command("assign-leader")
@reports_errors
def assign_leader_cmd(ref: Ref, leader: Annotated[str, typer.Argument()], actor: Actor,
                      reason: Reason = "") -> None:
    """领导包案: name the leader who owns the case."""
    _act(ref, ActRequest(Act.ASSIGN_LEADER, actor, reason=reason, leader=leader))


@app.command("leader-accept")
@reports_errors
def leader_accept_cmd(ref: Ref, actor: Actor) -> None:
    """The named leader accepts ownership."""
    _act(ref, ActRequest(Act.LEADER_ACCEPT, actor))


@app.command("extend")
@reports_errors
def extend_cmd(ref: Ref, actor: Actor, days: Annotated[int, typer.Option()],
               approver: Annotated[str, typer.Option()], reason: Reason = "") -> None:
    """Extend the handling limit once (第三十四条), with reason and approver."""
    _act(ref, ActRequest(Act.EXTEND, actor, reason=reason, days=days, approver=approver))


@app.command("pause")
@reports_errors
def pause_cmd(ref: Ref, actor: Actor, why: Annotated[str, typer.Option(
        "--why", help="hearing | awaiting_materials | appraisal")],
              basis: Reason = "") -> None:
    """Stop the running clock (the time does not count)."""
    _act(ref, ActRequest(Act.PAUSE, actor, reason=basis, pause_reason=why))


@app.command("resume-clock")
@reports_errors
def resume_clock_cmd(ref: Ref, actor: Actor, basis: Reason = "") -> None:
    """Restart a paused clock."""
    _act(ref, ActRequest(Act.RESUME, actor, reason=basis))


Outcome = Annotated[str, typer.Option(help="support | explain | reject | mediated")]
Resolution = Annotated[str | None, typer.Option(
    "--class", help="三个到位: resolved (解决问题到位) | explained (思想教育到位) | "
    "assisted (帮扶救助到位)")]


@app.command("report-completion")
@reports_errors
def report_completion_cmd(ref: Ref, actor: Actor,
                          summary: Annotated[str, typer.Option(help="What was done.")]) -> None:
    """完成任务报告: the handler reports the task done; the case cannot be closed before."""
    _act(ref, ActRequest(Act.REPORT, actor, summary=summary))


@app.command("close")
@reports_errors
def close_cmd(ref: Ref, actor: Actor, outcome: Outcome, resolution: Resolution = None,
              summary: Annotated[str, typer.Option()] = "") -> None:
    """书面答复: issue the written decision, classed under 三个到位 (--class)."""
    _act(ref, ActRequest(Act.CLOSE, actor, outcome=outcome, summary=summary,
                         resolution=resolution))


@app.command("rate")
@reports_errors
def rate_cmd(ref: Ref, rating: Annotated[str, typer.Argument(
        help="satisfied | basically | not_satisfied")], actor: Actor) -> None:
    """The petitioner's rating."""
    _act(ref, ActRequest(Act.RATE, actor, rating=rating))


@app.command("request-review")
@reports_errors
def request_review_cmd(ref: Ref, actor: Actor, reason: Reason = "") -> None:
    """复查: the petitioner asks for a review."""
    _act(ref, ActRequest(Act.REQUEST_REVIEW, actor, reason=reason))


@app.command("decide-review")
@reports_errors
def decide_review_cmd(ref: Ref, actor: Actor, outcome: Outcome,
                      summary: Annotated[str, typer.Option()] = "",
                      resolution: Resolution = None) -> None:
    """The review opinion (复查意见), after the completion report; --class re-classes it."""
    _act(ref, ActRequest(Act.DECIDE_REVIEW, actor, outcome=outcome, summary=summary,
                         resolution=resolution))


@app.command("strike-off")
@reports_errors
def strike_off_cmd(ref: Ref, actor: Actor, note: Reason = "") -> None:
    """销号: strike the settled case off the ledger."""
    _act(ref, ActRequest(Act.STRIKE_OFF, actor, reason=note))


# --- reading -------------------------------------------------------------------------------

def _case_json(a: App, case: Case, audit: list[Any]) -> dict[str, Any]:
    now = a.clock.now()
    return {"id": case.id, "registration_no": case.registration_no,
            "stage": case.stage.value, "unit": case.unit, "responder": case.responder,
            "leader": case.leader, "policy": case.policy_id, "repeat_of": case.repeat_of,
            "subject": case.petition.subject,
            "deadlines": deadline_rows(case, a.rules_for(case), now),
            "events": event_rows(audit)}


@app.command("show")
@reports_errors
def show_cmd(ref: Ref, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """One case: where it is, its deadlines and its events."""
    a = bootstrap()
    with a.uow() as uow:
        case = uow.cases.get(ref, lock=False)
        audit = uow.history_of(case)
    if as_json:
        sys.stdout.write(json.dumps(_case_json(a, case, audit), ensure_ascii=False,
                                    indent=2) + "\n")
        return
    print_case(out, case, a.rules_for(case), a.clock.now(), audit)


@app.command("list")
@reports_errors
def list_cmd(overdue: Annotated[bool, typer.Option(help="Only cases past a deadline.")] = False,
             as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Open cases with their next deadline (worst overdue first with --overdue)."""
    a = bootstrap()
    now = a.clock.now()
    with a.uow() as uow:
        cases = uow.open_cases()
    rows: list[dict[str, Any]] = []
    for case in cases:
        views = [v for v in case.deadlines(a.rules_for(case), now)
                 if v.state in (DeadlineState.PENDING, DeadlineState.PAUSED,
                                DeadlineState.BREACHED) and v.closed_at is None]
        late = [v for v in views if v.overdue]
        if overdue and not late:
            continue
        worst = max(late, key=lambda v: v.overdue or pendulum.duration()) if late else None
        nxt = worst or min(views, key=lambda v: v.due_at, default=None)
        rows.append({"ref": case.ref, "id": case.id, "stage": case.stage.value,
                     "unit": case.unit, "responder": case.responder, "leader": case.leader,
                     "deadline": nxt.kind.value if nxt else None,
                     "due": format_local(nxt.due_at) if nxt else None,
                     "overdue": format_duration(worst.overdue) if worst and worst.overdue
                     else None, "overdue_seconds": worst.overdue.total_seconds()
                     if worst and worst.overdue else 0})
    if overdue:
        rows.sort(key=lambda r: -float(r["overdue_seconds"]))
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table()
    for col in ("case", "stage", "unit", "responder", "leader", "deadline", "due", "overdue"):
        table.add_column(col)
    for r in rows:
        table.add_row(*(str(r[k] or "") for k in ("ref", "stage", "unit", "responder",
                                                   "leader", "deadline", "due", "overdue")))
    out.print(table)
    out.print(f"{len(rows)} case(s)", highlight=False)


# --- the simulated clock -------------------------------------------------------------------

def _file_clock() -> FileClock:
    settings = Settings()
    if not settings.simulated_clock:
        raise ConfigError("the simulated clock is off; set PETITIONS_SIMULATED_CLOCK=1 "
                          "(never in production)")
    settings.home.mkdir(parents=True, exist_ok=True)
    return FileClock(settings.home / "clock")


@clock_app.command("set")
@reports_errors
def clock_set(when: Annotated[str, typer.Argument(help="ISO time, e.g. 2026-03-02T09:00+08:00")]
              ) -> None:
    try:
        parsed = pendulum.parse(when, tz="Asia/Shanghai")
    except ValueError:
        raise typer.BadParameter(f"not an ISO time: {when!r}") from None
    assert isinstance(parsed, pendulum.DateTime)
    out.print(format_local(_file_clock().set(parsed)), highlight=False)


@clock_app.command("advance")
@reports_errors
def clock_advance(days: Annotated[float, typer.Option()] = 0,
                  hours: Annotated[float, typer.Option()] = 0) -> None:
    c = _file_clock()
    out.print(format_local(c.set(c.now() + dt.timedelta(days=days, hours=hours))),
              highlight=False)


@clock_app.command("show")
@reports_errors
def clock_show() -> None:
    out.print(format_local(_file_clock().now()), highlight=False)


@app.command("sweep")
@reports_errors
def sweep_cmd(timeout: Annotated[float, typer.Option(help="Seconds to wait.")] = 120) -> None:
    """Run the deadline sweeper now (through the served deployment, so its Prefect events
    are emitted), and wait for it."""
    from flows.prefect_env import configure, require_server

    settings = Settings()
    require_server(settings)
    configure(settings)
    run = _run_deployment("deadline-sweeper/sweeper", {}, None, timeout)
    state = run.state
    if state is None or not state.is_completed():
        raise ConfigError(f"sweeper run {run.id} is {state.name if state else 'unknown'}")
    out.print(f"sweeper run {run.name}: {state.result()} rung event(s) fired",
              highlight=False)


# --- the demo ------------------------------------------------------------------------------

SAMPLE_OFFICE = Path(__file__).resolve().parents[1] / "deploy" / "config"


@app.command("demo")
@reports_errors
def demo_cmd(
    home: Annotated[Path | None, typer.Option(
        help="An empty folder for the demo (default: a new temporary folder, kept).")] = None,
    config: Annotated[Path, typer.Option(help="The office (default: the sample mine).")
                      ] = SAMPLE_OFFICE,
    port: Annotated[int | None, typer.Option(help="The demo's Prefect server port "
                                             "(default: a free one).")] = None,
    keep_serving: Annotated[bool, typer.Option(
        help="Keep the engine and its UI running after the demo, until Ctrl-C.")] = False,
) -> None:
    """A petition office's 100 days on a throw-away PETITIONS_HOME: four petitions in
    Chinese through every stage, reminders, a breach escalated, an extension, a review."""
    import tempfile

    from flows.demo import Demo

    if home is None:
        home = Path(tempfile.mkdtemp(prefix="petitions-demo-"))
    elif home.exists() and any(home.iterdir()):
        raise ConfigError("the demo needs an empty or new folder", source=str(home))
    if not (config / "org.yaml").exists():
        raise ConfigError("no office configuration here (org.yaml missing)", source=str(config))
    out.print(f"demo home: {home}", highlight=False)
    demo = Demo(home, config.resolve(), out, port)
    ok = False
    try:
        demo.start()
        demo.play()
        ok = demo.report()
        if keep_serving and demo.proc is not None:
            out.print("the engine keeps serving; Ctrl-C stops it", highlight=False)
            demo.proc.wait()
    except KeyboardInterrupt:
        out.print("stopping")
    finally:
        demo.stop()
    if not ok:
        raise typer.Exit(1)


# --- the outbox ----------------------------------------------------------------------------

outbox_app = typer.Typer(help="The outbox: every message queued, held, sent or dead.",
                         invoke_without_command=True)
app.add_typer(outbox_app, name="outbox")


@outbox_app.callback()
@reports_errors
def outbox_list(ctx: typer.Context,
                status: Annotated[str | None, typer.Option(
                    help="queued | sending | sent | dead")] = None,
                limit: Annotated[int, typer.Option()] = 50,
                as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List messages, newest first (with the .eml file or provider id of each sent one)."""
    if ctx.invoked_subcommand is not None:
        return
    if status and status not in ("queued", "sending", "sent", "dead"):
        raise typer.BadParameter(f"unknown status {status!r}; expected queued, sending, sent "
                                 "or dead", param_hint="--status")
    a = bootstrap()
    with a.uow() as uow:
        rows = uow.messages(status, limit)
        counts = uow.outbox_counts()
        refs = {c.id: c.ref for c in uow.all_cases()}
    items = [{"id": r.id, "status": r.status, "kind": r.kind, "recipient": r.recipient,
              "case": refs.get(r.case_id, r.case_id), "queued": format_local(r.queued_at),
              "next_attempt": format_local(r.next_attempt_at) if r.next_attempt_at else "",
              "attempts": r.attempts, "sent": format_local(r.sent_at) if r.sent_at else "",
              "ref": r.ref or "", "note": r.note or "", "error": r.error or ""}
             for r in rows]
    if as_json:
        sys.stdout.write(json.dumps(items, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table()
    for col in ("id", "status", "kind", "recipient", "case", "queued", "attempts",
                "where / why"):
        table.add_column(col)
    for i in items:
        table.add_row(str(i["id"]), str(i["status"]), str(i["kind"]), str(i["recipient"]),
                      str(i["case"]), str(i["queued"]), str(i["attempts"]),
                      str(i["error"] or i["note"] or i["ref"]))
    out.print(table)
    out.print(", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "the outbox is empty",
              highlight=False)
    out.print(f".eml files (no SendGrid key): {a.settings.home / 'outbox'}", highlight=False)


@outbox_app.command("send")
@reports_errors
def outbox_send(limit: Annotated[int, typer.Option()] = 200) -> None:
    """Deliver what is due now (the served engine does this every PETITIONS_SEND_SECONDS)."""
    from flows.outbox import deliver, queue_digests

    a = bootstrap(migrate=True)
    digests = queue_digests(a)
    report = deliver(a, limit=limit)
    out.print(f"{digests} digest(s) queued; {report}", highlight=False)
