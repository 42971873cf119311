"""What a person does to a case: the verbs of the CLI and the choices of the lifecycle's
forms, each one or more of the domain's ``Action``s (which one depends on the case: a case
that needs an owning leader is accepted into leader ownership).

The transition table (``stages.TRANSITIONS``) is the source: the acts a case in a stage
offers are those whose actions that stage allows.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from domain import labels
from domain.stages import Action, Stage, can


class Act(enum.Enum):
    ACK = "ack"                              # 首问复命
    ACCEPT = "accept"                        # 受理
    DECLINE = "decline"                      # 不予受理
    ASSIGN_LEADER = "assign_leader"          # 领导包案
    LEADER_ACCEPT = "leader_accept"
    PAUSE = "pause"
    RESUME = "resume"
    EXTEND = "extend"
    REQUEST_EXTENSION = "request_extension"  # 申请延期: to the unit's head or above
    APPROVE_EXTENSION = "approve_extension"  # 批准延期 (the request's period and reason)
    REFUSE_EXTENSION = "refuse_extension"    # 不批准延期
    REQUEST_REPORT = "request_report"        # 要求报告: a leader asks the handler
    LIST_CASE = "list_case"                  # 挂牌督办: entered by the office
    REPORT_TO_LISTER = "report_to_lister"    # 向督办机关报告: the handlers
    CLOSE = "close"                          # 书面答复
    RATE = "rate"
    REQUEST_REVIEW = "request_review"        # 复查
    DECIDE_REVIEW = "decide_review"
    REQUEST_RE_REVIEW = "request_re_review"  # 复核
    DECIDE_RE_REVIEW = "decide_re_review"
    STRIKE_OFF = "strike_off"                # 销号
    REPORT = "report"                        # 完成任务报告
    WITHDRAW = "withdraw"                    # 撤回 (the petitioner's)
    ASSIGN = "assign"                        # 分办 by hand, from the triage queue
    HAND_DOWN = "hand_down"                  # 交办 to an office below (a group's mine)

    @property
    def label(self) -> str:
        return labels.ACTS[self.value]

    @property
    def actions(self) -> tuple[Action, ...]:
        """The domain actions this act is."""
        return _ACTIONS[self]

    @property
    def command(self) -> str:
        """The CLI's verb for this act: ``petitions <command> REF --actor ID``."""
        return _COMMANDS.get(self, self.value.replace("_", "-"))


_ACTIONS: dict[Act, tuple[Action, ...]] = {
    Act.ACK: (Action.ACKNOWLEDGE,),
    Act.ACCEPT: (Action.ACCEPT, Action.ACCEPT_FOR_LEADER),
    Act.DECLINE: (Action.DECLINE,),
    Act.ASSIGN_LEADER: (Action.NAME_LEADER,),
    Act.LEADER_ACCEPT: (Action.LEADER_ACCEPT,),
    Act.PAUSE: (Action.PAUSE_CLOCK,),
    Act.RESUME: (Action.RESUME_CLOCK,),
    Act.EXTEND: (Action.EXTEND,),
    Act.REQUEST_EXTENSION: (Action.REQUEST_EXTENSION,),
    Act.APPROVE_EXTENSION: (Action.ANSWER_EXTENSION,),
    Act.REFUSE_EXTENSION: (Action.ANSWER_EXTENSION,),
    Act.REQUEST_REPORT: (Action.REQUEST_REPORT,),
    Act.LIST_CASE: (Action.LIST_CASE,),
    Act.REPORT_TO_LISTER: (Action.REPORT_TO_LISTER,),
    Act.CLOSE: (Action.DECIDE,),
    Act.RATE: (Action.RATE,),
    Act.REQUEST_REVIEW: (Action.REQUEST_REVIEW,),
    Act.DECIDE_REVIEW: (Action.DECIDE_REVIEW,),
    Act.REQUEST_RE_REVIEW: (Action.REQUEST_RE_REVIEW,),
    Act.DECIDE_RE_REVIEW: (Action.DECIDE_RE_REVIEW,),
    Act.STRIKE_OFF: (Action.STRIKE_OFF,),
    Act.REPORT: (Action.REPORT_COMPLETION,),
    Act.WITHDRAW: (Action.WITHDRAW,),
    Act.ASSIGN: (Action.ASSIGN,),
    Act.HAND_DOWN: (Action.HAND_DOWN,),
}
# The petitioner's own acts: office staff enter them on the petitioner's behalf.
PETITIONERS_ACTS = frozenset({Act.RATE, Act.REQUEST_REVIEW, Act.REQUEST_RE_REVIEW,
                              Act.WITHDRAW})
_COMMANDS = {Act.RESUME: "resume-clock", Act.REPORT: "report-completion"}


class FileAct(enum.Enum):
    """What a person does to a case's files (``domain.attachments``): no stage's action,
    so never offered by the lifecycle's forms; permitted by the same table as the acts."""

    ATTACH = "attach"                        # 附件：上传
    WITHDRAW_FILE = "withdraw_file"          # 附件：撤回 (hidden, kept)

    @property
    def command(self) -> str:
        return self.value.replace("_", "-")


def acts_in(stages: Iterable[Stage]) -> list[Act]:
    """The acts a person may take on a case in any of ``stages``, in declaration order."""
    wanted = tuple(stages)
    return [a for a in Act if any(can(s, x) for s in wanted for x in a.actions)]
