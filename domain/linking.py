"""A case's links to the cases of other offices of the tree (``domain.offices``): a review
or re-review decided a level up, a matter handed down (交办) to an office below and its
decision coming back; and the record of a written notice printed. The case aggregate's
methods for them, and for the files attached to it (``domain.attachments``); ``case.py``
holds the rest."""

from __future__ import annotations

import datetime as dt

from domain.errors import RuleViolation
from domain.events import EventType
from domain.firing import RungFiring
from domain.outcomes import Outcome
from domain.policy import DeadlineKind as K
from domain.stages import Action, Stage


class Linked(RungFiring):
    def hand_down(self, to: tuple[str, str], *, actor: str, now: dt.datetime) -> None:
        """交办: an office below handles the matter in its case ``to`` (office, case id);
        this case's clocks keep running, and its decision is still this office's."""
        target = self._target(Action.HAND_DOWN)
        if self.links.get("handed_down_to"):
            raise RuleViolation(self.ref, f"it was handed down already, to case "
                                f"{self.links['handed_down_to']}")
        self.links["handed_down_to"] = to[1]
        self._record(target, EventType.HANDED_DOWN, actor, now, to_office=to[0], case=to[1])

    def came_back(self, outcome: Outcome, *, summary: str, actor: str,
                  now: dt.datetime, below: tuple[str, str]) -> None:
        """The office below decided the case handed down to it (``below``: office, case
        id): recorded here, for this office to report and decide."""
        if self.links.get("handed_down_to") != below[1]:
            raise RuleViolation(self.ref, f"case {below[1]} was not handed down from it")
        self._record(self._stage, EventType.RETURNED_UP, actor, now, outcome=outcome.value,
                     summary=summary, from_office=below[0], case=below[1])

    def open_for_review(self, of: tuple[str, str, str], *, actor: str, now: dt.datetime,
                        re_review: bool = False) -> None:
        """This new case is the review (复查; ``re_review``: 复核) of ``of`` (office, case
        id, reference), a decision of an office below: the opinion's 30 days run from now,
        beside the handling clocks; its decision goes back to that case."""
        kind = "re_review" if re_review else "review"
        self._link(f"{kind}_of", of[1])
        self._open(K.RE_REVIEW_DECISION if re_review else K.REVIEW_DECISION, now)
        self._record(self._stage, EventType.REFERRED_UP, actor, now, kind=kind,
                     from_office=of[0], case=of[1], ref=of[2])

    def open_handed_down(self, of: tuple[str, str, str], *, actor: str,
                         now: dt.datetime) -> None:
        """This new case is ``of`` (office, case id, reference) handed down (交办) from
        the office above: handled here like any case; its decision goes back up."""
        self._link("handed_down_from", of[1])
        self._record(self._stage, EventType.HANDED_DOWN, actor, now, from_office=of[0],
                     case=of[1], ref=of[2])

    def _link(self, name: str, case_id: str) -> None:
        if self.links or self._stage is not Stage.REGISTERED:
            raise RuleViolation(self.ref, "only a newly registered case links to another "
                                "office's case")
        self.links[name] = case_id

    def notice_printed(self, kind: str, number: str, digest: str, *, actor: str,
                       now: dt.datetime) -> None:
        """A written notice (``domain.notices``) was rendered for the letters desk: its
        number and the SHA-256 of the file, on the case's timeline."""
        self._record(self.stage, EventType.NOTICE_PRINTED, actor, now, kind=kind,
                     number=number, sha256=digest)

    def file_attached(self, file_id: str, sha256: str, size: int, media_type: str,
                      kind: str, *, actor: str, now: dt.datetime) -> None:
        """A file was attached (``domain.attachments``): its SHA-256 enters the case's
        hash chain, with its size (bytes), type and kind; its name stays out of the trail."""
        self._record(self.stage, EventType.FILE_ATTACHED, actor, now, file=file_id,
                     sha256=sha256, size=size, media_type=media_type, kind=kind)

    def file_withdrawn(self, file_id: str, sha256: str, *, reason: str, actor: str,
                       now: dt.datetime) -> None:
        """A file attached in error was withdrawn: hidden from the case's list, kept."""
        if not reason.strip():
            raise RuleViolation(self.ref, "say why the file is withdrawn (a reason)")
        self._record(self.stage, EventType.FILE_WITHDRAWN, actor, now, file=file_id,
                     sha256=sha256, reason=reason.strip())
