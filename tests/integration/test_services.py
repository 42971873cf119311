"""The use cases behind the flows and the CLI, on both databases, without Prefect."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from domain.errors import DuplicateRegistration, IllegalTransition
from domain.stages import Stage
from services import cases as s
from services.bootstrap import App
from services.sweep import sweep
from storage.repository import SqlUnitOfWork
from storage.tables import outbox
from tests.conftest import SAMPLE_OFFICE

WAGE = json.loads((SAMPLE_OFFICE / "samples" / "wage-complaint.json").read_text())


def _outbox(app: App) -> list[tuple[str, str]]:
    with app.engine.connect() as conn:
        return [(r.kind, r.recipient) for r in conn.execute(
            select(outbox.c.kind, outbox.c.recipient).order_by(outbox.c.id))]


def _events(app: App, case_id: str) -> list:  # type: ignore[type-arg]
    with app.uow() as uow:
        return uow.events_of(case_id)


def _handling(app: App) -> str:
    case = s.register(app, WAGE, registration_no="XF-1", actor="clerk")
    s.route_and_assign(app, case.id, actor="intake")
    s.act(app, case.id, s.ActRequest(s.Act.ACK, "lin.na"))
    s.act(app, case.id, s.ActRequest(s.Act.ACCEPT, "lin.na", reason="受理"))
    return case.id


def test_a_retried_registration_returns_the_case_already_there(app):
    first = s.register(app, WAGE, registration_no="XF-1", actor="clerk")
    again = s.register(app, WAGE, registration_no="XF-1", actor="clerk")
    assert again.id == first.id
    other = {**WAGE, "petitioner": {**WAGE["petitioner"], "name": "王五",
                                    "id_number": "142601198001019999"}}
    with pytest.raises(DuplicateRegistration):
        s.register(app, other, registration_no="XF-1", actor="clerk")


def test_routing_twice_assigns_once_and_tells_the_responder_once(app):
    case = s.register(app, WAGE, registration_no="XF-1", actor="clerk")
    s.route_and_assign(app, case.id, actor="intake")
    s.route_and_assign(app, case.id, actor="lifecycle")
    assert _outbox(app) == [("assignment", "lin.na")]


def test_a_request_is_applied_once_however_often_it_arrives(app):
    case_id = _handling(app)
    req = s.ActRequest(s.Act.EXTEND, "lin.na", reason="需现场核查", days=15,
                       approver="wang.fang", request_id="cli:1")
    first = s.act(app, case_id, req)
    again = s.act(app, case_id, req, in_stage=Stage.HANDLING)  # the run gets it as well
    assert (first.status, again.status) == ("applied", "duplicate")
    assert again.version == first.version
    events = [e.type for e in _events(app, case_id)]
    assert events.count("DeadlineExtended") == 1


def test_a_form_answer_after_the_case_left_its_stage_is_superseded(app):
    case_id = _handling(app)
    s.act(app, case_id, s.ActRequest(s.Act.REPORT, "lin.na", summary="已核实"))
    close = s.ActRequest(s.Act.CLOSE, "lin.na", outcome="support", summary="补发工资",
                         resolution="resolved")
    assert s.act(app, case_id, close, in_stage=Stage.ACKNOWLEDGED).status == "superseded"
    assert s.act(app, case_id, close, in_stage=Stage.HANDLING).applied
    with pytest.raises(IllegalTransition):
        s.act(app, case_id, close)


def test_a_bad_action_changes_nothing(app):
    case_id = _handling(app)
    queued = _outbox(app)
    with pytest.raises(Exception, match="outcome 'maybe' is not one of"):
        s.act(app, case_id, s.ActRequest(s.Act.CLOSE, "lin.na", outcome="maybe"))
    with app.uow() as uow:
        assert uow.cases.get(case_id).stage.value == "handling"
    assert _outbox(app) == queued


def test_one_sweep_fires_every_due_rung_of_a_case_once_with_its_messages(app):
    case_id = _handling(app)
    app.clock.advance(days=65)  # type: ignore[attr-defined]
    fired = sweep(app, sweeper="a")
    assert [f.rung for f in fired if f.recipient] == ["reminder", "warning", "breach",
                                                      "escalate-leader"]
    assert sweep(app, sweeper="b") == []
    with app.uow() as uow:
        assert {r for _, r in uow.cases.get(case_id).fired} >= {"reminder", "warning",
                                                                "breach", "escalate-leader"}
    assert _outbox(app)[-4:] == [("reminder", "lin.na"), ("warning", "wang.fang"),
                                 ("breach", "wang.fang"), ("escalation", "gao.jian")]


def test_queuing_a_message_twice_keeps_one(app):
    _handling(app)
    with SqlUnitOfWork(app.engine) as uow:
        row = {"key": "k1", "case_id": "c", "kind": "reminder", "recipient": "x",
               "urgent": 0, "payload": {}, "queued_at": app.clock.now()}
        assert uow.queue([row, dict(row)]) == 1
        assert uow.queue([row]) == 0
        uow.commit()


def test_cases_without_a_lifecycle_run_are_found(app):
    case_id = _handling(app)
    with app.uow() as uow:
        assert uow.without_run() == [case_id]
        uow.record_run(case_id, "00000000-0000-0000-0000-000000000001", app.clock.now())
        uow.commit()
    with app.uow() as uow:
        assert uow.without_run() == []
        assert uow.run_of(case_id) == "00000000-0000-0000-0000-000000000001"



def test_two_sweepers_at_once_fire_each_rung_once_without_deadlock(app):
    import threading
    from collections import Counter

    ids = []
    for i in range(40):
        petitioner = {**WAGE["petitioner"], "id_number": f"1426011980010{i:05d}"}
        case = s.register(app, {**WAGE, "petitioner": petitioner}, registration_no=f"XF-{i}",
                          actor="clerk")
        s.route_and_assign(app, case.id, actor="intake")
        ids.append(case.id)
    app.clock.advance(days=25)  # every case: several rungs of several clocks are due
    errors: list[BaseException] = []

    def sweeper(name: str) -> None:
        try:
            while sweep(app, sweeper=name, limit=7):
                pass
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=sweeper, args=(f"sweeper-{n}",)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    fired: Counter[tuple[str, str, str]] = Counter()
    for case_id in ids:
        for e in _events(app, case_id):
            if e.type in ("DeadlineReminder", "DeadlineWarning", "DeadlineBreached",
                          "Escalated"):
                fired[(case_id, e.data["clock"], e.data["rung"])] += 1
    assert fired and max(fired.values()) == 1
    assert {c for c, _, _ in fired} == set(ids)
