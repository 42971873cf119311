"""Storage on SQLite and PostgreSQL: cases, events and rungs in one transaction."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import func, select, text

from domain.errors import CaseNotFound, ConcurrentUpdate, DuplicateRegistration
from domain.events import EventType as E
from domain.petition import Category
from domain.stages import Stage
from storage.audit import verify
from storage.migrate import alembic_config, upgrade
from storage.tables import audit_events, cases, rung_schedule
from tests.conftest import at, new_case, wage_petition
from tests.integration.conftest import saved


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_case_comes_back_as_it_was_saved(office, rules, uow_factory):
    case = saved(uow_factory, new_case(office, rules, now=at("2026-03-02 09:30")))
    with uow_factory() as uow:
        again = uow.cases.get("XF-c1")
        assert (again.stage, again.unit, again.responder) == (Stage.ASSIGNED, "hr", "lin.na")
        assert again.petition == case.petition
        assert again.clocks == case.clocks and again.version == 1
        now = at("2026-03-20 09:00")
        assert again.deadlines(rules, now) == case.deadlines(rules, now)


def test_events_are_written_with_the_state_change(office, rules, uow_factory, engine):
    saved(uow_factory, new_case(office, rules))
    with uow_factory() as uow:
        case = uow.cases.get("c1")
        case.acknowledge(actor="lin.na", now=at("2026-03-02 10:00"))
        uow.commit()
    with engine.connect() as conn:
        types = [r.type for r in conn.execute(
            select(audit_events.c.type).order_by(audit_events.c.seq))]
    assert types == [E.CASE_REGISTERED.value, E.CASE_ASSIGNED.value,
                     E.RESPONSE_ACKNOWLEDGED.value]


def test_nothing_is_written_without_commit(office, rules, uow_factory, engine):
    with uow_factory() as uow:
        uow.cases.add(new_case(office, rules))
    assert _count(engine, cases) == 0 and _count(engine, audit_events) == 0


def test_a_duplicate_registration_number_is_refused_and_changes_nothing(office, rules,
                                                                         uow_factory, engine):
    saved(uow_factory, new_case(office, rules, case_id="c1"))
    twin = new_case(office, rules, case_id="c2")
    twin.registration_no = "XF-c1"
    with pytest.raises(DuplicateRegistration, match="'XF-c1' is already registered"):
        saved(uow_factory, twin)
    assert _count(engine, cases) == 1 and _count(engine, audit_events) == 2


def test_a_case_that_does_not_exist_is_named(uow_factory):
    with uow_factory() as uow, pytest.raises(CaseNotFound, match="no case 'XF-404'"):
        uow.cases.get("XF-404")


def test_a_stale_concurrent_update_is_refused_and_changes_nothing(office, rules, uow_factory,
                                                                 engine):
    saved(uow_factory, new_case(office, rules))
    with uow_factory() as first:
        stale = first.cases.get("c1", lock=False)
    with uow_factory() as second:
        second.cases.get("c1").acknowledge(actor="lin.na", now=at("2026-03-02 10:00"))
        second.commit()
    with uow_factory() as late:
        late.cases.seen[stale.id] = stale
        stale.decline(reason="不属于信访事项", actor="li.ming", now=at("2026-03-02 11:00"))
        with pytest.raises(ConcurrentUpdate, match="changed by someone else"):
            late.commit()
    with uow_factory() as uow:
        assert uow.cases.get("c1").stage is Stage.ACKNOWLEDGED
    assert _count(engine, audit_events) == 3


def test_pending_rungs_are_scheduled_and_claimed_once(office, rules, uow_factory, engine):
    case = new_case(office, rules)
    case.acknowledge(actor="lin.na", now=at("2026-03-02 10:00"))
    case.accept(actor="qian.hui", now=at("2026-03-02 11:00"))
    saved(uow_factory, case)
    assert _count(engine, rung_schedule) == len(case.schedule(rules, at("2026-03-02 11:00")))
    with uow_factory() as uow:
        claimed = uow.claim_due(at("2026-04-05 12:00"), "sweeper-a", 100)
        for rung in claimed:
            uow.cases.get(rung.case_id).fire_rung(rung.clock, rung.rung, actor="sweeper-a",
                                                  now=at("2026-04-05 12:00"), rules=rules)
        uow.commit()
    # Acceptance cancelled the objection window, so its lapse is no longer scheduled.
    assert [(c.clock, c.rung) for c in claimed] == [("handling", "reminder")]
    with uow_factory() as uow:
        assert uow.claim_due(at("2026-04-05 12:00"), "sweeper-b", 100) == []
        assert uow.cases.get("c1").fired == {("handling", "reminder")}


def test_a_claim_rolled_back_is_claimed_again(office, rules, uow_factory):
    case = new_case(office, rules)
    saved(uow_factory, case)
    with uow_factory() as uow:
        assert uow.claim_due(at("2026-03-02 12:30"), "crashed", 10)
    with uow_factory() as uow:
        assert [c.rung for c in uow.claim_due(at("2026-03-02 12:30"), "next", 10)] == ["reminder"]


def test_the_audit_chain_verifies(office, rules, uow_factory, engine):
    for i in range(3):
        saved(uow_factory, new_case(office, rules, case_id=f"c{i}"))
    with engine.connect() as conn:
        assert verify(conn) == (3, [])


def _tamper(engine, sql: str) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        for statement in sql.split(";"):
            conn.execute(text(statement))
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))


@pytest.mark.parametrize(("sql", "seq", "problem"), [
    ("UPDATE audit_events SET actor = 'mallory' WHERE case_id = 'c1' AND seq = 2", 2,
     "content was changed"),
    ("UPDATE audit_events SET data = '{\"subject\": \"x\"}' WHERE case_id = 'c1' AND seq = 1",
     1, "content was changed"),
    ("DELETE FROM audit_events WHERE case_id = 'c1' AND seq = 2", 3, "missing or out of order"),
    ("DELETE FROM audit_events WHERE case_id = 'c1' AND seq = 3", 2, "were deleted"),
    ("UPDATE audit_events SET seq = 100 WHERE case_id = 'c1' AND seq = 2;"
     "UPDATE audit_events SET seq = 2 WHERE case_id = 'c1' AND seq = 3;"
     "UPDATE audit_events SET seq = 3 WHERE case_id = 'c1' AND seq = 100", 3,
     "missing or out of order"),
])
def test_a_tampered_audit_row_is_found(office, rules, uow_factory, engine, sql, seq, problem):
    saved(uow_factory, new_case(office, rules, case_id="c0"))
    case = new_case(office, rules, case_id="c1")
    case.acknowledge(actor=case.responder, now=at("2026-03-02 10:00"))
    saved(uow_factory, case)
    _tamper(engine, sql)
    with engine.connect() as conn:
        checked, breaks = verify(conn)
    assert checked == 2 and len(breaks) == 1
    assert (breaks[0].case_id, breaks[0].seq) == ("c1", seq)
    assert problem in breaks[0].problem


def test_postgresql_itself_refuses_to_change_audit_rows(office, rules, uow_factory, engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no such guard; verify finds changed rows there")
    from sqlalchemy.exc import DBAPIError

    saved(uow_factory, new_case(office, rules))
    for sql in ("UPDATE audit_events SET actor = 'mallory'", "DELETE FROM audit_events",
                "TRUNCATE audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(sql))
    assert _count(engine, audit_events) == 2


def test_an_existing_schedule_survives_the_upgrade_to_the_clustered_table(office, rules,
                                                                          uow_factory, engine):
    """Migration 0002 rebuilds rung_schedule: pending and fired rungs are kept as they were."""
    case = new_case(office, rules)
    saved(uow_factory, case)
    with uow_factory() as uow:
        fired = uow.claim_due(at("2026-03-02 12:30"), "sweeper-a", 10)
        uow.commit()
    rows = _rungs(engine)
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    assert _rungs(engine) == rows
    upgrade(engine)
    assert _rungs(engine) == rows
    with uow_factory() as uow:  # what fired before the upgrade does not fire again
        later = uow.claim_due(at("2026-04-30 12:00"), "sweeper-b", 100)
    assert fired and not {(c.clock, c.rung) for c in fired} & {(c.clock, c.rung) for c in later}


def _rungs(engine):  # type: ignore[no-untyped-def]
    t = rung_schedule.c
    with engine.connect() as conn:
        return sorted(conn.execute(select(t.case_id, t.clock, t.rung, t.fire_at, t.claimed_by)))


def test_the_newest_revision_is_read_as_alembic_reads_it(engine):
    from alembic.script import ScriptDirectory

    from storage.schema import head, stored_revision, upgrade_if_behind

    assert head() == ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert stored_revision(engine) == head()
    assert upgrade_if_behind(engine) is False
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")
    assert stored_revision(engine) == "0005"
    assert upgrade_if_behind(engine) is True and stored_revision(engine) == head()


def test_an_open_case_from_before_the_due_index_is_never_missed(office, rules, uow_factory,
                                                                 engine):
    """Migration 0009: an open case stored before it starts with its registration instant
    as its next due, so "past its next due" finds it until the real one is stored."""
    case = new_case(office, rules)
    saved(uow_factory, case)
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0008")
    upgrade(engine)
    with uow_factory() as uow:
        found = uow.find_cases(due_before=at("2026-03-02 09:01"))
        assert [c.id for c in found] == [case.id]
        assert uow.find_cases(due_before=at("2026-03-02 08:59")) == []


def test_an_accusation_from_before_its_marks_gets_them_in_the_upgrade(office, rules,
                                                                      uow_factory, engine):
    """Migration 0013 writes each stored accusation's marks (another petition's are "")."""
    accusation = wage_petition(category=Category.ACCUSATION, concerns_unit="mining1",
                               accused_persons=("赵强",))
    saved(uow_factory, new_case(office, rules, accusation, case_id="a1"))
    saved(uow_factory, new_case(office, rules, wage_petition(), case_id="w1"))
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0012")
    upgrade(engine)
    with engine.connect() as conn:
        marks = dict(conn.execute(select(cases.c.id, cases.c.accused_marks)).all())
    assert marks == {"a1": "|p:赵强|u:mining1|", "w1": ""}
