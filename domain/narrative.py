"""An audit event told as a Chinese sentence, people and units by name: "交办至人力资源部，
首问责任人林娜（经网页）". What pages, the report, the CLI's tables and the timeline artifact
show in an event's 说明 column; the event's data itself (ids) stays in JSON.

``restricted`` leaves out what an event quotes of the petition or of a person's reasoning
(summaries, reasons, notes: ``MATERIAL``), for those who see an accusation's outline only
and for the Prefect UI.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from domain import labels as L
from domain.instants import format_local
from domain.notices import KINDS

# What an event's data may quote of the petition or a person's reasoning.
# The reasons a leader must own a case quote its keywords.
MATERIAL = frozenset({"summary", "reason", "basis", "notice", "note", "detail", "subject",
                      "leader_reasons", "earlier"})


class Names(Protocol):
    """Who and what an id is, for people: a name, never the id itself."""

    def person(self, pid: str) -> str: ...
    def unit(self, uid: str) -> str: ...
    def office(self, oid: str) -> str: ...
    def case(self, cid: str) -> str: ...


def actor(names: Names, who: str) -> str:
    """Who did it: a person's name, or what of the engine did it (``sweeper@host``: the
    sweeper on that host)."""
    engine = L.SYSTEM_ACTORS.get(who) or L.SYSTEM_ACTORS.get(who.split("@", 1)[0])
    return engine or names.person(who)


class _Data:
    """An event's data, read for a sentence: material left out when restricted."""

    def __init__(self, data: Mapping[str, Any], names: Names, restricted: bool) -> None:
        self.d, self.n, self.restricted = data, names, restricted

    def has(self, key: str) -> bool:
        if self.restricted and key in MATERIAL:
            return False
        return self.d.get(key) not in (None, "", [], False)

    def text(self, key: str) -> str:
        return str(self.d[key]) if self.has(key) else ""

    def person(self, key: str) -> str:
        return self.n.person(str(self.d[key])) if self.has(key) else ""

    def people(self, key: str) -> str:
        got = self.d.get(key) or []
        return "、".join(self.n.person(str(p)) for p in got) if isinstance(got, list) else ""

    def unit(self, key: str) -> str:
        return self.n.unit(str(self.d[key])) if self.has(key) else ""

    def label(self, table: Mapping[str, str], key: str) -> str:
        return L.label(table, self.text(key), "") if self.has(key) else ""

    def clock(self) -> str:
        """The deadline an event is about (its clock's kind; ``handling@2``: the second)."""
        key = self.text("kind") or self.text("clock")
        return L.label(L.DEADLINE_KINDS, key.split("@", 1)[0], "期限") if key else "期限"

    def when(self, key: str) -> str:
        value = self.text(key)
        if "T" in value:  # an ISO instant: shown in local time
            return format_local(dt.datetime.fromisoformat(value))
        return value

    def then(self, key: str, before: str = "：") -> str:
        """``before`` and the value, or nothing."""
        return f"{before}{self.text(key)}" if self.has(key) else ""


def _join(*parts: str) -> str:
    return "，".join(p for p in parts if p)


def _decision(d: _Data, what: str) -> str:
    return _join(f"{what}：{d.label(L.OUTCOMES, 'outcome') or '已答复'}",
                 d.label(L.RESOLUTIONS, "resolution")) + d.then("summary")


def _rung(d: _Data) -> str:
    level = d.label(L.RUNG_LEVELS, "level") or "提醒"
    to = d.label(L.ROLES, "reached_as") or d.label(L.ROLES, "role")
    return _join(f"{d.clock()}{level}，送{to}{d.person('recipient')}",
                 f"到期{d.text('due_date')}" if d.has("due_date") else "",
                 f"已超期{L.duration(d.text('overdue'))}" if d.has("overdue") else "",
                 f"承办人{d.person('holder')}" if d.has("holder") else "",
                 f"重点时期：{d.text('key_period')}" if d.has("key_period") else "")


def _registered(d: _Data) -> str:
    many = d.d.get("headcount") or 1
    return _join(f"登记（{d.label(L.CHANNELS, 'channel')}，{d.label(L.CATEGORIES, 'category')}）",
                 f"登记编号{d.text('registration_no')}" if d.has("registration_no") else "",
                 f"{many}人，推选代表{d.text('representatives') or '—'}人"
                 if isinstance(many, int) and many > 1 else "",
                 "重点人员" if d.has("key_person") else "",
                 "由信息员报送的信息转来" if d.has("signal") else "")


def _assigned(d: _Data) -> str:
    return _join(f"交办至{d.unit('unit')}" if d.has("unit") else "交办",
                 f"首问责任人{d.person('responder')}" if d.has("responder") else "",
                 f"包案领导{d.person('leader')}" if d.has("leader") else "",
                 "需领导包案：" + "、".join(map(str, d.d["leader_reasons"]))
                 if d.has("leader_reasons") else "")


def _recused(d: _Data) -> str:
    when = "（分办时）" if d.text("role") == "routing" else ""
    return _join(f"{d.person('person')}回避{when}" + d.then("reason"),
                 f"改由{d.person('replacement')}承办" if d.has("replacement") else "")


def _handed_down(d: _Data) -> str:
    if d.has("to_office"):
        return f"交办{d.n.office(d.text('to_office'))}办理（{d.n.case(d.text('case'))}）"
    ref = d.text("ref") or d.n.case(d.text("case"))
    return f"由{d.n.office(d.text('from_office'))}交办（{ref}）"


def _reception(d: _Data, what: str) -> str:
    return _join(f"{d.text('day')}领导接待日，{d.person('leader')}接待",
                 f"因{d.text('moved')}调整" if d.has("moved") else "",
                 f"已{what}{d.people('recipients')}" if d.has("recipients") else "")


def _zero(d: _Data) -> str:
    told = f"，已告知{d.people('recipients')}" if d.has("recipients") else ""
    return f"{d.unit('unit')}{d.text('day')}未报每日零报告{told}"


def _zero_filed(d: _Data) -> str:
    what = "无情况" if d.d.get("nothing") else f"{d.text('items')}件"
    return (f"{d.unit('unit')}{d.text('day')}零报告：{what}" + ("（迟报）" if d.has("late") else "")
            + d.then("summary", "，"))


def _issue(d: _Data) -> str:
    year, _, week = d.text("issue").partition("-W")
    return f"{year}年第{int(week)}周" if week.isdigit() else d.text("issue")


_Sentence = Callable[[_Data], str]
SENTENCES: dict[str, _Sentence] = {
    "CaseRegistered": _registered,
    "RepeatLinked": lambda d: (f"与此前的信访件{d.n.case(d.text('earlier'))}" if d.has("earlier")
                               else "与此前的一件信访件") + "属重复信访，合并关联",
    "CaseAssigned": _assigned,
    "PersonRecused": _recused,
    "RoutingObjected": lambda d: _join(
        f"交办异议：由{d.unit('from_unit')}改交{d.unit('to_unit')}",
        f"首问责任人{d.person('responder')}" if d.has("responder") else "") + d.then("reason"),
    "ResponseAcknowledged": lambda d: "首问责任人确认收到",
    "CaseAccepted": lambda d: _join("受理" + d.then("notice", "，告知："),
                                    f"报{d.person('leader')}包案" if d.has("leader") else ""),
    "CaseDeclined": lambda d: "不予受理" + d.then("reason"),
    "LeaderNamed": lambda d: f"指定{d.person('leader')}为包案领导" + d.then("reason"),
    "LeaderAccepted": lambda d: "包案领导接案",
    "ClockPaused": lambda d: f"{d.clock()}中止计时（{d.label(L.PAUSE_REASONS, 'reason') or '—'}）"
                             + d.then("basis"),
    "ClockResumed": lambda d: f"{d.clock()}恢复计时"
                              + (f"，共中止{L.duration(d.text('paused_for'))}"
                                 if d.has("paused_for") else ""),
    "DeadlineExtended": lambda d: _join(
        f"{d.clock()}延长{d.text('by')}", f"延至{d.text('new_due')}" if d.has("new_due") else "",
        f"应{d.person('requested_by')}申请" if d.has("requested_by") else "",
        f"{d.person('approver')}批准" if d.has("approver") else "") + d.then("reason"),
    "ExtensionRequested": lambda d: (
        f"申请将{d.clock()}延长{d.text('by')}" + (f"（理由：{d.text('reason')}）"
                                                 if d.has("reason") else "")
        + (f"，待{d.people('notify')}或其上级审批" if d.d.get("notify") else "")),
    "ExtensionRefused": lambda d: (f"不批准{d.person('requested_by')}申请的延期{d.text('by')}"
                                   + d.then("reason")),
    "ReportRequested": lambda d: f"要求{d.people('to') or '承办人'}报告办理情况" + d.then("note"),
    "CaseListed": lambda d: _join(
        f"{d.text('body')}挂牌督办（{d.text('reference')}）",
        f"要求{d.text('required')}前办结", f"每{d.text('every')}日报告一次"),
    "ListerReported": lambda d: (f"向{d.text('body')}报告办理情况" + d.then("summary")
                                 + (f"，下次报告{d.text('next_due')}前"
                                    if d.has("next_due") else "")),
    "DecisionIssued": lambda d: _decision(d, "书面答复"),
    "CaseRated": lambda d: f"信访人评价：{d.label(L.RATINGS, 'rating') or '—'}",
    "RatingExpired": lambda d: f"评价期{d.text('ended')}届满，信访人未评价",
    "WindowLapsed": lambda d: f"{d.clock()}{d.text('ended')}届满",
    "ReviewRequested": lambda d: "申请复查" + d.then("reason") + (
        f"；由{d.n.office(d.text('decided_by_office'))}复查" if d.has("decided_by_office")
        else ""),
    "ReviewDecided": lambda d: _decision(d, "复查意见"),
    "ReReviewRequested": lambda d: "申请复核" + d.then("reason"),
    "ReReviewDecided": lambda d: _decision(d, "复核意见"),
    "CaseStruckOff": lambda d: "销号" + d.then("note"),
    "CaseWithdrawn": lambda d: "信访人撤回" + d.then("reason"),
    "Imported": lambda d: f"由台账《{d.text('file')}》第{d.text('row')}行导入" + (
        f"，台账所记办理进度：{d.label(L.STAGES, 'stage_reached')}" if d.has("stage_reached")
        else ""),
    "DeadlineReminder": _rung,
    "DeadlineWarning": _rung,
    "DeadlineBreached": _rung,
    "Escalated": _rung,
    "EscalationRoleUnresolved": lambda d: (
        f"{d.clock()}升级对象{d.label(L.ROLES, 'role')}缺位" + d.then("reason", "（")
        + ("）" if d.has("reason") else "") + f"，改送{d.label(L.ROLES, 'went_to')}"),
    "CompletionReported": lambda d: (f"{d.clock()}完成任务报告"
                                     + (f"（应{d.person('requested_by')}要求）"
                                        if d.has("requested_by") else "") + d.then("summary")),
    "RungFailed": lambda d: _join(
        f"{d.clock()}的提醒未能发出（第{d.text('attempt') or 1}次）" + d.then("reason"),
        f"{d.when('retry_at')}重试" if d.has("retry_at") else ""),
    "RoutingFailed": lambda d: "无法按规则分办，转入待分办" + d.then("reason"),
    "DueDateRevised": lambda d: f"{d.clock()}期限随节假日安排由{d.text('old_due')}"
                                f"调整为{d.text('new_due')}",
    "ReferredUp": lambda d: f"{d.n.office(d.text('from_office'))}的信访件"
                            f"{d.text('ref') or d.n.case(d.text('case'))}提请本级办理",
    "HandedDown": _handed_down,
    "ReturnedUp": lambda d: _decision(d, f"{d.n.office(d.text('from_office'))}办结回复"),
    "NoticePrinted": lambda d: "打印" + (KINDS[d.text("kind")].title if d.text("kind") in KINDS
                                         else "书面告知") + d.then("number", "，编号"),
    # The kind is the file list's: a restricted reader (an outline's) hears only of a file.
    "FileAttached": lambda d: "添加附件" + (f"：{d.label(L.FILE_KINDS, 'kind')}"
                                            if d.has("kind") and not d.restricted else ""),
    "FileWithdrawn": lambda d: "撤回一个附件" + d.then("reason"),
    "ReceptionAnnounced": lambda d: _reception(d, "通知"),
    "ReceptionReminded": lambda d: _reception(d, "提醒"),
    "KeyPersonAdded": lambda d: _join(
        "列为重点人员" + d.then("reason"),
        f"四包一：{d.person('leader')}、{d.person('unit_head')}、{d.person('responder')}、"
        f"{d.text('contact_name')}", f"稳控状态{d.label(L.KEY_PERSON_STATES, 'state')}"),
    "KeyPersonContacted": lambda d: _join(
        f"{d.person('by')}{d.label(L.KEY_PERSON_CONTACTS, 'kind')}",
        f"{d.when('on')}于{d.text('place')}") + d.then("agreed", "，商定："),
    "KeyPersonStateChanged": lambda d: (
        f"稳控状态由{d.label(L.KEY_PERSON_STATES, 'from')}改为"
        f"{d.label(L.KEY_PERSON_STATES, 'state')}" + d.then("reason")),
    "KeyPersonHoldersChanged": lambda d: _join(
        f"四包一调整为：{d.person('leader')}、{d.person('unit_head')}、{d.person('responder')}、"
        f"{d.text('contact_name')}") + d.then("reason"),
    "KeyPersonSettled": lambda d: _join(f"{d.text('on')}息访",
                                        f"息访承诺书{d.text('file_name')}") + d.then("note"),
    "OverTheHead": lambda d: _join(
        f"{d.text('reported_by')}通报越级上访", f"{d.text('on')}到{d.text('place')}")
        + d.then("note"),
    "BroughtBack": lambda d: _join(f"{d.person('by')}劝返", d.when("on")) + d.then("note"),
    "ZeroReportFiled": _zero_filed,
    "ZeroReportMissing": _zero,
    "ZeroReportOverdue": _zero,
    "SignalRecorded": lambda d: _join(f"{d.unit('unit')}，风险{d.label(L.RISKS, 'risk')}",
                                      d.text("summary")),
    "SignalDigested": lambda d: f"编入《信访信息参考》{_issue(d)}"
                                + (f"，报送{d.people('readers')}" if d.has("readers") else ""),
    "SignalPromoted": lambda d: "登记为信访件" + d.then("ref", ""),
    "ReviewRecorded": lambda d: f"记录排查例会（{d.text('held_on')}，{d.person('chair')}主持）",
    "ReviewMeasureReminded": lambda d: f"例会措施到期提醒{d.person('recipient')}，"
                                       f"{d.text('due')}前完成",
    "ReviewMeasureBreached": lambda d: f"例会措施逾期未完成（{d.person('owner')}负责），"
                                       f"告知{d.person('recipient')}",
    "ReviewMeasureDone": lambda d: "例会措施完成" + d.then("note"),
    "PasswordSet": lambda d: "设置了工作台密码",
    "LoginFailed": lambda d: f"密码错误，连续第{d.text('failed') or 1}次",
    "TokenCreated": lambda d: f"创建接口令牌，以{d.person('acts_as')}的身份办理",
    "TokenRevoked": lambda d: "吊销接口令牌",
    "AccountLocked": lambda d: f"连续{d.text('failed') or 100}次密码错误，账号已锁定，已告警",
    "AccountUnlocked": lambda d: "账号已解锁",
    "EngineChildRestarted": lambda d: "引擎部件停止后已重新启动",
    "SweepsStopped": lambda d: "期限巡查中断，已告警",
    "SweepsResumed": lambda d: "期限巡查已恢复",
}


def describe(event: str, data: Mapping[str, Any], names: Names, *,
             restricted: bool = False) -> str:
    """The 说明 of one audit event (``event``: its stored type), in Chinese: what happened,
    people and units by name, how it came in (经网页/命令行/接口) and for whom."""
    d = _Data(data, names, restricted)
    sentence = SENTENCES.get(event)
    text = sentence(d) if sentence else L.label(L.EVENTS, event, "")
    how = _join("代信访人录入" if d.text("on_behalf_of") == "petitioner" else "",
                L.via(d.text("via")))
    return f"{text}（{how}）" if how else text


def events_named() -> Iterable[str]:
    """The event types that have a sentence of their own."""
    return SENTENCES.keys()
