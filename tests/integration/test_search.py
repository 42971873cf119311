"""Search and the petitioner's history on each database (SQLite's FTS5 trigram index,
PostgreSQL's pg_trgm): what a clerk, a handler, an outline reader, the accused and an
outsider find, page by page, and the migration that indexes the cases stored before it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, delete

from domain.errors import CaseNotFound, ConfigError
from domain.permissions import Sight
from services import cases, history, search
from storage.migrate import alembic_config
from storage.tables import case_search
from tests.conftest import WAGE

ACCUSATION = {**WAGE, "category": "accusation", "subject": "综采一队队长截留职工奖金",
              "content": "队长张华在绩效考核中截留奖金，拒不发放", "accused_persons": ["zhang.hua"],
              "concerns_unit": "mining1",
              "petitioner": {"name": "赵秀英", "phone": "13700001111"}}
OTHER = {**WAGE, "subject": "家属区住房漏水", "content": "屋顶漏水多次报修未果，请求维修。",
         "petitioner": {"name": "王建国", "phone": "13600002222"}}


def register(app: Any, data: dict[str, Any], number: str) -> Any:
    case = cases.register(app, data, registration_no=number, actor="qian.hui")
    return cases.route_and_assign(app, case.id, actor="intake")


def refs(app: Any, viewer: str, text: str, **kw: Any) -> list[str]:
    return [h.case.registration_no for h in search.search(app, viewer, text, **kw).hits]


@pytest.fixture
def filed(app: Any) -> dict[str, Any]:
    return {"wage": register(app, WAGE, "XF-2026-0101"),
            "accusation": register(app, ACCUSATION, "XF-2026-0102"),
            "other": register(app, OTHER, "XF-2026-0103")}


def test_the_clerk_finds_a_letter_by_phone_name_number_and_words_of_its_content(
        app: Any, filed: dict[str, Any]) -> None:
    for text in ("13812341234", "138 1234 1234", "138-1234-1234", "刘建军", "XF-2026-0101",
                 "xf-2026-0101", "工资 补发", "少发约三千元", "142601198001011234",
                 "2026-0101"):
        assert refs(app, "qian.hui", text) == ["XF-2026-0101"], text
    assert refs(app, "qian.hui", "漏水") == ["XF-2026-0103"]
    assert refs(app, "qian.hui", "刘建") == ["XF-2026-0101"]  # two characters: a prefix
    assert refs(app, "qian.hui", "刘") == ["XF-2026-0101"]
    assert refs(app, "qian.hui", "建军") == ["XF-2026-0101"]  # a pair of the text
    assert refs(app, "qian.hui", "军") == []  # one character: prefixes of fields only
    assert refs(app, "qian.hui", "刘 建 军") == ["XF-2026-0101"]  # each somewhere
    assert refs(app, "qian.hui", "XF-2026") == ["XF-2026-0103", "XF-2026-0102", "XF-2026-0101"]


def test_the_clerk_sees_the_phone_and_id_number_masked_the_handler_in_full(
        app: Any, filed: dict[str, Any]) -> None:
    mine = search.search(app, "qian.hui", "13812341234")
    record = search.hit_record(app, mine.hits[0], mine.query)
    assert record["phone"] == "138****1234" and record["id_number"] == "1426**********1234"
    assert "补发" in record["snippet"] and record["stage_label"]
    handler = filed["wage"].responder
    theirs = search.search(app, handler, "13812341234")
    assert theirs.hits[0].sight is Sight.FULL
    assert search.hit_record(app, theirs.hits[0])["phone"] == "13812341234"


def test_the_accused_and_an_outsider_find_nothing_as_a_query_matching_nothing(
        app: Any, filed: dict[str, Any]) -> None:
    nothing = search.search(app, "zhang.hua", "没有这样的信访件内容")
    assert nothing.hits == [] and not nothing.more
    for who in ("zhang.hua", "guo.peng"):
        for text in ("截留奖金", "赵秀英", "13700001111", "XF-2026-0102", "XF-2026-01",
                     "XF", "赵秀", "队长", "绩效考核"):
            found = search.search(app, who, text)
            assert (found.hits, found.more) == (nothing.hits, nothing.more), (who, text)
            assert search.found_record(app, found) == {**search.found_record(
                app, nothing), "q": text}


def test_an_outline_reader_finds_an_accusation_by_its_number_only(
        app: Any, filed: dict[str, Any]) -> None:
    for text in ("赵秀英", "13700001111", "截留奖金", "绩效考核", "赵秀"):
        assert "XF-2026-0102" not in refs(app, "qian.hui", text), text
    found = search.search(app, "qian.hui", "XF-2026-0102")
    assert [h.sight for h in found.hits] == [Sight.OUTLINE]
    record = search.hit_record(app, found.hits[0], found.query)
    assert record["petitioner"] is None and record["snippet"] is None
    assert record["phone"] is None and "截留" not in str(record)
    handler = filed["accusation"].responder
    assert refs(app, handler, "截留奖金") == ["XF-2026-0102"]
    assert refs(app, handler, "赵秀英") == ["XF-2026-0102"]


def test_pages_say_whether_more_follow_and_never_how_many(app: Any) -> None:
    for n in range(5):
        register(app, {**OTHER, "content": f"第{n}次反映屋顶漏水"}, f"XF-P-{n}")
    first = search.search(app, "qian.hui", "屋顶漏水", limit=2)
    assert [h.case.registration_no for h in first.hits] == ["XF-P-4", "XF-P-3"]
    assert first.more and first.after == first.hits[-1].case.id
    rest = search.search(app, "qian.hui", "屋顶漏水", limit=2, after=first.after)
    last = search.search(app, "qian.hui", "屋顶漏水", limit=2, after=rest.after)
    assert [h.case.registration_no for h in rest.hits + last.hits] == [
        "XF-P-2", "XF-P-1", "XF-P-0"]
    assert not last.more and last.after is None
    assert "total" not in search.found_record(app, first)
    hidden = register(app, ACCUSATION, "XF-P-A")  # after a case one may not see: nothing
    responder = first.hits[0].case.responder
    assert refs(app, responder, "XF-P")[:2] == ["XF-P-4", "XF-P-3"]
    for after in (hidden.id, "p-000000000000"):
        assert search.search(app, responder, "XF-P", after=after).hits == []


def test_an_empty_or_overlong_query_is_refused_in_one_line(app: Any) -> None:
    with pytest.raises(ConfigError, match="nothing to search for"):
        search.search(app, "qian.hui", "  ，  ")
    with pytest.raises(ConfigError, match="at most 100 characters"):
        search.search(app, "qian.hui", "工" * 101)


def test_the_history_counts_what_the_viewer_may_see_of_one_person(app: Any) -> None:
    first = register(app, WAGE, "XF-H-1")
    again = register(app, {**WAGE, "channel": "visit", "petitioner": {
        "name": "刘建军", "phone": "138 1234 1234"}}, "XF-H-2")  # no ID: name and phone
    accusation = register(app, {**ACCUSATION, "petitioner": WAGE["petitioner"]}, "XF-H-3")
    register(app, {**WAGE, "petitioner": {"name": "刘建军", "phone": "13900009999",
                                          "id_number": "142601199901010000"}}, "XF-H-4")
    assert again.repeat_of == first.id  # the same person, the same matter
    clerk = history.petitioner_history(app, "qian.hui", first.id)
    assert [h.case.registration_no for h in clerk.hits] == ["XF-H-2", "XF-H-1"]
    assert dict((c, n) for c, _, n in clerk.by_channel) == {"letter": 1, "visit": 1}
    assert clerk.repeats == 1 and clerk.open == 2 and clerk.phone == "138****1234"
    handler = history.petitioner_history(app, accusation.responder, accusation.id)
    assert [h.case.registration_no for h in handler.hits] == ["XF-H-3"]
    assert history.visits(app, "qian.hui", first.petition.petitioner)[0] == 2
    with pytest.raises(CaseNotFound):  # an outline reader learns no accuser from it
        history.petitioner_history(app, "qian.hui", accusation.id)
    with pytest.raises(CaseNotFound):
        history.petitioner_history(app, "guo.peng", first.id)


def test_the_migration_indexes_the_cases_stored_before_it(
        app: Any, engine: Engine, filed: dict[str, Any]) -> None:
    from alembic import command

    cfg = alembic_config()
    with engine.begin() as conn:
        conn.execute(delete(case_search))
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0021")
        command.upgrade(cfg, "head")
    assert refs(app, "qian.hui", "工资 补发") == ["XF-2026-0101"]
    assert refs(app, "qian.hui", "13812341234") == ["XF-2026-0101"]
    handler = filed["accusation"].responder
    assert refs(app, handler, "截留奖金") == ["XF-2026-0102"]
    assert refs(app, "qian.hui", "截留奖金") == []


def test_a_common_query_read_latest_first_finds_what_its_index_finds(
        app: Any, filed: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from storage import search as stored

    queries = ("工资 补发", "XF-2026", "刘建", "刘", "建军", "截留奖金", "13812341234")
    viewers = ("qian.hui", filed["accusation"].responder, "zhang.hua")
    by_index = {(w, t): refs(app, w, t) for w in viewers for t in queries}
    monkeypatch.setattr(stored, "DENSE", 1)  # every query counts as common
    assert {(w, t): refs(app, w, t) for w in viewers for t in queries} == by_index


def test_a_query_holding_a_control_character_is_refused_in_one_line(app: Any) -> None:
    for text in ("\x00abc", "工资\x1b补发"):
        with pytest.raises(ConfigError, match="control character"):
            search.search(app, "qian.hui", text)


def test_a_name_that_normalises_longer_than_it_was_is_registered_and_found(app: Any) -> None:
    # NFKC makes U+FDFA eighteen characters: within the petition's limits, not the index's.
    register(app, {**OTHER, "petitioner": {"name": "\ufdfa" * 50, "phone": "13600003333",
                                           "id_number": "\ufdfa" * 18}}, "XF-2026-0104")
    assert refs(app, "qian.hui", "13600003333") == ["XF-2026-0104"]


def test_a_repeat_of_an_accusation_is_not_named_to_its_outline_reader(
        app: Any, filed: dict[str, Any]) -> None:
    from services import workplace

    again = register(app, ACCUSATION, "XF-2026-0105")  # the same accuser, the same matter
    assert again.repeat_of == filed["accusation"].id
    clerk = workplace.case_view(app, again.id, "qian.hui")
    assert clerk.header["repeat_ref"] == "" and clerk.header["repeat_of"] == ""
    assert "XF-2026-0102" not in " ".join(str(e) for e in clerk.events)
    assert again.unit == filed["accusation"].unit
    head = app.office.org.units[again.unit].head  # in both cases' handling chain
    assert workplace.case_view(app, again.id, head).header["repeat_ref"] == "XF-2026-0102"


def test_a_repeat_named_at_intake_must_be_one_the_registrar_may_read(
        app: Any, filed: dict[str, Any]) -> None:
    from domain.errors import RuleViolation

    refusals = []
    for named in ("XF-2026-0102", "XF-2026-9999"):  # an accusation's number; none
        with pytest.raises(RuleViolation) as e:
            cases.register(app, {**OTHER, "repeat_of": named}, registration_no="XF-2026-0106",
                           actor="qian.hui")
        refusals.append(str(e.value).replace(named, "N"))
    assert refusals[0] == refusals[1]  # the same line: the field tells nothing
    assert refs(app, "qian.hui", "XF-2026-0106") == []  # nothing stored
    linked = cases.register(app, {**OTHER, "repeat_of": "XF-2026-0103"},
                            registration_no="XF-2026-0107", actor="qian.hui")
    assert linked.repeat_of in ("XF-2026-0103", filed["other"].id)
