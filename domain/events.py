"""Domain events: the audit trail. Every change to a case appends one."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from domain import labels


class EventType(enum.Enum):
    """What happened. Values are stable: they are stored and hashed."""

    CASE_REGISTERED = "CaseRegistered"
    REPEAT_LINKED = "RepeatLinked"
    CASE_ASSIGNED = "CaseAssigned"
    PERSON_RECUSED = "PersonRecused"
    ROUTING_OBJECTED = "RoutingObjected"
    RESPONSE_ACKNOWLEDGED = "ResponseAcknowledged"
    CASE_ACCEPTED = "CaseAccepted"
    CASE_DECLINED = "CaseDeclined"
    LEADER_NAMED = "LeaderNamed"
    LEADER_ACCEPTED = "LeaderAccepted"
    CLOCK_PAUSED = "ClockPaused"
    CLOCK_RESUMED = "ClockResumed"
    DEADLINE_EXTENDED = "DeadlineExtended"
    DECISION_ISSUED = "DecisionIssued"
    CASE_RATED = "CaseRated"
    RATING_EXPIRED = "RatingExpired"
    WINDOW_LAPSED = "WindowLapsed"
    REVIEW_REQUESTED = "ReviewRequested"
    REVIEW_DECIDED = "ReviewDecided"
    RE_REVIEW_REQUESTED = "ReReviewRequested"
    RE_REVIEW_DECIDED = "ReReviewDecided"
    CASE_STRUCK_OFF = "CaseStruckOff"
    CASE_WITHDRAWN = "CaseWithdrawn"              # 撤回, entered for the petitioner
    DEADLINE_REMINDER = "DeadlineReminder"
    DEADLINE_WARNING = "DeadlineWarning"
    DEADLINE_BREACHED = "DeadlineBreached"
    ESCALATED = "Escalated"
    ESCALATION_ROLE_UNRESOLVED = "EscalationRoleUnresolved"
    COMPLETION_REPORTED = "CompletionReported"    # 完成任务报告
    EXTENSION_REQUESTED = "ExtensionRequested"    # 申请延期, to the approvers
    EXTENSION_REFUSED = "ExtensionRefused"        # 不批准延期
    REPORT_REQUESTED = "ReportRequested"          # 要求报告: a leader asks the handler
    CASE_LISTED = "CaseListed"                    # 挂牌督办 by a higher body
    LISTER_REPORTED = "ListerReported"            # a report to the listing body
    # 重点人员 (journal ``keyperson:<id>``)
    KEY_PERSON_ADDED = "KeyPersonAdded"
    KEY_PERSON_CONTACTED = "KeyPersonContacted"   # 约访、下访
    KEY_PERSON_STATE_CHANGED = "KeyPersonStateChanged"
    KEY_PERSON_SETTLED = "KeyPersonSettled"       # 息访, with the signed undertaking
    KEY_PERSON_HOLDERS_CHANGED = "KeyPersonHoldersChanged"  # 四包一 reassigned
    OVER_THE_HEAD = "OverTheHead"                 # 越级上访, reported by a higher level
    BROUGHT_BACK = "BroughtBack"                  # 劝返
    RUNG_FAILED = "RungFailed"                    # a rung that could not fire; retried
    ROUTING_FAILED = "RoutingFailed"              # into the triage queue (待分办)
    DUE_DATE_REVISED = "DueDateRevised"           # the calendar under a due date changed
    # Offices as a tree: a review decided a level up, a petition handed down (交办).
    REFERRED_UP = "ReferredUp"                    # this case was opened for a lower one's
    HANDED_DOWN = "HandedDown"                    # a lower office handles it in its case
    RETURNED_UP = "ReturnedUp"                    # the lower office's decision came back
    NOTICE_PRINTED = "NoticePrinted"              # a written notice rendered for the post
    FILE_ATTACHED = "FileAttached"                # an attachment (附件): its SHA-256 chained
    FILE_WITHDRAWN = "FileWithdrawn"              # ... withdrawn: hidden, kept
    IMPORTED = "Imported"                         # a historical case from a ledger (台账)
    # The office's practices; their subject is a journal (a reception, a day's zero
    # reports, a signal), not a case.
    RECEPTION_ANNOUNCED = "ReceptionAnnounced"    # staff told of a 领导接待日
    RECEPTION_REMINDED = "ReceptionReminded"      # the leader on duty reminded
    ZERO_REPORT_FILED = "ZeroReportFiled"         # 每日零报告
    ZERO_REPORT_MISSING = "ZeroReportMissing"     # the unit's head alerted
    ZERO_REPORT_OVERDUE = "ZeroReportOverdue"     # the office alerted
    SIGNAL_RECORDED = "SignalRecorded"            # 信访信息员
    SIGNAL_DIGESTED = "SignalDigested"            # in a weekly 《信访信息参考》
    SIGNAL_PROMOTED = "SignalPromoted"            # registered as a petition
    # The quarterly risk review (journal ``review:2026Q4``) and its measures.
    REVIEW_RECORDED = "ReviewRecorded"            # 每季不稳定因素分析排查例会
    REVIEW_MEASURE_REMINDED = "ReviewMeasureReminded"  # the owner, before the due date
    REVIEW_MEASURE_BREACHED = "ReviewMeasureBreached"  # the owner's superior, on it
    REVIEW_MEASURE_DONE = "ReviewMeasureDone"
    # Access to the workplace; their subject is the journal ``access:<person or token>``.
    PASSWORD_SET = "PasswordSet"
    LOGIN_FAILED = "LoginFailed"
    TOKEN_CREATED = "TokenCreated"
    TOKEN_REVOKED = "TokenRevoked"
    ACCOUNT_LOCKED = "AccountLocked"      # 100 wrong passwords in a row (NIST 800-63B)
    ACCOUNT_UNLOCKED = "AccountUnlocked"  # by an admin: ``petitions user unlock``
    # The engine's own journal (``engine:serve``): a part of ``petitions serve`` died and was
    # started again; the deadline sweeps stopped, and came back.
    ENGINE_CHILD_RESTARTED = "EngineChildRestarted"
    SWEEPS_STOPPED = "SweepsStopped"
    SWEEPS_RESUMED = "SweepsResumed"

    @property
    def label(self) -> str:
        return labels.EVENTS[self.value]


@dataclass(frozen=True)
class DomainEvent:
    """One entry of a case's audit trail.

    ``at`` is a UTC instant, ``actor`` a person id or a system name (``sweeper``),
    ``stage`` the case's stage after the change, ``data`` JSON-ready values only.
    """

    type: EventType
    case_id: str
    actor: str
    at: dt.datetime
    stage: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def as_record(self) -> dict[str, Any]:
        """A JSON-ready dict, the form storage hashes and persists."""
        return {"type": self.type.value, "case_id": self.case_id, "actor": self.actor,
                "at": self.at.isoformat(), "stage": self.stage, "data": dict(self.data)}
