"""Search (检索): one use case for the search box of every page, ``GET /api/v1/cases?q=`` and
``petitions search``. The database finds the candidates its indexes can, within the
viewer's coarse scope (``storage/search.py``); each is then judged with the domain's
``sight``: the accused and anyone unrelated find nothing (the same empty page as a query
that matches nothing), an outline reader finds an accusation by its number only. A page
says whether more follow, never how many there are: a count would include what may not
be shown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.case import Case
from domain.errors import CaseNotFound, ConfigError, UnknownName
from domain.instants import format_local
from domain.offices import sight_in
from domain.permissions import Sight
from domain.persons import mask_id, mask_phone
from domain.search_terms import MAX_QUERY, Query, found_by_number, read_query, scope_of, snippet
from domain.text import check_text
from services.bootstrap import App
from services.records import OUTLINE_SUBJECT, iso
from storage.ports import UnitOfWork

PAGE = 20  # hits a page shows
MAX_PAGE = 100


@dataclass(frozen=True)
class Hit:
    case: Case
    sight: Sight


@dataclass(frozen=True)
class Found:
    """A page of hits, the latest first; ``after``: the case to continue after (``more``)."""

    query: Query
    hits: list[Hit]
    more: bool

    @property
    def after(self) -> str | None:
        return self.hits[-1].case.id if self.more and self.hits else None


def read(text: str) -> Query:
    """The query of ``text``, or a one-line refusal (empty, too long)."""
    if len(text) > MAX_QUERY:
        raise ConfigError(f"a search is at most {MAX_QUERY} characters; this one has "
                          f"{len(text)}", field="q")
    check_text(text, "q", limit=MAX_QUERY, multiline=False)  # no NUL, no control character
    q = read_query(text)
    if not q:
        raise ConfigError("nothing to search for: give a registration number, a name, a "
                          "phone or ID number, or words of the matter", field="q")
    return q


def search(app: App, viewer: str, text: str, *, after: str | None = None,
           limit: int = PAGE) -> Found:
    """The cases ``text`` finds that ``viewer`` may find (see the module), ``limit`` at
    most, after the case ``after`` of an earlier page."""
    if not 1 <= limit <= MAX_PAGE:
        raise ConfigError(f"a page holds 1 to {MAX_PAGE} hits, not {limit}", field="limit")
    if app.tree.home(viewer) is None:
        raise UnknownName("person", viewer)
    q = read(text)
    scope = scope_of(app.tree, viewer)
    hits: list[Hit] = []
    batch, cursor = limit + 1, after
    with app.uow() as uow:
        if after is not None and not _may_continue_after(app, uow, after, viewer):
            return Found(q, [], False)  # as after a case that does not exist
        while len(hits) <= limit:
            found = uow.search_cases(q, scope, cursor, batch)
            for case in found:
                seen = judged(app, case, viewer, q)
                if seen is not Sight.NONE:
                    hits.append(Hit(case, seen))
            if len(found) < batch:
                break
            cursor, batch = found[-1].id, min(batch * 2, 500)
    return Found(q, hits[:limit], len(hits) > limit)


def _may_continue_after(app: App, uow: UnitOfWork, after: str, viewer: str) -> bool:
    """Whether a page may continue after case ``after``: one ``viewer`` may see (a page
    after another's case would tell them it exists)."""
    try:
        case = uow.cases.get(after, lock=False)
    except CaseNotFound:
        return False
    return sight_in(app.tree, case, viewer) is not Sight.NONE


def judged(app: App, case: Case, viewer: str, q: Query) -> Sight:
    """What of ``case`` ``viewer`` sees if ``q`` may find it for them, else NONE: through
    any field with its material in sight; its number alone with its outline."""
    seen = sight_in(app.tree, case, viewer)
    if seen is Sight.OUTLINE and not found_by_number(case.registration_no, q):
        return Sight.NONE
    return seen


def hit_record(app: App, hit: Hit, q: Query | None = None) -> dict[str, Any]:
    """A hit as the page, the API and the CLI show it: Chinese labels beside ids; the
    petitioner's name and the matter for who sees the material, phone and ID number in
    full for the handlers only (masked for the others); a snippet of the content only for
    who sees it whole."""
    case, seen = hit.case, hit.sight
    p = case.petition
    material = seen >= Sight.MATERIAL
    unit = app.office_of(case).org.units.get(case.unit or "")
    who = p.petitioner
    return {
        "id": case.id, "ref": case.ref, "registration_no": case.registration_no,
        "office": case.office, "office_name": app.office_of(case).name,
        "stage": case.stage.value, "stage_label": case.stage.label,
        "category": p.category.value, "category_label": p.category.label,
        "channel": p.channel.value, "channel_label": p.channel.label,
        "received_at": iso(p.received_at), "received": format_local(p.received_at),
        "unit": case.unit, "unit_name": unit.name if unit else "待分办",
        "subject": p.subject if material else OUTLINE_SUBJECT,
        "petitioner": who.name if material else None,
        "phone": (who.phone if seen >= Sight.FULL else mask_phone(who.phone))
        if material and who.phone else None,
        "id_number": (who.id_number if seen >= Sight.FULL else mask_id(who.id_number))
        if material and who.id_number else None,
        "snippet": snippet(p.content, q) if material and q is not None and p.content
        else None,
        "restricted": not material, "history": material}


def found_record(app: App, found: Found) -> dict[str, Any]:
    """A page of hits as JSON (the API's and the CLI's)."""
    return {"q": found.query.text, "more": found.more, "after": found.after,
            "hits": [hit_record(app, h, found.query) for h in found.hits]}
