"""The use cases behind the flows and the CLI, on both databases, without Prefect."""

from __future__ import annotations

from sqlalchemy import select

from services import cases as s
from services.bootstrap import App
from services.sweep import sweep
from storage.repository import SqlUnitOfWork
from storage.tables import outbox
from tests.conftest import WAGE, events_of, in_handling


def _outbox(app: App) -> list[tuple[str, str]]:
    with app.engine.connect() as conn:
        return [(r.kind, r.recipient) for r in conn.execute(
            select(outbox.c.kind, outbox.c.recipient).order_by(outbox.c.id))]


def test_queuing_a_message_twice_keeps_one(app):
    in_handling(app)
    with SqlUnitOfWork(app.engine) as uow:
        row = {"key": "k1", "case_id": "c", "kind": "reminder", "recipient": "x",
               "urgent": 0, "payload": {}, "queued_at": app.clock.now()}
        assert uow.queue([row, dict(row)]) == 1
        assert uow.queue([row]) == 0
        uow.commit()


def test_cases_without_a_lifecycle_run_are_found(app):
    case_id = in_handling(app)
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
                          actor="qian.hui")
        s.route_and_assign(app, case.id, actor="intake")
        ids.append(case.id)
    app.clock.advance(days=25)  # every case: several rungs of several clocks are due
    errors: list[BaseException] = []

    def sweeper(name: str) -> None:
        try:
            while sweep(app, sweeper=name, limit=7).fired:
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
        for e in events_of(app, case_id):
            if e.type in ("DeadlineReminder", "DeadlineWarning", "DeadlineBreached",
                          "Escalated"):
                fired[(case_id, e.data["clock"], e.data["rung"])] += 1
    assert fired and max(fired.values()) == 1
    assert {c for c, _, _ in fired} == set(ids)


def test_a_poisoned_case_holds_back_no_other_rung_on_the_database(app):
    """Savepoints on SQLite and PostgreSQL: the poisoned case's failure is undone alone."""
    from tests.unit.test_sweep_faults import poisoned_office

    poisoned, others = poisoned_office(app, 10)
    app.clock.advance(days=75)  # type: ignore[attr-defined]
    swept = sweep(app, sweeper="sweeper-test")
    assert {f.case_id for f in swept.failed} == {poisoned}
    assert {f.case_id for f in swept.fired} >= set(others)
    for case_id in others:
        assert "escalate-secretary" in {e.data.get("rung") for e in events_of(app, case_id)}
    assert sweep(app, sweeper="sweeper-test").failed == []  # retried later, not now
    with app.uow() as uow:
        poisoned_case = uow.cases.get(poisoned, lock=False)
        kinds = [m.kind for m in uow.messages(limit=5000) if m.case_id == poisoned]
    assert len(poisoned_case.rung_failures) == len(swept.failed)
    assert kinds.count("alert") == len(swept.failed)


def test_a_batch_rescheduled_on_the_database_stores_what_each_commit_stored(app):
    """The reschedule reads a batch of cases in one statement and writes their rungs and
    next due for the batch at once: what it stores equals what each case's own commits
    stored (the rungs that fired stay fired), and a case closed is left alone."""
    from sqlalchemy import delete, update

    from services.sweep import reschedule_open
    from storage.tables import cases, rung_schedule

    ids = []
    for i in range(12):
        petitioner = {**WAGE["petitioner"], "id_number": f"1426011980020{i:05d}"}
        case = s.register(app, {**WAGE, "petitioner": petitioner}, registration_no=f"XF-{i}",
                          actor="qian.hui")
        s.route_and_assign(app, case.id, actor="intake")
        ids.append(case.id)
    s.act(app, ids[0], s.ActRequest(s.Act.WITHDRAW, "qian.hui", reason="信访人撤回"))
    app.clock.advance(days=9)  # type: ignore[attr-defined]
    assert sweep(app, sweeper="sweeper-test").fired

    def stored() -> tuple[list[tuple[object, ...]], dict[str, object]]:
        t = rung_schedule.c
        with app.engine.connect() as conn:
            return (sorted(tuple(r) for r in conn.execute(select(
                        t.case_id, t.clock, t.rung, t.fire_at, t.claimed_by))),
                    dict(conn.execute(select(cases.c.id, cases.c.next_due_at)).all()))

    before = stored()
    with app.engine.begin() as conn:
        conn.execute(delete(rung_schedule).where(rung_schedule.c.claimed_at.is_(None)))
        conn.execute(update(cases).where(cases.c.stage != "closed").values(next_due_at=None))
    assert stored() != before
    assert reschedule_open(app, batch=5) == 11
    assert stored() == before
    assert reschedule_open(app, batch=5) == 11  # what is known changed nothing: no event
    assert stored() == before
