"""The demo's script: four petitions at the sample coal mine, and who does what on which of
about 100 days. It holds no outcome: who responds, which leader owns a case, when a deadline
falls due and which rungs fire all come from the office's configuration, the calendar and the
domain."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pendulum

from domain.acts import Act
from domain.instants import at_local

START = at_local(2026, 8, 3, 9, 0)  # a Monday
CLERK = "qian.hui"
# The petitioner's own acts (rating, asking for a review) are entered by the petition
# office for them; the audit trail says so. ``ONLINE``: the petitioner takes it themself at
# the public door (网上信访), signed in with an SMS code (``cli.demo_door``).
FOR_PETITIONER = CLERK
ONLINE = "@online"

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


# Submitted by the petitioner at the public door (the door's form, and their mobile).
ONLINE_PETITIONS: dict[str, dict[str, Any]] = {
    "canteen": {"name": "赵秀兰", "phone": "13655556666", "category": "complaint",
                "subject": "职工食堂夜班餐供应时间过短",
                "content": "夜班职工下井前食堂只供餐二十分钟，常有人吃不上饭，"
                           "请延长夜班餐供应时间。",
                "concerns_unit": "logistics"},
}


@dataclass(frozen=True)
class Do:
    """One person's action in the script. ``who`` is a person id or a role of the case:
    ``@responder``, ``@leader``, ``@head`` (the unit's head), ``@unit_leader`` (its leader
    in charge, who decides a review: the level above the unit that decided)."""

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
    online: tuple[str, ...] = ()  # submitted at the public door (``ONLINE_PETITIONS``)
    office: tuple[str, ...] = ()  # the office's own work (``cli.demo_office.STEPS``)

    @property
    def at(self) -> pendulum.DateTime:
        hour, minute = map(int, self.time.split(":"))
        return START.add(days=self.day).set(hour=hour, minute=minute)


COUNTER: tuple[Moment, ...] = (
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
    Moment(1, "15:00", "挂牌督办: the province lists the group visit, to be closed by "
           "2026-11-02 with a report every 30 days",
           acts=(Do("group", Act.LIST_CASE, CLERK, {
               "body": "省信访局", "reference": "鲁信督〔2026〕8号", "required": "2026-11-02",
               "days": 30}),)),
    Moment(10, "09:30", "重复信访: the wage complainant comes back in person",
           intake=("repeat",)),
    Moment(10, "11:00", "", acts=(Do("repeat", Act.ACK),)),
    Moment(10, "15:00", "", acts=(Do("repeat", Act.ACCEPT,
                                     fields={"reason": "与首次来信合并办理"}),)),
    Moment(11, "10:00", "", acts=(Do("repeat", Act.LEADER_ACCEPT, "@leader"),)),
    Moment(11, "14:00", "重点人员: the wage complainant, back in person, is named a key "
           "person (四包一)", office=("key_person",)),
    Moment(12, "10:00", "约访: the leader in charge talks with him", office=("invite",)),
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
           acts=(Do("wage", Act.RATE, FOR_PETITIONER, {"rating": "not_satisfied"}),
                 Do("repeat", Act.RATE, FOR_PETITIONER, {"rating": "satisfied"}))),
    Moment(24, "16:00", "销号: the repeat letter is struck off",
           acts=(Do("repeat", Act.STRIKE_OFF, CLERK, {"reason": "已合并答复，信访人满意"}),)),
    Moment(28, "09:00", "复查: the wage complainant asks for a review",
           acts=(Do("wage", Act.REQUEST_REVIEW, FOR_PETITIONER,
                    {"reason": "补发金额未含夜班津贴"}),)),
    Moment(29, "16:00", "挂牌督办: the first report to the province",
           acts=(Do("group", Act.REPORT_TO_LISTER, "@leader", {
               "summary": "已委托第三方鉴定，住户临时安置方案已落实"}),)),
    Moment(35, "09:00", "half the 60 days gone: reminders to the first responders"),
    Moment(45, "09:00", "the review is half-way"),
    Moment(50, "10:00", "延期: the group case needs a survey; its unit head approves 30 more days",
           acts=(Do("group", Act.EXTEND, "@head", fields={
               "days": 30, "reason": "需委托第三方鉴定房屋开裂与采动的关系"}),)),
    Moment(55, "16:00", "完成任务报告: the review's handler reports back",
           acts=(Do("wage", Act.REPORT, fields={"summary": "已复核夜班考勤，津贴差额属实"}),)),
    Moment(56, "10:00", "80 %: warnings to the unit heads; 复查意见: the review finds for "
           "the petitioner",
           acts=(Do("wage", Act.DECIDE_REVIEW, "@unit_leader", fields={
               "outcome": "support", "summary": "补发夜班津贴640元",
               "resolution": "resolved"}),)),
    Moment(58, "10:00", "排查例会: the quarter's risk review, one measure for the head of "
           "production", office=("review",)),
    Moment(58, "16:00", "挂牌督办: the second report to the province",
           acts=(Do("group", Act.REPORT_TO_LISTER, "@leader", {
               "summary": "鉴定进行中，预计10月下旬出具报告"}),)),
    Moment(67, "09:00", "after the National Day holiday: the accusation is overdue"),
    Moment(70, "09:00", "three days late: escalated to the owning leader"),
    Moment(74, "09:00", "seven days late: escalated to the mine head"),
    Moment(76, "17:00", "完成任务报告: the accusation's handler reports the inquiry done",
           acts=(Do("accusation", Act.REPORT, fields={"summary": "调查取证完毕，报纪委审议"}),)),
    Moment(77, "09:30", "例会措施: reminded on day 76, its owner reports it done",
           office=("measure_done",)),
    Moment(77, "10:00", "书面答复: the accusation is answered, late",
           acts=(Do("accusation", Act.CLOSE, fields={
               "outcome": "support", "resolution": "resolved",
               "summary": "经查基本属实，责令整改并给予综采一队队长警告处分"}),)),
    Moment(84, "16:00", "完成任务报告: the survey is in",
           acts=(Do("group", Act.REPORT, "@leader",
                    fields={"summary": "第三方鉴定报告已出，维修方案已定"}),)),
    Moment(85, "10:00", "书面答复: the group case, within its extended limit and before the "
           "province's date; the two poorest households also get hardship aid",
           acts=(Do("group", Act.CLOSE, fields={
               "outcome": "support", "resolution": "assisted",
               "summary": "鉴定为采动影响，矿方承担12至15号楼加固维修；两户困难家庭给予救助"}),)),
    Moment(88, "10:00", "评价: the representatives are satisfied",
           acts=(Do("group", Act.RATE, FOR_PETITIONER, {"rating": "satisfied"}),)),
    Moment(88, "16:00", "销号", acts=(Do("group", Act.STRIKE_OFF, CLERK,
                                       {"reason": "维修完毕，代表签字确认"}),)),
    Moment(91, "10:00", "销号: no re-review was asked for within 30 days",
           acts=(Do("wage", Act.STRIKE_OFF, CLERK, {"reason": "复核申请期届满"}),)),
    Moment(100, "09:00", "day 100"),
)
# A petitioner at the public door: submitted online, handled as any other, rated online.
_ONLINE: tuple[Moment, ...] = (
    Moment(2, "09:00", "网上信访: a petitioner submits online (signed in with an SMS code)",
           online=("canteen",)),
    Moment(2, "11:00", "", acts=(Do("canteen", Act.ACK),)),
    Moment(2, "15:00", "", acts=(Do("canteen", Act.ACCEPT, fields={"reason": "网上答复受理"}),)),
    Moment(9, "16:00", "", acts=(Do("canteen", Act.REPORT,
                                    fields={"summary": "夜班餐供应延长至一小时"}),)),
    Moment(10, "16:30", "书面答复: the online petition is answered",
           acts=(Do("canteen", Act.CLOSE, fields={
               "outcome": "support", "resolution": "resolved",
               "summary": "自下月起夜班餐供应时间延长至一小时"}),)),
    Moment(12, "10:00", "网上评价: the petitioner rates the answer online",
           acts=(Do("canteen", Act.RATE, ONLINE, {"rating": "satisfied"}),)),
    Moment(12, "16:00", "", acts=(Do("canteen", Act.STRIKE_OFF, CLERK,
                                     {"reason": "信访人网上评价满意"}),)),
)
SCRIPT: tuple[Moment, ...] = tuple(sorted(COUNTER + _ONLINE, key=lambda m: (m.day, m.time)))

# The same hundred days at a mine of a group (``deploy/group``): the wage review is not
# decided inside the mine but by the group's petition office, in a case of its own.
GROUP_CLERK = "sx.pan"
REVIEW = "wage-review"  # the group's case, opened by the mine's review request


def group_script() -> tuple[Moment, ...]:
    """``SCRIPT`` with the review decided a level up: the group's office routes the review
    case to its legal department, whose responder accepts it, reports and issues the
    review opinion; it comes back to the mine's case."""
    replaced = {
        (55, "16:00"): Moment(55, "16:00", "完成任务报告: the group's review handler reports",
                              acts=(Do(REVIEW, Act.REPORT,
                                       fields={"summary": "已调阅夜班考勤，津贴差额属实"}),)),
        (56, "10:00"): Moment(56, "10:00", "80 %: warnings to the unit heads; 复查意见: the "
                              "group's office finds for the petitioner, and the mine's case "
                              "is reviewed",
                              acts=(Do(REVIEW, Act.CLOSE, fields={
                                  "outcome": "support", "summary": "补发夜班津贴640元",
                                  "resolution": "resolved"}),)),
    }
    extra = (
        Moment(29, "10:00", "复查 at the group: its legal department's responder replies and "
               "accepts the review", acts=(Do(REVIEW, Act.ACK), Do(REVIEW, Act.ACCEPT, fields={
                   "reason": "复查申请已受理，告知书已送达"}))),
        Moment(60, "10:00", "评价, 销号: the group's review case",
               acts=(Do(REVIEW, Act.RATE, GROUP_CLERK, {"rating": "satisfied"}),
                     Do(REVIEW, Act.STRIKE_OFF, GROUP_CLERK,
                        {"reason": "复查意见已送达，信访人满意"}))),
    )
    # The group's sample mine keeps its door closed: the counter's story alone.
    moments = [replaced.get((m.day, m.time), m) for m in COUNTER] + list(extra)
    return tuple(sorted(moments, key=lambda m: (m.day, m.time)))
