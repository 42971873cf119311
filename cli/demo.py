"""``petitions demo``: a petition office's hundred days, on a throw-away ``PETITIONS_HOME``.

The demo runs the engine as an office does: ``petitions serve`` in a child process (a real
Prefect server on SQLite, the lifecycle runs, the sweeper; ``cli.demo_engine``) with the
simulated clock, on a copy of the office's configuration whose robots and SMS reach only the
demo's local stand-ins (``cli.demo_standins``), whatever the user's environment holds. It then
plays the script (``cli.demo_script``): four realistic petitions arrive, people act on them
(the same use case the CLI calls: commit, then wake the case's suspended run), and the clock
moves on over about 100 days. At each moment the script runs the sweeper flow itself (its
clock jumps days in seconds; a served engine runs it on its schedule), so reminders,
warnings, breaches and escalations fire from the database exactly as in production.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from prefect.client.orchestration import get_client
from rich.console import Console

from cli.common import out, reports_errors
from cli.demo_door import act_online, door_address, submit_online
from cli.demo_engine import ServedEngine, flow_run_counts, free_port, poll, port_free
from cli.demo_office import STEPS as OFFICE_STEPS
from cli.demo_script import (
    CLERK,
    ONLINE,
    ONLINE_PETITIONS,
    PETITIONS,
    SCRIPT,
    START,
    Do,
    Moment,
    group_script,
)
from cli.demo_standins import RobotStandIn, SmsStandIn, demo_config, demo_environment
from cli.views import print_case
from domain.case import Case
from domain.errors import ConfigError
from domain.instants import format_local, local
from domain.stages import Stage
from flows.engine import PrefectRuns
from flows.lifecycle import sweeper
from flows.prefect_env import api_url, configure
from flows.tasks import app as engine_app
from services.bootstrap import bootstrap
from services.cases import ActRequest, act_and_wake, new_registration_no
from services.clock import FileClock
from services.config import OFFICES
from services.intake import intake
from services.naming import OfficeNames
from services.outbox import deliver, queue_digests
from services.schema import migrated
from services.settings import Settings
from services.timeline import event_rows
from services.users import set_password

SAMPLE_OFFICE = Path(__file__).resolve().parents[1] / "deploy" / "config"


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_cmd)


WEEKDAYS = "一二三四五六日"
DEMO_PASSWORD = "demo-xinfang-2026"  # the demo's throw-away office only
STALE_GRACE = 20.0  # seconds a run may show suspended at a step the case has left


class Demo:
    """The demo's sandbox and served engine, and the script played against them."""

    def __init__(self, home: Path, config: Path, console: Console, port: int | None = None,
                 ready_timeout: float = 300.0, settle_timeout: float = 300.0,
                 web_port: int = 0) -> None:
        self.home, self.config, self.console = home, config, console
        self.port = port or free_port()
        self.web_port = web_port  # 0: no office workplace
        self.ready_timeout, self.settle_timeout = ready_timeout, settle_timeout
        # A group (deploy/group): the petitions arrive at the sample mine, "mine-a".
        self.group = (config / OFFICES).exists()
        self.env = {"PETITIONS_HOME": str(home), "PETITIONS_CONFIG_DIR": str(config),
                    **({"PETITIONS_OFFICE": "mine-a"} if self.group else {}),
                    "PETITIONS_SIMULATED_CLOCK": "1", "PETITIONS_PREFECT_PORT": str(self.port),
                    "PETITIONS_WEB_PORT": str(web_port),
                    # The demo's clock jumps days in seconds, so the script runs the sweeper
                    # flow and delivers at each moment itself, right after the jump, rather
                    # than wait for the schedule (tests/flows/test_left_alone.py leaves a
                    # served engine alone and sees the schedule do both).
                    "PETITIONS_SWEEP_SECONDS": "86400", "PETITIONS_SEND_SECONDS": "86400",
                    # ... and the practices do not run on their own mid-script either.
                    "PETITIONS_PRACTICES_SECONDS": "86400"}
        self.engine: ServedEngine | None = None
        self.refs: dict[str, str] = {}      # alias -> case id
        self.seen: dict[str, int] = {}      # case id -> events already printed
        self.answered: dict[str, str] = {}  # case id -> the wait key last answered
        self.stale_since: dict[str, float] = {}  # case id -> when its run was seen astray
        self.robot: RobotStandIn | None = None
        self.sms: SmsStandIn | None = None

    # --- the engine ------------------------------------------------------------------
    def sandbox(self, environ: Mapping[str, str]) -> dict[str, str]:
        """Start the stand-ins of the robots and the SMS provider, copy the office's
        configuration pointed at them into the demo's home, and return the environment of
        the demo's processes: ``environ`` with nothing of a real office (the demo never
        touches one, whatever the user's environment holds)."""
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.robot, self.sms = RobotStandIn(), SmsStandIn()
        self.config = demo_config(self.config, self.home, self.sms.endpoint)
        self.env["PETITIONS_CONFIG_DIR"] = str(self.config)
        return demo_environment(environ, self.env, self.robot.url)

    def start(self) -> None:
        """Point this process at the demo's home and start ``petitions serve``."""
        env = self.sandbox(os.environ)
        for name in set(os.environ) - set(env):
            del os.environ[name]
        os.environ.update(env)
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
        self.settings = Settings.from_env()
        migrated(bootstrap(self.settings))  # the office loads; the schema exists
        self.clock = FileClock(self.home / "clock")
        self.clock.set(START)
        configure(self.settings)
        self.api = api_url(self.settings)
        self.engine = ServedEngine(self.api, self.home / "serve.log", self.ready_timeout)
        self.engine.start(os.environ, self.console)
        self.app = engine_app()  # the same app the in-process intake flows use
        self.names = OfficeNames(self.app)
        self.engine_runs = PrefectRuns(self.settings)

    def open_workplace(self) -> None:
        """Give every person of the demo's office the demo password, and say how to log in
        to the workplace (served beside the engine)."""
        everyone = [p for o in self.app.offices.offices.values() for p in o.org.people]
        for person in everyone:
            set_password(self.app, person, DEMO_PASSWORD, actor="demo")
        with self.app.uow() as uow:
            handled = [c for c in uow.all_cases() if c.responder]
        responder = (handled[0].responder if handled else None) or CLERK
        org = self.app.office.org
        head = org.units["office"].head if "office" in org.units else None
        who = [(CLERK, "登记 (the intake clerk)"), (responder, "首问 (a first responder)"),
               *([(head, "督查 (the petition office's head)")] if head else []),
               (org.mine_head, "领导 (the mine head)")]
        self.console.rule("the office workplace", align="left")
        self.console.print(
            f"open            http://127.0.0.1:{self.web_port}/  (while the engine serves)\n"
            f"password        {DEMO_PASSWORD}  (every person of the demo's offices)\n"
            f"网上信访        {door_address(self.web_port)}  (the petitioner's own door)\n" +
            "\n".join(f"log in as       {pid:<12} {org.people[pid].name}: {role}"
                      for pid, role in who),
            highlight=False, markup=False)

    def stop(self) -> None:
        if self.engine is not None:
            self.engine.stop()
        for stand_in in (self.robot, self.sms):
            if stand_in is not None:
                stand_in.stop()

    # --- the script ------------------------------------------------------------------
    def play(self, script: tuple[Moment, ...] | None = None) -> None:
        for moment in script or (group_script() if self.group else SCRIPT):
            at = local(self.clock.set(moment.at))
            self.console.rule(f"第{moment.day}天 {at.format('YYYY-MM-DD')} 周"
                              f"{WEEKDAYS[at.weekday()]} {at.format('HH:mm')}"
                              + (f"  {moment.caption}" if moment.caption else ""),
                              align="left", style="dim")
            asyncio.run(sweeper())
            for alias in moment.intake:
                self._intake(alias)
            for alias in moment.online:
                self._online(alias)
            for do in moment.acts:
                self._act(do)
            for step in moment.office:
                OFFICE_STEPS[step](self.app, self.refs, self.console)
            self._print_new()
            self._deliver()
        self.settle()

    def _deliver(self) -> None:
        """The outbox, as the served engine's sender would deliver it now (.eml files)."""
        queue_digests(self.app)
        report = deliver(self.app)
        if report.counts:
            self.console.print(f"  outbox: {report}", highlight=False, style="dim")
        for line in self.robot.new() if self.robot else []:
            self.console.print(f"  企业微信 leaders' group robot (local stand-in) ← {line}",
                               highlight=False, style="magenta")
        for line in self.sms.new() if self.sms else []:
            self.console.print(f"  短信 Aliyun SMS (local stand-in) ← {line}",
                               highlight=False, style="magenta")

    def _intake(self, alias: str) -> None:
        case = intake(self.app, PETITIONS[alias], registration_no=new_registration_no(self.app),
                      actor=CLERK, via="demo")
        self.refs[alias] = case.id
        why = self.engine_runs.start(self.app, case.id)
        if why:
            self.console.print(f"  note: {case.ref}'s run not started now ({why})",
                               highlight=False)

    def _online(self, alias: str) -> None:
        self.refs[alias] = submit_online(self.app, self.sms, ONLINE_PETITIONS[alias],
                                         self.engine_runs, self.console).id

    def _case(self, alias: str) -> Case:
        with self.app.uow() as uow:
            return uow.cases.get(self.refs[alias], lock=False)

    def _who(self, case: Case, who: str) -> str:
        if who == "@responder":
            return str(case.responder)
        if who == "@leader":
            return str(case.leader)
        if who == "@head":
            return str(self.app.office_of(case).org.units[str(case.unit)].head)
        if who == "@unit_leader":
            return str(self.app.office_of(case).org.units[str(case.unit)].leader)
        return who

    def _act(self, do: Do) -> None:
        case = self._wait_until_waiting(self.refs[do.case])  # its run is at the current form
        fields: dict[str, Any] = {k: self._who(case, v) if isinstance(v, str) else v
                                  for k, v in do.fields.items()}
        req = ActRequest(do.act, self._who(case, do.who),
                         request_id=f"demo:{case.id}:{case.version}", via="demo", **fields)
        with self.app.uow() as uow:
            wait = uow.wait_of(case.id)
        acted = act_online(self.app, self.engine_runs, self.sms, case, do.act.value, fields) \
            if do.who == ONLINE else act_and_wake(self.app, case.id, req, self.engine_runs)
        why = acted.not_woken
        for other in acted.result.linked:  # the review case the group's office opened
            if other not in self.refs.values():
                self.refs[f"{do.case}-review"] = other
        if why is None and wait is not None and wait.key:
            # Until the run re-executes, Prefect and the database still show this wait
            # open: the next act on the case waits for the run's next wait instead.
            self.answered[case.id] = wait.key
        if why:
            self.console.print(f"  note: {case.ref}'s run not resumed now ({why})",
                               highlight=False)

    def _waiting(self, case_id: str) -> Case | None:
        """The case, once its lifecycle run is suspended on an open wait in the case's
        current stage (or has ended with the case)."""
        with self.app.uow() as uow:
            case = uow.cases.get(case_id, lock=False)
            run_id, wait = uow.run_of(case_id), uow.wait_of(case_id)
        if run_id is None or wait is None:
            return None
        with get_client(sync_client=True) as client:
            state = client.read_flow_run(run_id).state  # type: ignore[arg-type]
        if state is None:
            return None
        if case.stage is Stage.CLOSED:
            ready = state.is_completed()
        else:
            ready = (state.is_paused() and wait.open and wait.stage == case.stage.value
                     and state.state_details.pause_key == wait.key
                     and self.answered.get(case_id) != wait.key)
        if not ready and state.is_paused():
            self._bring_back(case_id)
        else:
            self.stale_since.pop(case_id, None)
        return case if ready else None

    def _bring_back(self, case_id: str) -> None:
        """A run suspended at a step the case has left (its wake failed: a server too busy
        to answer) is brought back in step, as the reconciler would on its round, once it
        has stayed so for a while and then every while."""
        now = time.monotonic()
        since = self.stale_since.setdefault(case_id, now)
        if now - since < STALE_GRACE:
            return
        self.stale_since[case_id] = now
        for what in self.engine_runs.heal(self.app, case_id):
            self.console.print(f"  note: {what}", highlight=False)

    def _wait_until_waiting(self, case_id: str) -> Case:
        case: Case = poll(lambda: self._waiting(case_id), self.settle_timeout,
                     f"the lifecycle run of {case_id} to wait at its current step")
        return case

    def settle(self) -> None:
        """Wait until every case's run waits at its current step, or has ended."""
        for case_id in self.refs.values():
            self._wait_until_waiting(case_id)

    def _print_new(self) -> None:
        for alias, case_id in self.refs.items():
            with self.app.uow() as uow:
                rows = uow.events_of(case_id)
                ref = uow.cases.get(case_id, lock=False).ref
            for e in event_rows(rows, names=self.names)[self.seen.get(case_id, 0):]:
                self.console.print(f"  {ref}  {alias:<10} {e['event_label']:<8} "
                                   f"{e['actor_name']:<6} {e['detail']}", highlight=False,
                                   markup=False)
            self.seen[case_id] = len(rows)

    # --- the end -----------------------------------------------------------------------
    def report(self) -> bool:
        """Print the timelines and where to look. False if a flow run failed or crashed."""
        now = self.app.clock.now()
        self.console.rule(f"the timelines on day 100 ({format_local(now)})", align="left")
        for case_id in self.refs.values():
            with self.app.uow() as uow:
                case = uow.cases.get(case_id, lock=False)
                rows = uow.events_of(case_id)
            self.console.print()
            print_case(self.console, case, self.app.rules_for(case), now, rows, self.names)
        with self.app.uow() as uow:
            counts = uow.outbox_counts()
        home = self.home
        self.console.rule("where to look", align="left")
        self.console.print(
            f"Prefect UI      {self.api.removesuffix('/api')}  (runs, their forms, the "
            "petition-<id> artifacts, the petition.* events; while the engine serves)\n"
            f"outbox          {sum(counts.values())} message(s) "
            f"({', '.join(f'{n} {s}' for s, n in sorted(counts.items())) or 'none'}); "
            f"the sent ones are .eml files in {home / 'outbox'}; `petitions outbox` lists "
            "them\n"
            f"the cases       PETITIONS_HOME={home} PETITIONS_CONFIG_DIR={self.config} "
            "petitions list | show REF\n"
            f"serve again     PETITIONS_HOME={home} PETITIONS_CONFIG_DIR={self.config} "
            f"PETITIONS_SIMULATED_CLOCK=1 PETITIONS_PREFECT_PORT={self.port} petitions serve\n"
            f"logs            {home / 'serve.log'}, {home / 'prefect' / 'server.log'}\n"
            f"网上信访        {door_address(self.web_port)}",
            highlight=False, markup=False)
        runs = flow_run_counts()
        for flow_name, states in sorted(runs.items()):
            self.console.print(f"flow runs       {flow_name}: " + ", ".join(
                f"{n} {state}" for state, n in sorted(states.items())), highlight=False)
        bad = sum(n for states in runs.values() for state, n in states.items()
                  if state in ("Failed", "Crashed"))
        if bad:
            self.console.print(f"{bad} flow run(s) failed or crashed: see the logs above",
                               style="bold red")
        return not bad


@reports_errors
def demo_cmd(
    home: Annotated[Path | None, typer.Option(
        help="An empty folder for the demo (default: a new temporary folder, kept).")] = None,
    config: Annotated[Path, typer.Option(help="The office (default: the sample mine).")
                      ] = SAMPLE_OFFICE,
    port: Annotated[int | None, typer.Option(help="The demo's Prefect server port "
                                             "(default: a free one).")] = None,
    keep_serving: Annotated[bool, typer.Option(
        help="Keep the engine, its UI and the office workplace running after the demo, "
        "until Ctrl-C; the demo's people can log in to the workplace.")] = False,
    web_port: Annotated[int, typer.Option(
        help="The office workplace's port with --keep-serving (default 8000, or a free one "
        "when 8000 is taken).")] = 8000,
) -> None:
    """A petition office's 100 days on a throw-away PETITIONS_HOME: five petitions (one online) in
    Chinese through every stage, reminders, a breach escalated, an extension, a review."""
    if home is None:
        home = Path(tempfile.mkdtemp(prefix="petitions-demo-"))
    elif home.exists() and any(home.iterdir()):
        raise ConfigError("the demo needs an empty or new folder", source=str(home))
    if not (config / "org.yaml").exists() and not (config / OFFICES).exists():
        raise ConfigError(f"no office configuration here (org.yaml or {OFFICES} missing)",
                          source=str(config))
    out.print(f"demo home: {home}", highlight=False)
    if keep_serving and not port_free(web_port):
        web_port = free_port()
    demo = Demo(home, config.resolve(), out, port, web_port=web_port if keep_serving else 0)
    ok = False
    try:
        demo.start()
        demo.play()
        ok = demo.report()
        if keep_serving and demo.engine is not None and demo.engine.proc is not None:
            demo.open_workplace()
            out.print("the engine keeps serving; Ctrl-C stops it", highlight=False)
            demo.engine.proc.wait()
    except KeyboardInterrupt:
        out.print("stopping")
    finally:
        demo.stop()
    if not ok:
        raise typer.Exit(1)
