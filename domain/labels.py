"""One table of labels: every stage, event, state, act, reason, channel, category, outcome,
relation, role and rung level named once, in Chinese (as Django's ``TextChoices`` name each
value beside it). Pages, the report, notices, messages and the CLI's human output read these;
ids appear only in JSON and logs (with these labels beside them).

Keyed by the enums' stored values, so this module imports nothing and every enum's ``label``
reads it (``Stage.HANDLING.label``), and stored rows (an audit event's ``type`` and ``stage``
are strings) are labelled without parsing them back into enums. ``tests/unit/test_labels.py``
walks every enum and fails on a value without a label here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

STAGES: Mapping[str, str] = {
    "registered": "已登记", "assigned": "已交办首问", "acknowledged": "首问已复命",
    "leader_pending": "待领导接案", "handling": "办理中", "decided": "已书面答复",
    "rated": "已评价", "under_review": "复查中", "reviewed": "已复查",
    "under_re_review": "复核中", "re_reviewed": "已复核", "closed": "已销号",
}

EVENTS: Mapping[str, str] = {
    "CaseRegistered": "登记", "RepeatLinked": "重复信访关联", "CaseAssigned": "交办",
    "PersonRecused": "回避", "RoutingObjected": "交办异议", "ResponseAcknowledged": "首问复命",
    "CaseAccepted": "受理", "CaseDeclined": "不予受理", "LeaderNamed": "指定包案领导",
    "LeaderAccepted": "领导接案", "ClockPaused": "中止计时", "ClockResumed": "恢复计时",
    "DeadlineExtended": "延期", "DecisionIssued": "书面答复", "CaseRated": "满意度评价",
    "RatingExpired": "评价期满未评价", "WindowLapsed": "申请期届满",
    "ReviewRequested": "申请复查", "ReviewDecided": "复查意见",
    "ReReviewRequested": "申请复核", "ReReviewDecided": "复核意见", "CaseStruckOff": "销号",
    "CaseWithdrawn": "撤回", "DeadlineReminder": "期限提醒", "DeadlineWarning": "期限预警",
    "DeadlineBreached": "超期", "Escalated": "升级督办",
    "EscalationRoleUnresolved": "升级对象缺位", "CompletionReported": "完成任务报告",
    "ExtensionRequested": "申请延期", "ExtensionRefused": "不批准延期",
    "ReportRequested": "要求报告", "CaseListed": "挂牌督办", "ListerReported": "向督办机关报告",
    "KeyPersonAdded": "列为重点人员", "KeyPersonContacted": "约访下访",
    "KeyPersonStateChanged": "稳控状态变更", "KeyPersonSettled": "息访",
    "KeyPersonHoldersChanged": "四包一调整",
    "OverTheHead": "越级上访", "BroughtBack": "劝返",
    "RungFailed": "提醒未能发出", "RoutingFailed": "转入待分办",
    "DueDateRevised": "期限随节假日调整", "ReferredUp": "提请上级办理",
    "HandedDown": "交办下级", "ReturnedUp": "下级办结回复", "NoticePrinted": "打印书面告知",
    "FileAttached": "添加附件", "FileWithdrawn": "撤回附件", "Imported": "台账导入",
    "ReceptionAnnounced": "接待日通知", "ReceptionReminded": "接待日提醒",
    "ZeroReportFiled": "零报告", "ZeroReportMissing": "零报告未报（告知负责人）",
    "ZeroReportOverdue": "零报告逾期（告知信访办）", "SignalRecorded": "信息员报送",
    "SignalDigested": "编入《信访信息参考》", "SignalPromoted": "转为信访件登记",
    "ReviewRecorded": "排查例会记录", "ReviewMeasureReminded": "例会措施到期提醒",
    "ReviewMeasureBreached": "例会措施逾期督办", "ReviewMeasureDone": "例会措施完成",
    "PasswordSet": "设置密码", "LoginFailed": "登录失败", "TokenCreated": "创建接口令牌",
    "TokenRevoked": "吊销接口令牌", "AccountLocked": "账号锁定", "AccountUnlocked": "账号解锁",
    "EngineChildRestarted": "引擎部件重启",
    "SweepsStopped": "期限巡查中断", "SweepsResumed": "期限巡查恢复",
}

# What a person does (``domain.acts.Act``): the verbs of the workplace's buttons.
ACTS: Mapping[str, str] = {
    "ack": "首问复命", "accept": "受理", "decline": "不予受理", "assign_leader": "指定包案领导",
    "leader_accept": "领导接案", "pause": "中止计时", "resume": "恢复计时", "extend": "延期",
    "request_extension": "申请延期", "approve_extension": "批准延期",
    "refuse_extension": "不批准延期", "request_report": "要求报告",
    "list_case": "挂牌督办", "report_to_lister": "向督办机关报告",
    "close": "办结答复", "rate": "满意度评价", "request_review": "申请复查",
    "decide_review": "复查决定", "request_re_review": "申请复核",
    "decide_re_review": "复核决定", "strike_off": "销号", "report": "完成任务报告",
    "withdraw": "撤回", "assign": "分办", "hand_down": "交办下级",
}

# The domain's moves (``domain.stages.Action``), named where a refusal names one.
ACTIONS: Mapping[str, str] = {
    "assign": "交办", "object_routing": "交办异议", "acknowledge": "首问复命",
    "accept": "受理", "accept_for_leader": "受理并报领导包案", "decline": "不予受理",
    "name_leader": "指定包案领导", "leader_accept": "领导接案", "pause_clock": "中止计时",
    "resume_clock": "恢复计时", "extend": "延期",
    "request_extension": "申请延期", "answer_extension": "审批延期", "request_report": "要求报告",
    "list_case": "挂牌督办", "report_to_lister": "向督办机关报告",
    "decide": "书面答复", "rate": "评价",
    "expire_rating": "评价期满", "request_review": "申请复查", "decide_review": "复查决定",
    "request_re_review": "申请复核", "decide_re_review": "复核决定", "strike_off": "销号",
    "recuse": "回避", "fire_rung": "期限提醒", "report_completion": "完成任务报告",
    "withdraw": "撤回", "hand_down": "交办下级",
}

DEADLINE_KINDS: Mapping[str, str] = {
    "acceptance_notice": "受理告知", "first_response": "首问复命",
    "routing_objection": "交办异议期", "leader_acceptance": "领导包案接案",
    "handling": "限时办结", "rating": "满意度评价期", "review_request": "复查申请期",
    "review_decision": "复查办理", "re_review_request": "复核申请期",
    "re_review_decision": "复核办理", "listed": "挂牌督办办结期限",
    "listing_report": "向督办机关报告期限",
}

DEADLINE_STATES: Mapping[str, str] = {
    "pending": "进行中", "paused": "已中止计时", "met": "按期完成", "breached": "超期",
    "open": "期间内", "used": "已行使", "lapsed": "期满", "cancelled": "已撤销",
}

PAUSE_REASONS: Mapping[str, str] = {
    "hearing": "听证", "awaiting_materials": "等待补充材料", "appraisal": "鉴定检测",
}

OUTCOMES: Mapping[str, str] = {
    "support": "支持", "explain": "解释说明", "reject": "不予支持", "mediated": "调解达成协议",
}

RATINGS: Mapping[str, str] = {
    "satisfied": "满意", "basically": "基本满意", "not_satisfied": "不满意",
    "expired_unrated": "超期未评价",
}

RESOLUTIONS: Mapping[str, str] = {
    "resolved": "解决问题到位", "explained": "思想教育到位", "assisted": "帮扶救助到位",
}

CHANNELS: Mapping[str, str] = {
    "letter": "来信", "visit": "来访", "online": "网上信访", "phone": "电话",
    "reception": "领导接待日",
}

CATEGORIES: Mapping[str, str] = {
    "suggestion": "建议意见类", "accusation": "检举控告类", "complaint": "申诉求决类",
}

# The 督查 page's and the report's charts (``services/glance.py``), by key.
CHARTS: Mapping[str, str] = {
    "by_channel": "近12个月每月信访量（按渠道）", "by_category": "近12个月每月信访量（按类别）",
    "on_time_by_unit": "各单位按期办结率", "on_time_by_office": "各信访部门按期办结率",
    "overdue_ageing": "超期未结信访件（按超期时长）",
    "rates": "近12个月满意率与重复信访率", "targets": "目标与实际",
}

# How long an open case is past its due, as the ageing chart groups them.
OVERDUE_AGES: Mapping[str, str] = {
    "under_7": "不足7天", "7_30": "7至30天", "30_90": "30至90天", "over_90": "90天以上",
}

RELATIONS: Mapping[str, str] = {
    "office_staff": "信访办工作人员", "office_head": "信访办负责人", "responder": "首问责任人",
    "unit_head": "承办单位负责人", "unit_leader": "承办单位分管领导",
    "owning_leader": "包案领导", "reviewer": "复查机关（承办单位上一级）",
    "re_reviewer": "复核机关（再上一级）", "top": "矿长、党委书记（已升级至本人）",
    "petitioner": "信访人本人（网上信访，已验证手机号）",
    "approver": "延期申请的审批人（承办单位负责人或以上）",
}

ROLES: Mapping[str, str] = {
    "responder": "首问责任人", "unit_head": "责任单位负责人", "owning_leader": "包案领导",
    "mine_head": "矿长", "party_secretary": "党委书记", "beyond_top": "上级机关",
}

RUNG_LEVELS: Mapping[str, str] = {
    "reminder": "提醒", "warning": "预警", "breach": "超期告知", "escalation": "升级督办",
}

RISKS: Mapping[str, str] = {"low": "一般", "medium": "较大", "high": "重大"}

# What an attached file is to its case (``domain.attachments.FileKind``).
FILE_KINDS: Mapping[str, str] = {"letter_scan": "来信扫描件", "photo": "照片", "evidence": "证据",
                                 "signed_decision": "签字决定书", "undertaking": "息访承诺书",
                                 "other": "其他"}

REVIEW_MEASURE_KINDS: Mapping[str, str] = {"measure": "措施", "plan": "预案"}

REVIEW_MEASURE_STATES: Mapping[str, str] = {
    "open": "未到期", "overdue": "逾期未完成", "on_time": "按期完成", "late": "逾期完成",
}

TARGET_VERDICTS: Mapping[str, str] = {"met": "达标", "not_met": "未达标", "no_data": "无数据"}

TARGET_KEYS: Mapping[str, str] = {
    "closure": "结案率", "on_time_closure": "按期办结率", "timely_acceptance": "及时受理率",
    "first_time_resolution": "初信初访化解率", "satisfaction": "满意率", "participation": "参评率",
    "repeat_rate": "重复信访率", "group_visits": "集体访", "over_the_head": "越级上访",
}

PERIOD_UNITS: Mapping[str, str] = {
    "days": "日", "working_days": "个工作日", "hours": "小时", "working_hours": "个工作小时",
}

# The kinds of message the outbox sends (``notifications``), as a leader's board lists them.
MESSAGE_KINDS: Mapping[str, str] = {
    "assignment": "交办通知", "reminder": "期限提醒", "warning": "期限预警",
    "breach": "超期告知", "escalation": "升级督办", "leader_request": "包案请求",
    "extension": "延期告知", "due_revised": "期限调整", "digest": "每日摘要",
    "alert": "告警", "dead_letter": "投递失败", "acceptance_notice": "受理告知",
    "decline_notice": "不予受理告知", "decision_notice": "答复意见",
    "extension_notice": "延期告知书", "rating_request": "评价邀请",
    "reception_notice": "接待日通知", "reception_reminder": "接待日提醒",
    "signal_digest": "《信访信息参考》", "zero_report_missing": "零报告未报",
    "zero_report_overdue": "零报告逾期", "online_registered": "网上信访登记告知",
    "extension_request": "延期待审批", "extension_refused": "延期未获批准",
    "report_request": "要求报告", "report_filed": "已报告", "case_listed": "挂牌督办",
    "review_measure_reminder": "例会措施提醒", "review_measure_breach": "例会措施逾期",
}

# The title a group robot's post opens with (【信访超期升级督办】高建), per message kind.
MESSAGE_TITLES: Mapping[str, str] = {
    "assignment": "新分办信访件", "reminder": "信访期限提醒", "warning": "信访期限预警",
    "breach": "信访期限已超期", "escalation": "信访超期升级督办", "extension": "信访办理期限已延期",
    "extension_request": "延期申请待审批", "extension_refused": "延期申请未获批准",
    "report_request": "领导要求报告办理情况", "report_filed": "承办人已报告",
    "case_listed": "信访件被挂牌督办",
    "leader_request": "领导包案待确认", "due_revised": "信访期限调整",
    "digest": "每日在办信访件", "dead_letter": "消息未送达", "alert": "信访提醒",
    "reception_notice": "领导接待日通知", "reception_reminder": "领导接待日提醒",
    "zero_report_missing": "每日零报告未报", "zero_report_overdue": "每日零报告逾期",
    "signal_digest": "信访信息参考",
    "review_measure_reminder": "例会措施到期提醒", "review_measure_breach": "例会措施逾期督办",
}

# How a change came in (an event's ``via``, ``<channel>:<who>``): the channel only, never
# the session, the OS user or the token's name after the colon.
VIAS: Mapping[str, str] = {
    "web": "经网页", "cli": "经命令行", "api": "经接口", "prefect-ui": "经流程表单",
    "demo": "演示脚本", "public": "经公众查询", "online": "经网上信访",
}

# The engine's own actors: what did it when no person did.
SYSTEM_ACTORS: Mapping[str, str] = {
    "sweeper": "期限巡查", "intake": "登记分办", "lifecycle": "办理流程",
    "calendar": "节假日日历", "reconcile": "流程核对", "preview": "预分办",
    "demo": "演示脚本", "engine": "引擎", "watchdog": "巡查守护", "practices": "日常工作",
    "petitioner": "信访人", "system": "系统", "online": "网上信访",
}


# How each measure (``domain.measures``) is computed, as a return or a workbook says it.
MEASURE_FORMULAS: Mapping[str, str] = {
    "closure": "办结件数 ÷ 收到件数",
    "on_time_closure": "按期办结件数 ÷ 办结件数",
    "timely_acceptance": "15日内书面告知受理件数 ÷ 收到件数",
    "first_time_resolution": "未经复查、未重复信访即办结的初信初访件数 ÷ 办结的初信初访件数",
    "satisfaction": "（满意 + 基本满意）件数 ÷ 已评价件数",
    "participation": "已评价件数 ÷（已评价 + 评价期满未评价）件数",
    "repeat_rate": "重复信访件数 ÷ 全部信访件数",
    "in_place_resolved": "解决问题到位办结件数 ÷ 办结件数",
    "in_place_explained": "思想教育到位办结件数 ÷ 办结件数",
    "in_place_assisted": "帮扶救助到位办结件数 ÷ 办结件数",
}

# The columns of the exported workbooks and the ledger (台账) import: one header each.
COLUMNS: Mapping[str, str] = {
    "ref": "登记编号", "registration_no": "登记编号", "subject": "信访事项", "content": "信访内容",
    "stage": "办理环节", "unit": "承办单位", "responder": "首问责任人", "leader": "包案领导",
    "deadline": "当前期限", "due": "到期时间", "due_at": "到期时间", "urgency": "紧迫程度",
    "overdue": "已超期", "warning": "提示", "roles": "我的角色", "office": "信访部门",
    "channel": "信访渠道", "category": "信访类别", "received": "收到时间",
    "received_at": "收到时间", "petitioner": "信访人", "name": "信访人", "phone": "联系电话",
    "id_number": "身份证号", "measure": "指标", "rate": "比率", "numerator": "分子",
    "denominator": "分母", "formula": "计算口径", "decided_at": "答复日期",
    "outcome": "处理结果", "resolution": "三个到位", "summary": "办理情况", "rating": "满意度",
    "count": "件数", "month": "本月", "year": "本年累计", "last_year": "去年同月",
    "repeats": "重复次数", "first_received": "首次收到", "last_received": "最近收到",
    "stage_reached": "办理进度", "row": "行号",
}


def label(table: Mapping[str, str], value: str | None, default: str = "—") -> str:
    """``value``'s label in ``table``; ``default`` for none, and for a value the table
    lacks (a stored value from a newer version), never the id itself."""
    if value is None or value == "":
        return default
    return table.get(value, default)


def via(value: str | None) -> str:
    """How a change came in, without its secret part: ``web:f738…`` → 经网页."""
    if not value:
        return ""
    channel = value.split(":", 1)[0]
    return VIAS.get(channel, "经其他渠道")


_PART = re.compile(r"(-?)(\d+)([dhm])")
_UNIT = {"d": "天", "h": "小时", "m": "分钟"}


def duration(text: str | None) -> str:
    """A duration as ``domain.instants.format_duration`` writes it (``3d 4h``, ``45m``),
    in Chinese (``3天4小时``); anything else unchanged."""
    if not text:
        return ""
    parts = _PART.findall(text)
    if not parts or _PART.sub("", text).strip():
        return text
    sign = "-" if any(p[0] for p in parts) else ""
    return sign + "".join(f"{n}{_UNIT[u]}" for _, n, u in parts)

# 重点人员 (``domain.keypersons``): the stability states and the kinds of contact.
KEY_PERSON_STATES: Mapping[str, str] = {
    "stable": "稳定", "watch": "关注", "unstable": "不稳定", "settled": "息访",
}
KEY_PERSON_CONTACTS: Mapping[str, str] = {"invited": "约访", "visited": "下访"}
