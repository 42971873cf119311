"""Intake is whole or nothing: bad input is refused before anything is stored; a valid
petition no rule can route waits, registered, in the triage queue (待分办), its acceptance
clock running and the office told once, until the office assigns it by hand."""

from __future__ import annotations

import pytest

from domain.errors import NotPermitted, UnknownName
from services import cases as s
from services.bootstrap import App
from services.reading import open_case_rows
from tests.conftest import WAGE, events_of

AGAINST_THE_LEADERSHIP = {**WAGE, "category": "accusation", "subject": "矿领导班子违规发放福利",
                          "content": "材料", "concerns_unit": "leadership"}


@pytest.fixture
def app(memory_app: App) -> App:
    return memory_app


def test_an_unknown_concerned_unit_is_refused_and_nothing_is_stored(app):
    with pytest.raises(UnknownName, match="unknown unit 'nosuchunit'"):
        s.register(app, {**WAGE, "concerns_unit": "nosuchunit"}, registration_no="XF-U1",
                   actor="qian.hui")
    assert open_case_rows(app)[0] == []


def test_a_petition_no_rule_can_route_waits_in_triage_and_the_office_is_told_once(app):
    case = s.register(app, AGAINST_THE_LEADERSHIP, registration_no="XF-T1", actor="qian.hui")
    case = s.route_and_assign(app, case.id, actor="intake")
    again = s.route_and_assign(app, case.id, actor="lifecycle")  # the run tries again
    assert case.stage.value == again.stage.value == "registered"
    assert "no leader may own this case" in str(again.triage)
    assert [e.type for e in events_of(app, case.id)] == ["CaseRegistered", "RoutingFailed"]
    (row,), _ = open_case_rows(app)
    assert (row["ref"], row["stage"], row["deadline"]) == ("XF-T1", "registered",
                                                           "acceptance_notice")
    with app.uow() as uow:
        told = [(m.kind, m.recipient, m.payload["alert"]["code"])
                for m in uow.messages(limit=100)]
    assert told == [("alert", "li.ming", "triage")]


def test_the_office_assigns_it_by_hand_and_nobody_else_may(app):
    case = s.register(app, AGAINST_THE_LEADERSHIP, registration_no="XF-T2", actor="qian.hui")
    s.route_and_assign(app, case.id, actor="intake")
    with pytest.raises(NotPermitted, match="only its office staff may"):
        s.act(app, case.id, s.ActRequest(s.Act.ASSIGN, "lin.na", unit="discipline"))
    s.act(app, case.id, s.ActRequest(s.Act.ASSIGN, "qian.hui", unit="discipline"))
    with app.uow() as uow:
        assigned = uow.cases.get(case.id, lock=False)
    assert (assigned.stage.value, assigned.unit, assigned.triage) == ("assigned", "discipline",
                                                                      None)
    assert assigned.responder in ("dong.xin", "cao.yan") and assigned.leader is None
    assigned_event = next(e for e in events_of(app, case.id) if e.type == "CaseAssigned")
    assert (assigned_event.type, assigned_event.actor) == ("CaseAssigned", "qian.hui")


def test_a_hand_assignment_to_someone_who_takes_no_petitions_is_refused(app):
    """The org chart's ``responder: false`` (a unit's head, the mine head) holds by hand too."""
    from domain.errors import RoutingError

    case = s.register(app, AGAINST_THE_LEADERSHIP, registration_no="XF-T3", actor="qian.hui")
    s.route_and_assign(app, case.id, actor="intake")
    head = app.office.org.units["discipline"].head
    with pytest.raises(RoutingError, match="not a first responder"):
        s.act(app, case.id, s.ActRequest(s.Act.ASSIGN, "qian.hui", unit="discipline",
                                         responder=head))
    with app.uow() as uow:
        assert uow.cases.get(case.id, lock=False).stage.value == "registered"
