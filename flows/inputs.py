"""The forms a suspended lifecycle run waits on: one ``RunInput`` per human step.

Prefect's UI draws each as a form; the CLI resumes a run with the same fields. Pydantic
checks the shape (an unknown action, a wrong type); the domain checks the rest when the
action is applied. The acts each form offers are derived from the domain's transition
table (``domain.acts.acts_in``) for the stages the form is shown in.
"""

from __future__ import annotations

from typing import Any, Literal

from prefect.input import RunInput
from pydantic import Field

from domain.acts import acts_in
from domain.stages import Stage
from services.cases import ActRequest


class StepInput(RunInput):
    """What every step asks: who acts, and the fields some actions need."""

    actor: str = Field(description="Your person id (from the org chart), e.g. lin.na. "
                       "Checked against who may take this act on this case; Prefect's UI "
                       "has no per-person login, so it records the channel as prefect-ui.")
    reason: str = Field("", description="Reason, notice text or basis (理由/依据). Kept by "
                        "Prefect, readable to its operators: write what may quote the "
                        "petition in the workplace instead")
    leader: str | None = Field(None, description="assign_leader: the leader's person id")
    outcome: Literal["support", "explain", "reject", "mediated"] | None = Field(
        None, description="close / decide_review / decide_re_review: the decision")
    summary: str = Field("", description="The written decision's summary (处理意见), or "
                         "what was done (report: 完成任务报告). Kept by Prefect, readable to "
                         "its operators: write what may quote the petition in the workplace")
    resolution: Literal["resolved", "explained", "assisted"] | None = Field(
        None, description="close: 三个到位 - resolved / explained / assisted")
    rating: Literal["satisfied", "basically", "not_satisfied"] | None = None
    days: int | None = Field(None, ge=1, description="extend / request_extension: calendar days; "
                                 "list_case: report every N days")
    approver: str | None = Field(None, description="extend: who approves it (yourself: "
                                  "only the approver records an approval)")
    pause_reason: Literal["hearing", "awaiting_materials", "appraisal"] | None = None
    unit: str | None = Field(None, description="assign: the unit to hand it to (分办)")
    responder: str | None = Field(None, description="assign: its first responder "
                                  "(default: the unit's least loaded)")
    office: str | None = Field(None, description="hand_down: the office below that "
                               "handles it (交办)")
    body: str | None = Field(None, description="list_case: the listing body (挂牌督办机关)")
    reference: str | None = Field(None, description="list_case: its reference (文号)")
    required: str | None = Field(None, description="list_case: required date, YYYY-MM-DD")
    request_id: str = Field("", description="Set by the CLI for an action it already "
                            "applied; leave empty on this form")

    def request(self) -> ActRequest:
        return ActRequest.from_dict(self.model_dump())  # each step narrows ``act``

    @property
    def is_sync(self) -> bool:
        return bool(self.act == SYNC)  # type: ignore[attr-defined]


# Every form also takes this: the run reads the case again and waits at its current stage
# (``flows.heal`` answers it to a run left waiting at a stage the case has left).
SYNC = "sync"


def _choices(*stages: Stage) -> Any:
    """The ``act`` field's type: the acts the domain allows in ``stages``, and ``sync``."""
    return Literal[(*(a.value for a in acts_in(stages)), SYNC)]


# The stages each form is shown in.
TRIAGE = (Stage.REGISTERED,)
FIRST_RESPONSE = (Stage.ASSIGNED, Stage.ACKNOWLEDGED)
LEADER_OWNERSHIP = (Stage.LEADER_PENDING,)
HANDLING = (Stage.HANDLING,)
FEEDBACK = (Stage.DECIDED, Stage.RATED, Stage.REVIEWED, Stage.RE_REVIEWED)
REVIEW = (Stage.UNDER_REVIEW, Stage.UNDER_RE_REVIEW)


class Triage(StepInput):
    """待分办: no rule could route it; the petition office assigns it by hand."""

    act: _choices(*TRIAGE)  # type: ignore[valid-type]


class FirstResponse(StepInput):
    """首问负责: the first responder replies, accepts or declines; a leader may be named."""

    act: _choices(*FIRST_RESPONSE)  # type: ignore[valid-type]


class LeaderOwnership(StepInput):
    """领导包案: the named leader accepts ownership (the clock already runs)."""

    act: _choices(*LEADER_OWNERSHIP)  # type: ignore[valid-type]


class Handling(StepInput):
    """限时办结: report the task done, then decide in writing; extend once, pause or resume
    the clock."""

    act: _choices(*HANDLING)  # type: ignore[valid-type]


class Feedback(StepInput):
    """答复与评价: the petitioner rates, asks for a review or re-review; or strike off."""

    act: _choices(*FEEDBACK)  # type: ignore[valid-type]


class Review(StepInput):
    """复查 / 复核: the handler reports the review done; the reviewing body decides."""

    act: _choices(*REVIEW)  # type: ignore[valid-type]


FORMS: dict[type[StepInput], tuple[Stage, ...]] = {
    Triage: TRIAGE, FirstResponse: FIRST_RESPONSE, LeaderOwnership: LEADER_OWNERSHIP,
    Handling: HANDLING, Feedback: FEEDBACK, Review: REVIEW}
STEP_INPUT: dict[Stage, type[StepInput]] = {
    stage: form for form, stages in FORMS.items() for stage in stages}


def step_input(stage: Stage) -> type[StepInput]:
    """The form a case in ``stage`` waits on (a closed case waits on none)."""
    return STEP_INPUT[stage]

