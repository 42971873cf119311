"""The petitioner's history (信访人档案): every case of one person that the viewer may see the
material of — matched by ID number, else name and phone (``domain.persons``) — how often and
by which channel they came, the last contact, whether they are a key person, what is open
and what was repeated. Anchored on one of their cases (a page's address never carries a
phone or ID number): who may not see that case's material learns nothing, the same "no
such case" as for a number that does not exist. An accusation counts only for those in its
handling chain. The intake's "来过 N 次" is the same count."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from domain.case import Case
from domain.errors import CaseNotFound, UnknownName
from domain.instants import format_local
from domain.offices import sight_in
from domain.permissions import Sight
from domain.persons import keys_of, mask_id, mask_phone, same_person
from domain.petition import Channel, Petitioner
from domain.search_terms import scope_of
from domain.stages import Stage
from services.bootstrap import App
from services.records import iso
from services.search import Hit, hit_record


@dataclass(frozen=True)
class History:
    anchor: str  # the case it was opened from (its id: the page's address)
    name: str
    phone: str
    id_number: str
    hits: list[Hit]
    by_channel: list[tuple[str, str, int]] = field(default_factory=list)  # id, label, n
    last_contact: str = ""
    key_person: bool = False
    open: int = 0
    repeats: int = 0


def visible_cases(app: App, viewer: str, who: Petitioner) -> list[Hit]:
    """The cases of ``who`` ``viewer`` may see the material of, the latest first."""
    keys = keys_of(who)
    if not keys.usable:
        return []
    with app.uow() as uow:
        found = uow.person_cases(keys, scope_of(app.tree, viewer))
    hits = []
    for case in found:
        seen = sight_in(app.tree, case, viewer)
        if seen >= Sight.MATERIAL and same_person(case.petition.petitioner, who):
            hits.append(Hit(case, seen))
    return hits


def petitioner_history(app: App, viewer: str, ref: str) -> History:
    """The history of the petitioner of case ``ref`` as ``viewer`` may see it;
    ``CaseNotFound`` when they may not see that case's material."""
    if app.tree.home(viewer) is None:
        raise UnknownName("person", viewer)
    with app.uow() as uow:
        anchor = uow.cases.get(ref, lock=False)
    seen = sight_in(app.tree, anchor, viewer)
    if seen < Sight.MATERIAL:
        raise CaseNotFound(ref)
    who = anchor.petition.petitioner
    hits = visible_cases(app, viewer, who)
    full = seen >= Sight.FULL
    channels = Counter(h.case.petition.channel for h in hits)
    latest = max((h.case.petition.received_at for h in hits), default=None)
    return History(
        anchor.id, who.name, (who.phone or "") if full else mask_phone(who.phone),
        (who.id_number or "") if full else mask_id(who.id_number), hits,
        [(c.value, c.label, channels[c]) for c in Channel if channels[c]],
        format_local(latest) if latest else "",
        any(h.case.petition.key_person for h in hits),
        sum(1 for h in hits if h.case.stage is not Stage.CLOSED),
        sum(1 for h in hits if h.case.repeat_of))


def visits(app: App, viewer: str, who: Petitioner, besides: str | None = None
           ) -> tuple[int, Case | None]:
    """How many cases of ``who`` ``viewer`` may see (the intake's "来过 N 次"), but the
    case ``besides`` (the one just registered), and the latest of them (to open the
    history from)."""
    hits = [h for h in visible_cases(app, viewer, who) if h.case.id != besides]
    return len(hits), hits[0].case if hits else None


def history_record(app: App, h: History) -> dict[str, Any]:
    """The history as JSON (the API's and the CLI's): labels beside ids."""
    return {"anchor": h.anchor, "name": h.name, "phone": h.phone or None,
            "id_number": h.id_number or None, "cases": len(h.hits),
            "by_channel": [{"channel": c, "label": label, "cases": n}
                           for c, label, n in h.by_channel],
            "last_contact": h.last_contact or None,
            "last_contact_at": iso(max(x.case.petition.received_at for x in h.hits))
            if h.hits else None,
            "key_person": h.key_person, "open": h.open, "repeats": h.repeats,
            # an earlier case named only when it is one of the reader's own hits
            "items": [{**hit_record(app, x), "repeat_of": x.case.repeat_of if x.case.repeat_of
                       in {y.case.id for y in h.hits} else None} for x in h.hits]}
