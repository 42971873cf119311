"""The JSON API (``/api/v1``) for other systems — a 12345 hotline, an online-petition
platform — authenticated by per-system tokens (``petitions token create NAME --as ID``).
A token acts as its person: the same permission check and the same sight as that person
in the workplace. Shapes are ``services.records`` (the CLI's ``--json`` too)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, create_model

from domain.acts import Act
from domain.deadlines import standing
from domain.errors import CaseNotFound, NotPermitted, PetitionError
from domain.offices import sight_in
from domain.permissions import Sight
from domain.petition import Category, Channel
from services import cases, history, search, supervision
from services import intake as registering
from services.bootstrap import App
from services.measures import measure_rows
from services.records import case_record
from services.users import Caller
from web.auth import api_caller
from web.context import one_line, petitions, runs

router = APIRouter(prefix="/api/v1", tags=["api"])
Token = Annotated[Caller, Depends(api_caller)]


class PetitionerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    id_number: str | None = None
    phone: str | None = None
    address: str | None = None
    email: str | None = None


class IntakeIn(BaseModel):
    """A petition to register. ``registration_no`` is the pushing system's own number
    when it has one: pushing the same number again (a retry) returns the case already
    registered under it."""

    model_config = ConfigDict(extra="forbid")
    registration_no: str | None = Field(None, description="default: a new XF- number")
    petitioner: PetitionerIn
    channel: Channel
    category: Category
    subject: str
    content: str = ""
    received_at: str | None = Field(None, description="ISO 8601 with zone; default now")
    concerns_unit: str | None = None
    accused_persons: list[str] = []
    headcount: int = 1
    representatives: int = 1
    key_person: bool = False
    repeat_of: str | None = None


def _action_model() -> type[BaseModel]:
    """The body of an action: ``services.cases.ActRequest``'s fields but who acts and
    through what (the token says both), so a field added there is one here too."""
    hints = typing.get_type_hints(cases.ActRequest)
    fields: dict[str, Any] = {f.name: (hints[f.name], f.default)
                              for f in dataclasses.fields(cases.ActRequest)
                              if f.name not in ("act", "actor", "via")}
    return create_model("ActionIn", __config__=ConfigDict(extra="forbid"),
                        __doc__="An action on a case (the CLI's acts, the case page's "
                        "forms). `request_id` makes a retried request apply once.",
                        act=(Act, ...), **fields)


ActionIn = _action_model()


def _refused(e: PetitionError) -> HTTPException:
    text = one_line(e)
    if isinstance(e, CaseNotFound):
        return HTTPException(404, text)
    if isinstance(e, NotPermitted):
        return HTTPException(403, text)
    return HTTPException(422, text)


def _visible(app: App, ref: str, who: str) -> tuple[Any, Sight]:
    with app.uow() as uow:
        try:
            case = uow.cases.get(ref, lock=False)
        except CaseNotFound:
            raise HTTPException(404, f"no case {ref!r}") from None
        seen = sight_in(app.tree, case, who)
        if seen is Sight.NONE:  # the accused learn nothing, not even that it exists
            raise HTTPException(404, f"no case {ref!r}")
        return case, seen


@router.post("/intake", status_code=201)
def intake(body: IntakeIn, request: Request, caller: Token,
           background: BackgroundTasks) -> dict[str, Any]:
    """Register a petition, route it and assign its first responder; its lifecycle run
    starts right after. Answers the case as the caller may see it."""
    app = petitions(request)
    data = body.model_dump(mode="json", exclude_none=True, exclude={"registration_no"})
    try:
        case = registering.intake(app, data, registration_no=body.registration_no
                                  or cases.new_registration_no(app), actor=caller.person,
                                  via=f"api:{caller.token}")
    except PetitionError as e:
        raise _refused(e) from None
    background.add_task(runs(request).start, app, case.id)
    return case_record(app, case, sight_in(app.tree, case, caller.person),
                       app.clock.now())


@router.get("/cases")
def list_cases(request: Request, caller: Token,
               stage: Annotated[str | None, Query(description="a stage name")] = None,
               unit: Annotated[str | None, Query(description="a unit id")] = None,
               overdue: Annotated[bool, Query(description="only cases past a due")] = False,
               open_only: Annotated[bool, Query(alias="open")] = True,
               limit: Annotated[int, Query(ge=1, le=500)] = 50,
               offset: Annotated[int, Query(ge=0)] = 0,
               q: Annotated[str | None, Query(description="search (检索): a number, "
                                              "name, phone, ID number or words")] = None,
               after: Annotated[str | None, Query(description="with q: the id of the "
                                                  "last case of the page before")] = None
               ) -> dict[str, Any]:
    """The cases the caller may see, oldest registration first, a page at a time;
    ``more`` says whether another page follows. With ``q``: the cases it finds that the
    caller may find, the latest first, ``limit`` (at most 100) a page, continued
    ``after`` the last one (``services.search``; never a count)."""
    app = petitions(request)
    if q is not None:
        try:
            hits = search.search(app, caller.person, q, after=after, limit=min(limit, 100))
        except PetitionError as e:
            raise _refused(e) from None
        record = search.found_record(app, hits)
        return {"q": record["q"], "limit": min(limit, 100), "more": record["more"],
                "after": record["after"], "cases": record["hits"]}
    if unit is not None and all(unit not in app.tree.org(o).units
                                for o in app.tree.offices_seen_by(caller.person)):
        raise HTTPException(422, f"unknown unit {unit!r}")
    now = app.clock.now()
    page: list[tuple[Any, Sight]] = []
    skipped, batch, at = 0, 500, 0
    with app.uow() as uow:
        while len(page) <= limit:  # one more than the page: is there another?
            found = uow.find_cases(units=[unit] if unit else (), stage=stage,
                                   open_only=open_only, offset=at, limit=batch,
                                   due_before=now if overdue else None)
            at += batch
            for case in found:
                seen = sight_in(app.tree, case, caller.person)
                if seen is Sight.NONE or (overdue and not standing(
                        case.deadlines(app.rules_for(case), now)).overdue):
                    continue
                if skipped < offset:
                    skipped += 1
                elif len(page) <= limit:
                    page.append((case, seen))
            if len(found) < batch:
                break
    return {"offset": offset, "limit": limit, "more": len(page) > limit,
            "cases": [case_record(app, c, s, now) for c, s in page[:limit]]}


@router.get("/cases/{ref}")
def get_case(ref: str, request: Request, caller: Token) -> dict[str, Any]:
    """A case by id or registration number, as the caller may see it."""
    app = petitions(request)
    case, seen = _visible(app, ref, caller.person)
    return case_record(app, case, seen, app.clock.now())


@router.get("/cases/{ref}/petitioner-history")
def get_petitioner_history(ref: str, request: Request, caller: Token) -> dict[str, Any]:
    """The history (信访人档案) of the petitioner of case ``ref``: their cases the caller
    may see the material of, by channel, the last contact, key person, open, repeats.
    404 for a case whose material the caller may not see."""
    app = petitions(request)
    try:
        found = history.petitioner_history(app, caller.person, ref)
    except CaseNotFound:
        raise HTTPException(404, f"no case {ref!r}") from None
    return history.history_record(app, found)


@router.get("/cases/{ref}/timeline")
def get_timeline(ref: str, request: Request, caller: Token) -> dict[str, Any]:
    """The case with every audit event and who held it at each breach."""
    app = petitions(request)
    case, seen = _visible(app, ref, caller.person)
    with app.uow() as uow:
        audit = uow.history_of(case)
    return case_record(app, case, seen, app.clock.now(), audit)


@router.post("/cases/{ref}/actions")
def post_action(ref: str, body: ActionIn,  # type: ignore[valid-type]
                request: Request, caller: Token) -> dict[str, Any]:
    """Take an action as the token's person: checked, committed, then the case's run is
    resumed. ``not_woken`` says why the run was not resumed now (nothing is lost)."""
    app = petitions(request)
    _visible(app, ref, caller.person)
    given: dict[str, Any] = body.model_dump()  # type: ignore[attr-defined]
    act, own_id = given.pop("act"), given.pop("request_id")
    request_id = f"api:{caller.token}:{own_id}" if own_id else ""
    try:
        req = cases.ActRequest(act, caller.person, request_id=request_id,
                               via=f"api:{caller.token}", **given)
        done = cases.act_and_wake(app, ref, req, runs(request))
    except PetitionError as e:
        raise _refused(e) from None
    case, seen = _visible(app, ref, caller.person)
    return {"case": case_record(app, case, seen, app.clock.now()),
            "not_woken": done.not_woken}


@router.get("/measures")
def get_measures(request: Request, caller: Token,
                 start: Annotated[dt.date | None, Query(alias="from")] = None,
                 end: Annotated[dt.date | None, Query(alias="to")] = None,
                 unit: str | None = None) -> JSONResponse:
    """The measures for petitions received in the period (default: the period that holds
    data), each with numerator and denominator. For supervisors."""
    app = petitions(request)
    try:
        view = supervision.overview(app, caller.person, start, end, unit)
    except PetitionError as e:
        raise _refused(e) from None
    return JSONResponse({"from": view.start.isoformat(), "to": view.end.isoformat(),
                         "unit": unit,
                         "measures": measure_rows(view.measures),
                         "overdue": view.overdue})
