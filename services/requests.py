"""What an action on a case asks for, and what became of it: the one shape every entrance
(the CLI, the lifecycle's forms, the web workplace, the API) hands to ``cases.act``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.acts import Act
from domain.stages import Stage
from domain.text import check_text


@dataclass(frozen=True)
class ActRequest:
    """One person's action on a case, with whatever that action needs."""

    act: Act
    actor: str
    reason: str = ""
    leader: str | None = None
    outcome: str | None = None
    summary: str = ""
    rating: str | None = None
    days: int | None = None
    approver: str | None = None
    pause_reason: str | None = None
    resolution: str | None = None  # 三个到位: resolved | explained | assisted
    unit: str | None = None        # assign: the unit the office hands it to
    responder: str | None = None   # assign: its first responder (default: least loaded)
    office: str | None = None      # hand_down: the office below that handles it (交办)
    body: str | None = None        # list_case: the listing body (挂牌督办机关)
    reference: str | None = None   # list_case: its reference (文号)
    required: str | None = None    # list_case: the required completion date, YYYY-MM-DD
    # Names the request so it is applied once however often it arrives (the CLI commits it
    # and then hands the same request to the case's run). Empty: no such guard.
    request_id: str = ""
    # The channel it came through, recorded on its audit events: ``cli:<os user>``,
    # ``prefect-ui``, ``web:<session>``, ``api:<token>``. Not part of a form's answer.
    via: str = ""
    # The petitioner's verified mobile number, for an act they took at the public door
    # (actor ``petitioner``, ``domain.door``). Never handed to a run (not in ``as_dict``).
    petitioner_phone: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"act": self.act.value, "actor": self.actor, "reason": self.reason,
                "leader": self.leader, "outcome": self.outcome, "summary": self.summary,
                "rating": self.rating, "days": self.days, "approver": self.approver,
                "pause_reason": self.pause_reason, "resolution": self.resolution,
                "unit": self.unit, "responder": self.responder, "office": self.office,
                "body": self.body, "reference": self.reference, "required": self.required,
                "request_id": self.request_id}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ActRequest:
        """The inverse of ``as_dict``."""
        return cls(Act(data["act"]), **{k: v for k, v in data.items() if k != "act"})

    def check_texts(self) -> None:
        """Every free text within its limit and nothing but text (``domain.text``)."""
        for field in ("reason", "summary"):
            check_text(getattr(self, field), field)
        for field in ("actor", "leader", "approver", "outcome", "rating", "pause_reason",
                      "resolution", "unit", "responder", "office", "request_id", "via",
                      "body", "reference", "required"):
            value = getattr(self, field)
            if value is not None:
                check_text(str(value), field, limit=128)


@dataclass(frozen=True)
class ActResult:
    case_id: str
    ref: str
    stage: Stage
    version: int
    status: str = "applied"  # or "duplicate" (applied before), "superseded" (moved on)
    # Cases of other offices the act opened or changed (a review referred up, its opinion
    # come back): their lifecycle runs are started or brought back in step.
    linked: tuple[str, ...] = ()

    @property
    def applied(self) -> bool:
        return self.status == "applied"
