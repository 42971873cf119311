"""One suite, every store: the unit of work's promises on the in-memory fake, SQLite and
PostgreSQL alike, so that the use-case tests on the fake say something about the real
thing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from domain.case import Case, CaseRules
from domain.errors import CaseNotFound, ConcurrentUpdate, DuplicateRegistration
from domain.stages import Stage
from storage.db import make_engine
from storage.memory import MemoryStore
from storage.ports import UnitOfWork
from storage.repository import SqlUnitOfWork
from tests.conftest import at, new_case
from tests.integration.conftest import fresh_database, schedules_of

Uows = Callable[[], UnitOfWork]


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def uows(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Uows]:
    if request.param == "memory":
        yield MemoryStore().uow
        return
    engine = make_engine(fresh_database(request.param, request, tmp_path))
    yield lambda: SqlUnitOfWork(engine)
    engine.dispose()


def _save(uows: Uows, rules: CaseRules, case: Case) -> None:
    with uows() as uow:
        uow.cases.add(case)
        uow.commit(schedules_of(uow, rules))


def test_a_case_comes_back_with_its_events_and_rungs(office, rules, uows):
    case = new_case(office, rules)
    _save(uows, rules, case)
    with uows() as uow:
        again = uow.cases.get("XF-c1")
        assert (again.stage, again.responder, again.version) == (Stage.ASSIGNED, "lin.na", 1)
        assert [r.type for r in uow.events_of(case.id)] == ["CaseRegistered", "CaseAssigned"]
        due = uow.claim_due(at("2026-04-30 12:00"), "s", 100)
    assert {(c.clock, c.rung) for c in due} == {
        (d.clock, d.name) for d in case.schedule(rules, at("2026-03-02 09:00"))
        if d.fire_at <= at("2026-04-30 12:00")}


def test_leaving_without_commit_writes_nothing(office, rules, uows):
    with uows() as uow:
        uow.cases.add(new_case(office, rules))
        uow.queue([{"key": "k", "case_id": "c1", "kind": "x", "recipient": "y", "urgent": 0,
                    "payload": {}, "queued_at": at("2026-03-02 09:00")}])
    with uows() as uow, pytest.raises(CaseNotFound):
        uow.cases.get("c1")
    with uows() as uow:
        assert uow.messages() == []


def test_a_changed_case_without_a_schedule_is_refused(office, rules, uows):
    with uows() as uow, pytest.raises(ValueError, match="no rung schedule"):
        uow.cases.add(new_case(office, rules))
        uow.commit({})


def test_a_taken_registration_number_and_a_stale_version_are_refused(office, rules, uows):
    _save(uows, rules, new_case(office, rules, case_id="c1"))
    twin = new_case(office, rules, case_id="c2")
    twin.registration_no = "XF-c1"
    with pytest.raises(DuplicateRegistration):
        _save(uows, rules, twin)
    with uows() as first:
        stale = first.cases.get("c1", lock=False)
    with uows() as second:
        second.cases.get("c1").acknowledge(actor="lin.na", now=at("2026-03-02 10:00"))
        second.commit(schedules_of(second, rules))
    stale.decline(reason="不属于信访事项", actor="li.ming", now=at("2026-03-02 11:00"))
    with uows() as late, pytest.raises(ConcurrentUpdate):
        late.cases.seen[stale.id] = stale  # type: ignore[attr-defined]
        late.commit(schedules_of(late, rules))
    with uows() as uow:
        assert uow.cases.get("c1").stage is Stage.ACKNOWLEDGED


def test_a_rung_is_claimed_once_and_a_message_key_queued_once(office, rules, uows):
    _save(uows, rules, new_case(office, rules))
    row = {"key": "k1", "case_id": "c1", "kind": "reminder", "recipient": "x", "urgent": 0,
           "payload": {}, "queued_at": at("2026-03-02 09:00")}
    with uows() as uow:
        assert uow.claim_due(at("2026-03-02 12:30"), "a", 10)
        assert uow.queue([row, dict(row)]) == 1
        uow.commit()
    with uows() as uow:
        assert uow.claim_due(at("2026-03-02 12:30"), "b", 10) == []
        assert uow.queue([row]) == 0
        claimed = uow.claim_messages(at("2026-03-02 09:00"), 10, "a")
        uow.commit()
    with uows() as uow:
        assert [m.key for m in claimed] == ["k1"]
        assert uow.claim_messages(at("2026-03-02 09:01"), 10, "b") == []  # held, not stale
        assert [m.key for m in uow.claim_messages(at("2026-03-02 09:20"), 10, "b")] == ["k1"]
        # the first holder is fenced off: it may neither renew nor settle it any more
        assert not uow.renew_claim(claimed[0].id, "a", at("2026-03-02 09:21"))
        assert not uow.settle_message(claimed[0].id, "a", status="sent")
        assert uow.renew_claim(claimed[0].id, "b", at("2026-03-02 09:21"))
        assert uow.settle_message(claimed[0].id, "b", status="sent")


def test_a_request_id_is_recorded_once_and_runs_and_waits_are_kept(office, rules, uows):
    _save(uows, rules, new_case(office, rules))
    with uows() as uow:
        uow.record_request("r1", "c1", "ack", 2, at("2026-03-02 10:00"))
        uow.record_run("c1", "run-1", at("2026-03-02 10:00"))
        uow.open_wait("c1", "assigned-1", "assigned")
        uow.commit()
    with uows() as uow:
        assert uow.applied("r1") == 2 and uow.applied("r2") is None
        assert uow.run_of("c1") == "run-1" and uow.without_run() == []
        wait = uow.wait_of("c1")
        assert wait is not None and (wait.n, wait.key, wait.open) == (1, "assigned-1", True)
        uow.close_wait("c1", "assigned-1")
        uow.commit()
    with uows() as uow:
        wait = uow.wait_of("c1")
        assert wait is not None and not wait.open


def test_the_reconciler_reads_each_open_case_with_its_run_and_wait(office, rules, uows):
    for i in range(2):
        _save(uows, rules, new_case(office, rules, case_id=f"c{i}"))
    with uows() as uow:
        uow.record_run("c0", "run-0", at("2026-03-02 10:00"))
        uow.open_wait("c0", "assigned-1", "assigned")
        uow.commit()
    with uows() as uow:
        rows = {r.case_id: r for r in uow.run_rows()}
        only = uow.run_rows(case_ids=["c1", "nobody"])
    assert set(rows) == {"c0", "c1"}
    assert rows["c0"].run_id == "run-0" and rows["c0"].stage == rows["c1"].stage
    assert rows["c0"].wait is not None and rows["c0"].wait.key == "assigned-1"
    assert rows["c1"].run_id is None and rows["c1"].wait is None
    assert [r.case_id for r in only] == ["c1"]


def test_every_chain_verifies(office, rules, uows):
    for i in range(3):
        _save(uows, rules, new_case(office, rules, case_id=f"c{i}"))
    with uows() as uow:
        assert uow.audit_check() == (3, [])


def test_a_queue_comes_soonest_due_first_and_pages_in_the_store(office, rules, uows):
    """The next due instant given at commit orders ``find_cases(by_due=True)``; a case
    with none comes last; ``dues`` alone moves an unchanged case (no new version)."""
    now = at("2026-03-02 09:00")
    made = [new_case(office, rules, case_id=f"q{i}") for i in range(3)]
    with uows() as uow:
        for case in made:
            uow.cases.add(case)
        uow.commit(schedules_of(uow, rules), {"q0": at("2026-03-09 09:00"),
                                              "q1": at("2026-03-03 09:00"), "q2": None})
    with uows() as uow:
        found = uow.find_cases(people=["lin.na"], by_due=True)
        assert [c.id for c in found] == ["q1", "q0", "q2"]
        assert [c.id for c in uow.find_cases(people=["lin.na"], by_due=True, limit=2)] == [
            "q1", "q0"]
        assert uow.count_cases(people=["lin.na"]) == 3
        assert uow.count_cases(people=["nobody"]) == 0
        uow.commit({}, {"q2": now})
    with uows() as uow:
        assert [c.id for c in uow.find_cases(by_due=True)] == ["q2", "q1", "q0"]
        assert uow.cases.get("q2").version == 1
