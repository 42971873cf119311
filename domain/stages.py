"""The stages of a petition and the one table of moves between them.

登记 → 首问负责 (assigned, then the first responder's reply) → 受理 → 领导包案 (when the rules
require a leader) → 限时办结 (handling) → 书面答复 (decided) → 评价 (rated) → 复查 → 复核 →
销号 (struck off). Nothing assigns a stage directly: ``Case`` moves only through ``TRANSITIONS``.
"""

from __future__ import annotations

import enum

from domain import labels


class Stage(enum.Enum):
    REGISTERED = "registered"
    ASSIGNED = "assigned"
    ACKNOWLEDGED = "acknowledged"
    LEADER_PENDING = "leader_pending"
    HANDLING = "handling"
    DECIDED = "decided"
    RATED = "rated"
    UNDER_REVIEW = "under_review"
    REVIEWED = "reviewed"
    UNDER_RE_REVIEW = "under_re_review"
    RE_REVIEWED = "re_reviewed"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return labels.STAGES[self.value]



class Action(enum.Enum):
    ASSIGN = "assign"
    OBJECT_ROUTING = "object_routing"
    ACKNOWLEDGE = "acknowledge"
    ACCEPT = "accept"
    ACCEPT_FOR_LEADER = "accept_for_leader"
    DECLINE = "decline"
    NAME_LEADER = "name_leader"
    LEADER_ACCEPT = "leader_accept"
    PAUSE_CLOCK = "pause_clock"
    RESUME_CLOCK = "resume_clock"
    EXTEND = "extend"
    REQUEST_EXTENSION = "request_extension"  # a handler asks the approver for more time
    ANSWER_EXTENSION = "answer_extension"    # ... who approves or refuses it
    REQUEST_REPORT = "request_report"        # a leader asks the handler for a report
    LIST_CASE = "list_case"                  # 挂牌督办: a higher body lists the case
    REPORT_TO_LISTER = "report_to_lister"    # the periodic report to that body
    DECIDE = "decide"
    RATE = "rate"
    EXPIRE_RATING = "expire_rating"
    REQUEST_REVIEW = "request_review"
    DECIDE_REVIEW = "decide_review"
    REQUEST_RE_REVIEW = "request_re_review"
    DECIDE_RE_REVIEW = "decide_re_review"
    STRIKE_OFF = "strike_off"
    RECUSE = "recuse"
    FIRE_RUNG = "fire_rung"
    REPORT_COMPLETION = "report_completion"
    WITHDRAW = "withdraw"
    HAND_DOWN = "hand_down"

    @property
    def label(self) -> str:
        return labels.ACTIONS[self.value]


S, A = Stage, Action
_OPEN = [s for s in Stage if s is not S.CLOSED]
_TIMED = [S.LEADER_PENDING, S.HANDLING, S.UNDER_REVIEW, S.UNDER_RE_REVIEW]
# Where the petitioner may withdraw (撤回): while the matter or a review is being handled.
_WITHDRAWABLE = [S.ASSIGNED, S.ACKNOWLEDGED, *_TIMED]

# Where a higher body may list a case (挂牌督办) and its reports run: until it is decided.
_LISTABLE = [S.REGISTERED, S.ASSIGNED, S.ACKNOWLEDGED, *_TIMED]

# (stage, action) -> stage after. A pair maps to itself where the action changes the case
# but not its stage. Anything absent is an illegal move.
TRANSITIONS: dict[tuple[Stage, Action], Stage] = {
    (S.REGISTERED, A.ASSIGN): S.ASSIGNED,
    (S.HANDLING, A.HAND_DOWN): S.HANDLING,  # 交办: handled below, answered from here
    (S.ASSIGNED, A.OBJECT_ROUTING): S.ASSIGNED,
    (S.ASSIGNED, A.ACKNOWLEDGE): S.ACKNOWLEDGED,
    (S.ASSIGNED, A.DECLINE): S.CLOSED,
    (S.ACKNOWLEDGED, A.DECLINE): S.CLOSED,
    (S.ACKNOWLEDGED, A.ACCEPT): S.HANDLING,
    (S.ACKNOWLEDGED, A.ACCEPT_FOR_LEADER): S.LEADER_PENDING,
    (S.ASSIGNED, A.NAME_LEADER): S.ASSIGNED,
    (S.ACKNOWLEDGED, A.NAME_LEADER): S.ACKNOWLEDGED,
    (S.LEADER_PENDING, A.NAME_LEADER): S.LEADER_PENDING,
    (S.HANDLING, A.NAME_LEADER): S.LEADER_PENDING,
    (S.LEADER_PENDING, A.LEADER_ACCEPT): S.HANDLING,
    **{(s, A.PAUSE_CLOCK): s for s in _TIMED},
    **{(s, A.RESUME_CLOCK): s for s in _TIMED},
    **{(s, A.REPORT_COMPLETION): s for s in _TIMED},
    (S.LEADER_PENDING, A.EXTEND): S.LEADER_PENDING,
    (S.HANDLING, A.EXTEND): S.HANDLING,
    **{(s, a): s for s in (S.LEADER_PENDING, S.HANDLING)
       for a in (A.REQUEST_EXTENSION, A.ANSWER_EXTENSION)},
    **{(s, A.REQUEST_REPORT): s for s in _TIMED},
    **{(s, a): s for s in _LISTABLE for a in (A.LIST_CASE, A.REPORT_TO_LISTER)},
    (S.HANDLING, A.DECIDE): S.DECIDED,
    (S.DECIDED, A.RATE): S.RATED,
    (S.DECIDED, A.EXPIRE_RATING): S.RATED,
    (S.DECIDED, A.REQUEST_REVIEW): S.UNDER_REVIEW,
    (S.RATED, A.REQUEST_REVIEW): S.UNDER_REVIEW,
    (S.UNDER_REVIEW, A.DECIDE_REVIEW): S.REVIEWED,
    (S.REVIEWED, A.REQUEST_RE_REVIEW): S.UNDER_RE_REVIEW,
    (S.UNDER_RE_REVIEW, A.DECIDE_RE_REVIEW): S.RE_REVIEWED,
    (S.RATED, A.STRIKE_OFF): S.CLOSED,
    (S.REVIEWED, A.STRIKE_OFF): S.CLOSED,
    (S.RE_REVIEWED, A.STRIKE_OFF): S.CLOSED,
    **{(s, A.WITHDRAW): S.CLOSED for s in _WITHDRAWABLE},
    **{(s, A.RECUSE): s for s in _OPEN},
    **{(s, A.FIRE_RUNG): s for s in _OPEN},
}


def allowed_actions(stage: Stage) -> list[Action]:
    """The actions ``stage`` allows, in table order."""
    return [a for (s, a) in TRANSITIONS if s is stage]


def can(stage: Stage, action: Action) -> bool:
    return (stage, action) in TRANSITIONS
