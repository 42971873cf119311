"""``petitions demo``: a petition office's hundred days, on a throw-away ``PETITIONS_HOME``.

The demo runs the engine as an office does: ``petitions serve`` in a child process (a real
Prefect server on SQLite, the lifecycle runs, the sweeper) with the simulated clock. It then
plays a script: four realistic petitions arrive, people act on them (the same use cases the
CLI calls, each followed by waking the case's suspended run), and the clock moves on over
about 100 days. At each moment the sweeper runs as a Prefect flow, so reminders, warnings,
breaches and escalations fire from the database exactly as in production.

The script holds no outcome: who the first responder is, which leader owns a case, when a
deadline falls due and which rungs fire all come from the office configuration, the
calendar and the domain.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pendulum
from rich.console import Console

from domain.case import Case
from domain.errors import ConfigError
from domain.instants import format_local
from domain.stages import Stage
from flows.services import Act, ActRequest

START = pendulum.datetime(2026, 8, 3, 9, 0, tz="Asia/Shanghai")  # a Monday
CLERK = "qian.hui"
PETITIONER = "petitioner"

PETITIONS: dict[str, dict[str, Any]] = {
    "group": {
        "petitioner": {"name": "王德福", "phone": "13900001111", "address": "示范煤矿家属区12号楼"},
        "channel": "visit", "category": "complaint",
        "subject": "家属区住房墙体开裂、地面下沉，集体来访要求鉴定维修",
        "content": "家属区12号楼至15号楼住户三十余人来访，反映入夏以来房屋墙体开裂、地面下沉，"
                   "怀疑与井下采动有关，推选5名代表反映诉求，要求鉴定原因并维修。",
        "headcount": 37, "representatives": 5,
    },
    "accusation": {
        "petitioner": {"name": "匿名职工", "phone": "13700002222"},
        "channel": "online", "category": "accusation",
        "subject": "检举综采一队队长违章指挥、冒险作业",
        "content": "综采一队队长多次在顶板来压期间违章指挥工人进入未支护区域作业，"
                   "并以扣发绩效相威胁，要求查处。",
        "concerns_unit": "mining1", "accused_persons": ["zhang.hua"],
    },
    "wage": {
        "petitioner": {"name": "刘建军", "id_number": "142601198001011234",
                       "phone": "13812341234", "address": "示范煤矿家属区3号楼"},
        "channel": "letter", "category": "complaint",
        "subject": "2026年6月、7月工资未按时足额发放",
        "content": "本人系综采一队职工，6月、7月工资比往月少发约三千元，询问队里未得到答复，"
                   "请求核查补发。",
        "concerns_unit": "mining1",
    },
    "repeat": {
        "petitioner": {"name": "刘建军", "id_number": "142601198001011234",
                       "phone": "13812341234"},
        "channel": "visit", "category": "complaint",
        "subject": "再次反映6月、7月工资未足额发放",
        "content": "上次来信已十天，仍未见补发，今日来访再次反映。",
        "concerns_unit": "mining1",
    },
}


@dataclass(frozen=True)
class Do:
    """One person's action in the script. ``who`` is a person id or a role of the case:
    ``@responder``, ``@leader``, ``@head`` (the unit's head)."""

    case: str
    act: Act
    who: str = "@responder"
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Moment:
    day: int
    time: str
    caption: str
    intake: tuple[str, ...] = ()
    acts: tuple[Do, ...] = ()

    @property
    def at(self) -> pendulum.DateTime:
        hour, minute = map(int, self.time.split(":"))
        return START.add(days=self.day).set(hour=hour, minute=minute)


SCRIPT: tuple[Moment, ...] = (
    Moment(0, "09:00", "登记: a group visit, an accusation and a wage complaint arrive",
           intake=("group", "accusation", "wage")),
    Moment(0, "10:30", "首问复命: two first responders reply within the hour",
           acts=(Do("group", Act.ACK), Do("accusation", Act.ACK))),
    Moment(0, "14:30", "the wage complaint's responder, reminded at noon, replies",
           acts=(Do("wage", Act.ACK),)),
    Moment(0, "15:00", "受理: all three accepted, the petitioners told in writing",
           acts=(Do("group", Act.ACCEPT, fields={"reason": "受理告知书当场送达5名代表"}),
                 Do("accusation", Act.ACCEPT, fields={"reason": "网上答复受理"}),
                 Do("wage", Act.ACCEPT, fields={"reason": "受理告知书已邮寄"}))),
    Moment(1, "10:00", "领导包案: the owning leaders take their cases on",
           acts=(Do("group", Act.LEADER_ACCEPT, "@leader"),
                 Do("accusation", Act.LEADER_ACCEPT, "@leader"))),
    Moment(10, "09:30", "重复信访: the wage complainant comes back in person",
           intake=("repeat",)),
    Moment(10, "11:00", "", acts=(Do("repeat", Act.ACK),)),
    Moment(10, "15:00", "", acts=(Do("repeat", Act.ACCEPT,
                                     fields={"reason": "与首次来信合并办理"}),)),
    Moment(11, "10:00", "", acts=(Do("repeat", Act.LEADER_ACCEPT, "@leader"),)),
    Moment(20, "16:00", "完成任务报告: the handlers report the wage matter done",
           acts=(Do("wage", Act.REPORT, fields={"summary": "已核实考勤与工资表，补发已报批"}),
                 Do("repeat", Act.REPORT, "@leader",
                    fields={"summary": "已会同人力资源部与信访人面谈"}))),
    Moment(21, "10:00", "书面答复: the wage matter is decided (both letters), 三个到位",
           acts=(Do("wage", Act.CLOSE, fields={"outcome": "support", "resolution": "resolved",
                                               "summary": "核实少发绩效工资2,870元，9月补发"}),
                 Do("repeat", Act.CLOSE, fields={"outcome": "explain",
                                                 "resolution": "explained",
                                                 "summary": "已与首次来信合并答复"}))),
    Moment(24, "10:00", "评价: one satisfied, one not",
           acts=(Do("wage", Act.RATE, PETITIONER, {"rating": "not_satisfied"}),
                 Do("repeat", Act.RATE, PETITIONER, {"rating": "satisfied"}))),
    Moment(24, "16:00", "销号: the repeat letter is struck off",
           acts=(Do("repeat", Act.STRIKE_OFF, CLERK, {"reason": "已合并答复，信访人满意"}),)),
    Moment(28, "09:00", "复查: the wage complainant asks for a review",
           acts=(Do("wage", Act.REQUEST_REVIEW, PETITIONER,
                    {"reason": "补发金额未含夜班津贴"}),)),
    Moment(35, "09:00", "half the 60 days gone: reminders to the first responders"),
    Moment(45, "09:00", "the review is half-way"),
    Moment(50, "10:00", "延期: the group case needs a survey; its unit head approves 30 more days",
           acts=(Do("group", Act.EXTEND, fields={
               "days": 30, "approver": "@head",
               "reason": "需委托第三方鉴定房屋开裂与采动的关系"}),)),
    Moment(55, "16:00", "完成任务报告: the review's handler reports back",
           acts=(Do("wage", Act.REPORT, fields={"summary": "已复核夜班考勤，津贴差额属实"}),)),
    Moment(56, "10:00", "80 %: warnings to the unit heads; 复查意见: the review finds for "
           "the petitioner",
           acts=(Do("wage", Act.DECIDE_REVIEW, fields={
               "outcome": "support", "summary": "补发夜班津贴640元",
               "resolution": "resolved"}),)),
    Moment(67, "09:00", "after the National Day holiday: the accusation is overdue"),
    Moment(70, "09:00", "three days late: escalated to the owning leader"),
    Moment(74, "09:00", "seven days late: escalated to the mine head"),
    Moment(76, "17:00", "完成任务报告: the accusation's handler reports the inquiry done",
           acts=(Do("accusation", Act.REPORT, fields={"summary": "调查取证完毕，报纪委审议"}),)),
    Moment(77, "10:00", "书面答复: the accusation is answered, late",
           acts=(Do("accusation", Act.CLOSE, fields={
               "outcome": "support", "resolution": "resolved",
               "summary": "经查基本属实，责令整改并给予综采一队队长警告处分"}),)),
    Moment(84, "16:00", "完成任务报告: the survey is in",
           acts=(Do("group", Act.REPORT, "@leader",
                    fields={"summary": "第三方鉴定报告已出，维修方案已定"}),)),
    Moment(85, "10:00", "书面答复: the group case, within its extended limit; the two "
           "poorest households also get hardship aid",
           acts=(Do("group", Act.CLOSE, fields={
               "outcome": "support", "resolution": "assisted",
               "summary": "鉴定为采动影响，矿方承担12至15号楼加固维修；两户困难家庭给予救助"}),)),
    Moment(88, "10:00", "评价: the representatives are satisfied",
           acts=(Do("group", Act.RATE, PETITIONER, {"rating": "satisfied"}),)),
    Moment(88, "16:00", "销号", acts=(Do("group", Act.STRIKE_OFF, CLERK,
                                       {"reason": "维修完毕，代表签字确认"}),)),
    Moment(91, "10:00", "销号: no re-review was asked for within 30 days",
           acts=(Do("wage", Act.STRIKE_OFF, CLERK, {"reason": "复核申请期届满"}),)),
    Moment(100, "09:00", "day 100"),
)

WEEKDAYS = "一二三四五六日"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Demo:
    """The served engine in a child process, and the script played against it."""

    def __init__(self, home: Path, config: Path, console: Console, port: int | None = None,
                 ready_timeout: float = 180.0, settle_timeout: float = 90.0) -> None:
        self.home, self.config, self.console = home, config, console
        self.port = port or _free_port()
        self.ready_timeout, self.settle_timeout = ready_timeout, settle_timeout
        self.env = {"PETITIONS_HOME": str(home), "PETITIONS_CONFIG_DIR": str(config),
                    "PETITIONS_SIMULATED_CLOCK": "1", "PETITIONS_PREFECT_PORT": str(self.port),
                    # the script sweeps and delivers at each moment itself
                    "PETITIONS_SWEEP_SECONDS": "86400", "PETITIONS_SEND_SECONDS": "86400"}
        self.proc: subprocess.Popen[bytes] | None = None
        self.refs: dict[str, str] = {}      # alias -> case id
        self.seen: dict[str, int] = {}      # case id -> events already printed

    # --- the engine ------------------------------------------------------------------
    def start(self) -> None:
        """Point this process at the demo's home and start ``petitions serve``."""
        for name in ("PREFECT_API_URL", "PETITIONS_DATABASE_URL"):
            os.environ.pop(name, None)  # the demo never touches a real office
        os.environ.update(self.env)
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
        from flows.bootstrap import bootstrap
        from flows.clock import FileClock
        from flows.config import Settings
        from flows.prefect_env import api_url, configure

        self.home.mkdir(parents=True, exist_ok=True)
        self.settings = Settings()
        bootstrap(self.settings, migrate=True)  # the office loads; the schema exists
        self.clock = FileClock(self.home / "clock")
        self.clock.set(START)
        configure(self.settings)
        self.api = api_url(self.settings)
        log = self.home / "serve.log"
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", "from flows.cli import main; main()", "serve"],
                env={**os.environ}, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL)
        started = time.monotonic()
        with self.console.status("starting the engine (Prefect server, deployments)") as s:
            while not self._deployed():
                waited = time.monotonic() - started
                if self.proc.poll() is not None:
                    raise ConfigError(f"`petitions serve` exited with {self.proc.returncode}",
                                      source=str(log))
                if waited > self.ready_timeout:
                    raise ConfigError(f"the engine was not ready within {waited:.0f} s",
                                      source=str(log))
                s.update(f"starting the engine (Prefect server, deployments): {waited:.0f} s")
                time.sleep(0.5)
        self.console.print(f"engine ready in {time.monotonic() - started:.0f} s: "
                           f"{self.api.removesuffix('/api')}", highlight=False)
        from flows.tasks import app

        self.app = app()

    def _deployed(self) -> bool:
        import json
        import urllib.request

        try:
            with urllib.request.urlopen(f"{self.api}/deployments/name/"
                                        "petition-lifecycle/lifecycle", timeout=2) as r:
                return bool(json.loads(r.read()).get("id"))
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    # --- the script ------------------------------------------------------------------
    def play(self, script: tuple[Moment, ...] = SCRIPT) -> None:
        from flows.lifecycle import sweeper

        for moment in script:
            at = self.clock.set(moment.at).in_timezone("Asia/Shanghai")
            self.console.rule(f"第{moment.day}天 {at.format('YYYY-MM-DD')} 周"
                              f"{WEEKDAYS[at.weekday()]} {at.format('HH:mm')}"
                              + (f"  {moment.caption}" if moment.caption else ""),
                              align="left", style="dim")
            asyncio.run(sweeper())
            for alias in moment.intake:
                self._intake(alias)
            for do in moment.acts:
                self._act(do)
            self._print_new()
            self._deliver()
        self.settle()

    def _deliver(self) -> None:
        """The outbox, as the served engine's sender would deliver it now (.eml files)."""
        from flows.outbox import deliver, queue_digests

        queue_digests(self.app)
        report = deliver(self.app)
        if report.counts:
            self.console.print(f"  outbox: {report}", highlight=False, style="dim")

    def _intake(self, alias: str) -> None:
        from flows import services
        from flows.lifecycle import intake

        number = services.new_registration_no(self.app)
        routed = asyncio.run(intake(petition=PETITIONS[alias], registration_no=number,
                                    actor=CLERK))
        self.refs[alias] = routed["case_id"]

    def _case(self, alias: str) -> Case:
        with self.app.uow() as uow:
            return uow.cases.get(self.refs[alias], lock=False)

    def _who(self, case: Case, who: str) -> str:
        if who == "@responder":
            return str(case.responder)
        if who == "@leader":
            return str(case.leader)
        if who == "@head":
            return str(self.app.office.org.units[str(case.unit)].head)
        return who

    def _act(self, do: Do) -> None:
        from flows import services
        from flows.runs import wake

        case = self._wait_until_waiting(self.refs[do.case])  # its run is at the current form
        fields: dict[str, Any] = {k: self._who(case, v) if isinstance(v, str) else v
                                  for k, v in do.fields.items()}
        req = ActRequest(do.act, self._who(case, do.who),
                         request_id=f"demo:{case.id}:{case.version}", **fields)
        services.act(self.app, case.id, req)
        run_id = self._run_of(case.id)
        why = wake(run_id, req.as_dict()) if run_id else "no lifecycle run recorded"
        if why:
            self.console.print(f"  note: {case.ref}'s run not resumed now ({why})",
                               highlight=False)


    def _run_of(self, case_id: str) -> str | None:
        with self.app.uow() as uow:
            return uow.run_of(case_id)

    def _waiting(self, case_id: str) -> Case | None:
        """The case, once its lifecycle run is suspended on an open wait in the case's
        current stage (or has ended with the case)."""
        from prefect.client.orchestration import get_client

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
            return case if state.is_completed() else None
        ready = (state.is_paused() and wait.open and wait.stage == case.stage.value
                 and state.state_details.pause_key == wait.key)
        return case if ready else None

    def _wait_until_waiting(self, case_id: str) -> Case:
        case: Case = _poll(lambda: self._waiting(case_id), self.settle_timeout,
                     f"the lifecycle run of {case_id} to wait at its current step")
        return case

    def settle(self) -> None:
        """Wait until every case's run waits at its current step, or has ended."""
        for case_id in self.refs.values():
            self._wait_until_waiting(case_id)

    def _print_new(self) -> None:
        from flows.timeline import event_rows

        for alias, case_id in self.refs.items():
            with self.app.uow() as uow:
                rows = uow.events_of(case_id)
                ref = uow.cases.get(case_id, lock=False).ref
            for e in event_rows(rows)[self.seen.get(case_id, 0):]:
                self.console.print(f"  {ref}  {alias:<10} {e['event']:<18} "
                                   f"{e['actor']:<22} {e['detail']}", highlight=False,
                                   markup=False)
            self.seen[case_id] = len(rows)

    # --- the end -----------------------------------------------------------------------
    def runs(self) -> dict[str, dict[str, int]]:
        """The demo's flow runs on the Prefect server: per flow, how many in each state."""
        from prefect.client.orchestration import get_client

        counts: dict[str, dict[str, int]] = {}
        with get_client(sync_client=True) as client:
            names = {f.id: f.name for f in client.read_flows()}
            offset = 0
            while batch := client.read_flow_runs(limit=200, offset=offset):
                offset += len(batch)
                for run in batch:
                    state = str(run.state.name) if run.state else "unknown"
                    per = counts.setdefault(str(names.get(run.flow_id, run.flow_id)), {})
                    per[state] = per.get(state, 0) + 1
        return counts

    def report(self) -> bool:
        """Print the timelines and where to look. False if a flow run failed or crashed."""
        from flows.timeline import print_case

        now = self.app.clock.now()
        self.console.rule(f"the timelines on day 100 ({format_local(now)})", align="left")
        for case_id in self.refs.values():
            with self.app.uow() as uow:
                case = uow.cases.get(case_id, lock=False)
                rows = uow.events_of(case_id)
            self.console.print()
            print_case(self.console, case, self.app.rules_for(case), now, rows)
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
            f"logs            {home / 'serve.log'}, {home / 'prefect' / 'server.log'}",
            highlight=False, markup=False)
        runs = self.runs()
        for flow_name, states in sorted(runs.items()):
            self.console.print(f"flow runs       {flow_name}: " + ", ".join(
                f"{n} {state}" for state, n in sorted(states.items())), highlight=False)
        bad = sum(n for states in runs.values() for state, n in states.items()
                  if state in ("Failed", "Crashed"))
        if bad:
            self.console.print(f"{bad} flow run(s) failed or crashed: see the logs above",
                               style="bold red")
        return not bad


def _poll(probe: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise ConfigError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.3)
