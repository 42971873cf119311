"""The use cases' rules on the in-memory unit of work: no database, milliseconds. The same
use cases run on SQLite and PostgreSQL in ``tests/integration`` (concurrency, the real
SQL), and the unit of work's contract is one suite over all three stores
(``tests/integration/test_unit_of_work.py``)."""

from __future__ import annotations

import pytest

from domain.errors import DuplicateRegistration, IllegalTransition
from domain.stages import Stage
from services import cases as s
from services.bootstrap import App
from services.sweep import reschedule_open, sweep
from tests.conftest import WAGE, events_of, in_handling


@pytest.fixture
def app(memory_app: App) -> App:
    return memory_app


def _outbox(app: App) -> list[tuple[str, str]]:
    with app.uow() as uow:
        return [(r.kind, r.recipient) for r in reversed(uow.messages(limit=1000))]


def test_a_retried_registration_returns_the_case_already_there(app):
    first = s.register(app, WAGE, registration_no="XF-1", actor="qian.hui")
    again = s.register(app, WAGE, registration_no="XF-1", actor="qian.hui")
    assert again.id == first.id
    other = {**WAGE, "petitioner": {**WAGE["petitioner"], "name": "王五",
                                    "id_number": "142601198001019999"}}
    with pytest.raises(DuplicateRegistration):
        s.register(app, other, registration_no="XF-1", actor="qian.hui")


def test_routing_twice_assigns_once_and_tells_the_responder_once(app):
    case = s.register(app, WAGE, registration_no="XF-1", actor="qian.hui")
    s.route_and_assign(app, case.id, actor="intake")
    s.route_and_assign(app, case.id, actor="lifecycle")
    assert _outbox(app) == [("assignment", "lin.na")]


def test_a_request_is_applied_once_however_often_it_arrives(app):
    case_id = in_handling(app)
    req = s.ActRequest(s.Act.EXTEND, "wang.fang", reason="需现场核查", days=15,
                       request_id="cli:1")
    first = s.act(app, case_id, req)
    again = s.act(app, case_id, req, in_stage=Stage.HANDLING)  # the run gets it as well
    assert (first.status, again.status) == ("applied", "duplicate")
    assert again.version == first.version
    events = [e.type for e in events_of(app, case_id)]
    assert events.count("DeadlineExtended") == 1


def test_a_form_answer_after_the_case_left_its_stage_is_superseded(app):
    case_id = in_handling(app)
    s.act(app, case_id, s.ActRequest(s.Act.REPORT, "lin.na", summary="已核实"))
    close = s.ActRequest(s.Act.CLOSE, "lin.na", outcome="support", summary="补发工资",
                         resolution="resolved")
    assert s.act(app, case_id, close, in_stage=Stage.ACKNOWLEDGED).status == "superseded"
    assert s.act(app, case_id, close, in_stage=Stage.HANDLING).applied
    with pytest.raises(IllegalTransition):
        s.act(app, case_id, close)


def test_a_bad_action_changes_nothing(app):
    case_id = in_handling(app)
    queued = _outbox(app)
    with pytest.raises(Exception, match="outcome 'maybe' is not one of"):
        s.act(app, case_id, s.ActRequest(s.Act.CLOSE, "lin.na", outcome="maybe"))
    with app.uow() as uow:
        assert uow.cases.get(case_id).stage.value == "handling"
    assert _outbox(app) == queued


def test_one_sweep_fires_every_due_rung_of_a_case_once_with_its_messages(app):
    case_id = in_handling(app)
    app.clock.advance(days=65)  # type: ignore[attr-defined]
    fired = sweep(app, sweeper="a").fired
    assert [f.rung for f in fired if f.recipient] == ["reminder", "warning", "breach",
                                                      "escalate-leader"]
    assert sweep(app, sweeper="b").fired == []
    with app.uow() as uow:
        assert {r for _, r in uow.cases.get(case_id).fired} >= {"reminder", "warning",
                                                                "breach", "escalate-leader"}
    assert _outbox(app)[-4:] == [("reminder", "lin.na"), ("warning", "wang.fang"),
                                 ("breach", "wang.fang"), ("escalation", "gao.jian")]


def test_a_sweep_stores_the_schedule_a_fresh_derivation_gives(app):
    """The sweep derives each case's schedule once and stores what remains after firing;
    deriving it anew from the stored case gives the same rungs."""
    case_id = in_handling(app)
    for days in (10, 31, 45, 65, 70):
        app.clock.advance(days=days)  # type: ignore[attr-defined]
        sweep(app, sweeper="a")
        with app.uow() as uow:
            case = uow.cases.get(case_id, lock=False)
            stored = sorted((k[1], k[2], r.fire_at) for k, r in uow.data.rungs.items()
                            if k[0] == case_id and r.claimed_at is None)
        fresh = sorted((d.clock, d.name, d.fire_at)
                       for d in case.schedule(app.rules_for(case), app.clock.now()))
        assert stored == fresh


def test_a_failed_unit_of_work_leaves_the_store_as_it_was(app):
    case_id = in_handling(app)
    before = events_of(app, case_id)
    with pytest.raises(IllegalTransition), app.uow() as uow:
        case = uow.cases.get(case_id)
        case.acknowledge(actor="lin.na", now=app.clock.now())  # accepted: not allowed
    with pytest.raises(RuntimeError), app.uow() as uow:
        case = uow.cases.get(case_id)
        case.report_completion(summary="x", actor="lin.na", now=app.clock.now(),
                               rules=app.rules_for(case))
        uow.queue([{"key": "k", "case_id": case_id, "kind": "reminder", "recipient": "x",
                    "urgent": 0, "payload": {}, "queued_at": app.clock.now()}])
        raise RuntimeError("the process dies before commit")
    assert events_of(app, case_id) == before
    assert ("reminder", "x") not in _outbox(app)
    assert s.act(app, case_id, s.ActRequest(s.Act.REPORT, "lin.na", summary="已核实")).applied


def test_reschedule_open_derives_every_open_cases_rungs(app):
    in_handling(app)
    assert reschedule_open(app) == 1
