"""The forms a suspended lifecycle run waits on: one ``RunInput`` per human step.

Prefect's UI draws each as a form; the CLI resumes a run with the same fields. Pydantic
checks the shape (an unknown action, a wrong type); the domain checks the rest when the
action is applied.
"""

from __future__ import annotations

from typing import Literal

from prefect.input import RunInput
from pydantic import Field

from domain.stages import Stage
from flows.services import ActRequest


class StepInput(RunInput):
    """What every step asks: who acts, and the fields some actions need."""

    actor: str = Field(description="Your person id (from the org chart), e.g. lin.na")
    reason: str = Field("", description="Reason, notice text or basis (理由/依据)")
    leader: str | None = Field(None, description="assign_leader: the leader's person id")
    outcome: Literal["support", "explain", "reject", "mediated"] | None = Field(
        None, description="close / decide_review / decide_re_review: the decision")
    summary: str = Field("", description="The written decision's summary (处理意见), or "
                         "what was done (report: 完成任务报告)")
    resolution: Literal["resolved", "explained", "assisted"] | None = Field(
        None, description="close: 三个到位 - resolved / explained / assisted")
    rating: Literal["satisfied", "basically", "not_satisfied"] | None = None
    days: int | None = Field(None, ge=1, description="extend: calendar days")
    approver: str | None = Field(None, description="extend: who approved it")
    pause_reason: Literal["hearing", "awaiting_materials", "appraisal"] | None = None
    request_id: str = Field("", description="Set by the CLI for an action it already "
                            "applied; leave empty on this form")

    def request(self) -> ActRequest:
        return ActRequest.from_dict(self.model_dump())  # each step narrows ``act``


class FirstResponse(StepInput):
    """首问负责: the first responder replies, accepts or declines; a leader may be named."""

    act: Literal["ack", "accept", "decline", "assign_leader"]


class LeaderOwnership(StepInput):
    """领导包案: the named leader accepts ownership (the clock already runs)."""

    act: Literal["leader_accept", "assign_leader", "extend", "pause", "resume", "report"]


class Handling(StepInput):
    """限时办结: report the task done, then decide in writing; extend once, pause or resume
    the clock."""

    act: Literal["report", "close", "extend", "pause", "resume", "assign_leader"]


class Feedback(StepInput):
    """答复与评价: the petitioner rates, asks for a review or re-review; or strike off."""

    act: Literal["rate", "request_review", "request_re_review", "strike_off"]


class Review(StepInput):
    """复查 / 复核: the handler reports the review done; the reviewing body decides."""

    act: Literal["report", "decide_review", "decide_re_review", "pause", "resume"]


STEP_INPUT: dict[Stage, type[StepInput]] = {
    Stage.ASSIGNED: FirstResponse, Stage.ACKNOWLEDGED: FirstResponse,
    Stage.LEADER_PENDING: LeaderOwnership, Stage.HANDLING: Handling,
    Stage.DECIDED: Feedback, Stage.RATED: Feedback, Stage.REVIEWED: Feedback,
    Stage.RE_REVIEWED: Feedback,
    Stage.UNDER_REVIEW: Review, Stage.UNDER_RE_REVIEW: Review,
}


def step_input(stage: Stage) -> type[StepInput]:
    """The form a case in ``stage`` waits on (registered and closed cases wait on none)."""
    return STEP_INPUT[stage]

