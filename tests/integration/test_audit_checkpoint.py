"""The audit chains checked from a signed checkpoint, on SQLite and PostgreSQL: the daily
check reads only what was written since the last one, a row changed or deleted since is
found at once, a row changed before it waits for the full check, and a checkpoint that does
not carry the installation key's signature is not trusted."""

from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import Engine, insert, select, text, update

from domain.events import DomainEvent
from domain.events import EventType as E
from domain.instants import format_local
from services.bootstrap import App
from services.reading import audit_state
from services.sweep import daily_checks
from storage.audit import KEY_FILE, audit_key
from storage.chain import AuditCheck, chain_rows
from storage.repository import SqlUnitOfWork
from storage.tables import audit_checkpoints, audit_events, cases
from tests.conftest import at, new_case
from tests.integration.conftest import RulesUnitOfWork, saved

KEY = b"the installation's audit key"
NOW = at("2026-03-03 07:00")


def _verify(engine: Engine, *, full: bool = False, key: bytes = KEY) -> AuditCheck:
    with SqlUnitOfWork(engine) as uow:
        found = uow.audit_verify(key, NOW, full=full)
        uow.commit()
    return found


def _three_cases(office, rules, uow_factory) -> None:  # type: ignore[no-untyped-def]
    for i in range(3):
        saved(uow_factory, new_case(office, rules, case_id=f"c{i}"))  # 2 rows each


def _acknowledge(uow_factory, case_id: str, actor: str = "lin.na") -> None:  # type: ignore[no-untyped-def]
    with uow_factory() as uow:
        uow.cases.get(case_id).acknowledge(actor=actor, now=at("2026-03-02 10:00"))
        uow.commit()


def _tamper(engine: Engine, sql: str) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        conn.execute(text(sql))
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))


def test_the_first_check_reads_every_row_and_the_next_only_the_new_ones(
        office, rules, uow_factory, engine):
    _three_cases(office, rules, uow_factory)
    first = _verify(engine)
    assert (first.checked, first.breaks, first.full, first.rows_read) == (3, [], True, 6)
    assert first.note is not None and "no checkpoint yet" in first.note
    _acknowledge(uow_factory, "c1")
    saved(uow_factory, new_case(office, rules, case_id="c3"))
    then = _verify(engine)
    assert (then.checked, then.breaks, then.full) == (4, [], False)
    assert then.since == first.checkpoint and then.rows_read == 3  # c1's new row, c3's two
    quiet = _verify(engine)
    assert (quiet.checked, quiet.breaks, quiet.rows_read) == (4, [], 0)


def test_audit_check_gives_what_it_always_gave_and_from_a_checkpoint_writes_nothing(
        office, rules, uow_factory, engine):
    _three_cases(office, rules, uow_factory)
    with uow_factory() as uow:
        assert uow.audit_check() == (3, [])
        assert uow.audit_check(KEY) == (3, [])  # no checkpoint yet: every row
    _verify(engine)
    _acknowledge(uow_factory, "c2")
    with uow_factory() as uow:
        assert uow.audit_check(KEY) == (3, [])
    with engine.connect() as conn:
        assert len(conn.execute(select(audit_checkpoints.c.id)).all()) == 1


def test_a_row_changed_before_the_checkpoint_is_found_by_the_full_check_only(
        office, rules, uow_factory, engine):
    _three_cases(office, rules, uow_factory)
    _verify(engine)
    _tamper(engine, "UPDATE audit_events SET actor = 'mallory' WHERE case_id = 'c1' AND seq = 1")
    _acknowledge(uow_factory, "c2")
    daily = _verify(engine)
    assert (daily.breaks, daily.rows_read) == ([], 1)  # c1's rows are not read again
    full = _verify(engine, full=True)
    assert [(b.case_id, b.seq) for b in full.breaks] == [("c1", 1)]
    assert "content was changed" in full.breaks[0].problem
    after = _verify(engine)  # the next daily check still names it: the checkpoint holds it
    assert (after.full, [(b.case_id, b.seq) for b in after.breaks]) == (False, [("c1", 1)])


@pytest.mark.parametrize(("sql", "seq", "problem"), [
    ("UPDATE audit_events SET actor = 'mallory' WHERE case_id = 'c1' AND seq = 3", 3,
     "content was changed"),
    ("DELETE FROM audit_events WHERE case_id = 'c1' AND seq = 4", 3, "were deleted"),
    ("DELETE FROM audit_events WHERE case_id = 'c1' AND seq = 3", 4, "missing or out of order"),
    ("DELETE FROM audit_events WHERE case_id = 'c1' AND seq > 2", 2, "were deleted"),
    ("UPDATE audit_events SET seq = 100 WHERE case_id = 'c1' AND seq = 3;"
     "UPDATE audit_events SET seq = 3 WHERE case_id = 'c1' AND seq = 4;"
     "UPDATE audit_events SET seq = 4 WHERE case_id = 'c1' AND seq = 100", 4,
     "missing or out of order"),
])
def test_a_row_changed_or_deleted_after_the_checkpoint_is_found_by_the_daily_check(
        office, rules, uow_factory, engine, sql, seq, problem):
    _three_cases(office, rules, uow_factory)
    _verify(engine)
    with uow_factory() as uow:  # c1's rows 3 and 4, after the checkpoint
        case = uow.cases.get("c1")
        case.acknowledge(actor="lin.na", now=at("2026-03-02 10:00"))
        case.accept(actor="lin.na", now=at("2026-03-02 11:00"))
        uow.commit()
    for statement in sql.split(";"):
        _tamper(engine, statement)
    daily = _verify(engine)
    assert not daily.full and daily.checked == 3
    assert [(b.case_id, b.seq) for b in daily.breaks] == [("c1", seq)]
    assert problem in daily.breaks[0].problem
    assert [(b.case_id, b.seq) for b in _verify(engine, full=True).breaks] == [("c1", seq)]


def test_a_case_head_moved_back_after_the_checkpoint_is_found(office, rules, uow_factory,
                                                              engine):
    _three_cases(office, rules, uow_factory)
    _verify(engine)
    with engine.begin() as conn:
        conn.execute(update(cases).where(cases.c.id == "c0").values(audit_seq=1))
    daily = _verify(engine)
    assert [(b.case_id, b.row_id) for b in daily.breaks] == [("c0", 0)]
    assert "records 1 rows" in daily.breaks[0].problem


@pytest.mark.parametrize("forgery", [
    # rows 7 and up hidden: a checkpoint that claims to have seen them
    "UPDATE audit_checkpoints SET high_water = high_water + 1000",
    "UPDATE audit_checkpoints SET signature = '" + "0" * 64 + "'",
    "UPDATE audit_checkpoints SET body_sha256 = '" + "0" * 64 + "'",
])
def test_a_forged_checkpoint_is_not_trusted_and_every_row_is_read(
        office, rules, uow_factory, engine, forgery):
    _three_cases(office, rules, uow_factory)
    _verify(engine)
    _acknowledge(uow_factory, "c1")
    _tamper(engine, "UPDATE audit_events SET actor = 'mallory' WHERE case_id = 'c1' AND seq = 3")
    with engine.begin() as conn:
        conn.execute(text(forgery))
    daily = _verify(engine)
    assert daily.full and daily.rows_read == 7
    assert daily.note is not None and "not trusted" in daily.note
    assert [(b.case_id, b.seq) for b in daily.breaks] == [("c1", 3)]


def test_a_checkpoint_signed_with_another_key_is_not_trusted(office, rules, uow_factory,
                                                            engine):
    _three_cases(office, rules, uow_factory)
    _verify(engine, key=b"someone else's key")
    again = _verify(engine)
    assert again.full and "not trusted" in (again.note or "")


def test_only_the_newest_checkpoints_are_kept(office, rules, uow_factory, engine):
    _three_cases(office, rules, uow_factory)
    made = [_verify(engine).checkpoint for _ in range(5)]
    with engine.connect() as conn:
        kept = list(conn.execute(select(audit_checkpoints.c.id)
                                 .order_by(audit_checkpoints.c.id)).scalars())
    assert kept == made[-3:]


def test_a_row_committed_after_the_checkpoint_with_an_earlier_id_is_read(
        office, rules, uow_factory, engine):
    """PostgreSQL hands out ids before commit: a transaction that took its row id before a
    checkpoint and committed after it left a row below the high-water mark. Its chain's
    head moved, so its rows since the checkpoint are read alone: no false break."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: no row commits out of id order")
    _three_cases(office, rules, uow_factory)
    late = engine.connect()
    try:
        tx = late.begin()
        _append(late, "c1")  # takes the next id, not yet committed
        _acknowledge(uow_factory, "c2")  # a later id, committed
        checkpoint = _verify(engine)
        assert checkpoint.breaks == []
        tx.commit()
    finally:
        late.close()
    daily = _verify(engine)
    assert (daily.full, daily.breaks, daily.checked) == (False, [], 3)
    assert daily.rows_read == 1  # c1's late row
    assert _verify(engine, full=True).breaks == []


def _append(conn, case_id: str) -> None:  # type: ignore[no-untyped-def]
    """One more audit row on ``case_id``'s chain, as the repository writes it."""
    head = conn.execute(select(cases.c.audit_seq, cases.c.audit_head)
                        .where(cases.c.id == case_id)).one()
    event = DomainEvent(E.RESPONSE_ACKNOWLEDGED, case_id, "lin.na", at("2026-03-02 10:00"),
                        "assigned")
    rows = chain_rows(case_id, [event], head.audit_seq, head.audit_head)
    conn.execute(insert(audit_events), rows)
    conn.execute(update(cases).where(cases.c.id == case_id).values(
        audit_seq=rows[-1]["seq"], audit_head=rows[-1]["hash"]))


def test_daily_checks_continue_from_the_checkpoint_signed_with_the_key_in_home(
        app: App, office, rules, engine, monkeypatch):
    monkeypatch.delenv("PETITIONS_AUDIT_KEY", raising=False)
    for i in range(2):
        with RulesUnitOfWork(engine, rules) as uow:
            uow.cases.add(new_case(office, rules, case_id=f"c{i}"))
            uow.commit()
    first = daily_checks(app)
    assert first.audit is not None and first.audit.full and first.chains_checked == 2
    key_file = app.settings.home / KEY_FILE
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    second = daily_checks(app)
    assert second.audit is not None and not second.audit.full
    assert (second.chains_checked, second.breaks, second.audit.rows_read) == (2, [], 0)
    key_file.unlink()  # a new key: the checkpoints signed with the old one are not trusted
    third = daily_checks(app)
    assert third.audit is not None and third.audit.full
    assert "not trusted" in (third.audit.note or "")


def test_the_audit_key_is_the_environments_when_set(tmp_path):
    assert audit_key(tmp_path, {"PETITIONS_AUDIT_KEY": "s3cret"}) == b"s3cret"
    assert not (tmp_path / KEY_FILE).exists()
    made = audit_key(tmp_path, {})
    assert audit_key(tmp_path, {}) == made and len(made) == 64


def test_the_last_check_is_shown_without_reading_a_row(office, rules, uow_factory, engine):
    _three_cases(office, rules, uow_factory)
    with uow_factory() as uow:
        assert uow.audit_last(KEY) is None  # none yet
    _tamper(engine, "UPDATE audit_events SET actor = 'mallory' WHERE case_id = 'c2' AND seq = 2")
    made = _verify(engine)
    with uow_factory() as uow:
        shown = uow.audit_last(KEY)
        assert shown is not None and shown.checkpoint == made.checkpoint
        assert (shown.checked, [(b.case_id, b.seq) for b in shown.breaks]) == (3, [("c2", 2)])
        assert shown.at == NOW.replace(microsecond=0)
        assert uow.audit_last(b"another key") is None


def test_the_pages_show_the_last_checks_findings_and_when(app: App, office, rules,
                                                         uow_factory, engine, monkeypatch):
    monkeypatch.setenv("PETITIONS_AUDIT_KEY", KEY.decode())
    _three_cases(office, rules, uow_factory)
    with app.uow() as uow:  # no checkpoint yet: checked on the spot
        assert audit_state(app, uow) == (3, [], format_local(app.clock.now()))
    _acknowledge(uow_factory, "c2")  # c2's row 3, after the checkpoint to come
    _verify(engine)
    _tamper(engine, "UPDATE audit_events SET actor = 'mallory' WHERE case_id = 'c2' AND seq = 3")
    with app.uow() as uow:  # the last check found none: the page says so, and when
        assert audit_state(app, uow) == (3, [], format_local(NOW))
    _acknowledge(uow_factory, "c0")
    _tamper(engine, "UPDATE audit_events SET actor = 'mallory' WHERE case_id = 'c0' AND seq = 3")
    _verify(engine)  # the morning's check finds the row changed since
    with app.uow() as uow:
        checked, breaks, when = audit_state(app, uow)
    assert (checked, [(b.case_id, b.seq) for b in breaks], when) == (3, [("c0", 3)],
                                                                      format_local(NOW))


def test_a_checkpoint_whose_body_was_swapped_is_not_trusted(office, rules, uow_factory,
                                                           engine):
    """The pages verify a checkpoint's signature by its body's recorded SHA-256 without
    reading the body; a check that opens the body compares it with that digest first."""
    from storage.audit import _body, _Found

    _three_cases(office, rules, uow_factory)
    _verify(engine)
    _acknowledge(uow_factory, "c1")
    _tamper(engine, "UPDATE audit_events SET actor = 'mallory' WHERE case_id = 'c1' AND seq = 3")
    forged = _Found({c: (0, "0" * 64) for c in ("c0", "c1", "c2")}, high_water=10**6)
    with engine.begin() as conn:  # every chain whole up to a row past them all
        conn.execute(update(audit_checkpoints).values(body=_body(forged)))
    daily = _verify(engine)
    assert daily.full and "not trusted" in (daily.note or "")
    assert [(b.case_id, b.seq) for b in daily.breaks] == [("c1", 3)]
