"""How a query is read, what of a case it finds, who is the same petitioner, and what those
outside the handling chain see of a phone or ID number (``domain.search_terms``,
``domain.persons``); and search on the in-memory store, judged as on the databases."""

from __future__ import annotations

from typing import Any

from domain.permissions import Sight
from domain.persons import mask_id, mask_phone, normal_phone, same_person
from domain.petition import Petitioner
from domain.search_terms import found_by_number, matches, read_query, searchable
from services import cases, history, search
from tests.conftest import WAGE

CASE = searchable("XF-2026-0101", "刘建军", "138 1234 1234", "14260119800101123x",
                  "工资未按时足额发放", "本人绩效工资比往月少发，请求核查补发。")


def test_a_query_is_split_into_normalised_terms() -> None:
    assert read_query(" 工资，补发  ").terms == ("工资", "补发")
    assert read_query("138-1234-1234").terms == ("13812341234",)
    assert read_query("+86 13812341234").terms == ("13812341234",)
    assert read_query("+8613812341234").terms == ("13812341234",)
    assert read_query("ＸＦ－2026").terms == ("xf-2026",)  # full-width, case folded
    assert read_query("刘建").short and not read_query("刘建军").short
    assert not read_query(" 、 ")


def test_terms_find_words_pairs_and_prefixes() -> None:
    assert matches(CASE, read_query("绩效工资 核查"))
    assert matches(CASE, read_query("工资 补发"))  # two pairs of the text
    assert not matches(CASE, read_query("工资 加班"))
    assert matches(CASE, read_query("1381234"))  # a part of the phone
    assert matches(CASE, read_query("14260119800101123X"))  # the ID's x either case
    assert matches(CASE, read_query("刘")) and matches(CASE, read_query("13"))
    assert not matches(CASE, read_query("军"))  # one character: fields' starts only
    assert found_by_number("XF-2026-0101", read_query("2026-0101"))
    assert not found_by_number("XF-2026-0101", read_query("工资"))


def test_the_same_petitioner_is_the_same_id_number_else_name_and_phone() -> None:
    liu = Petitioner("刘建军", "14260119800101123X", "13812341234")
    assert same_person(liu, Petitioner("刘建军", "14260119800101123x"))
    assert same_person(liu, Petitioner("刘建军", None, "138-1234-1234"))
    assert not same_person(liu, Petitioner("刘建军", "142601199901010000", "13812341234"))
    assert not same_person(liu, Petitioner("刘建国", None, "13812341234"))
    assert same_person(Petitioner("匿名"), Petitioner("匿名"))
    assert normal_phone("+86 138 1234 1234") == "13812341234"


def test_personal_data_is_masked_outside_the_handling_chain() -> None:
    assert mask_phone("138 1234 1234") == "138****1234"
    assert mask_id("14260119800101123x") == "1426**********123X"
    assert mask_phone(None) == mask_id("") == ""


def test_the_in_memory_store_finds_what_the_databases_find(memory_app: Any) -> None:
    app = memory_app
    accusation = {**WAGE, "category": "accusation", "subject": "检举队长截留奖金",
                  "content": "队长张华截留奖金", "accused_persons": ["zhang.hua"],
                  "petitioner": {"name": "赵秀英", "phone": "13700001111"}}
    for number, data in (("XF-M1", WAGE), ("XF-M2", accusation)):
        case = cases.register(app, data, registration_no=number, actor="qian.hui")
        cases.route_and_assign(app, case.id, actor="intake")
    found = search.search(app, "qian.hui", "工资 补发")
    assert [(h.case.registration_no, h.sight) for h in found.hits] == [
        ("XF-M1", Sight.MATERIAL)]
    assert search.search(app, "qian.hui", "截留奖金").hits == []
    assert [h.sight for h in search.search(app, "qian.hui", "XF-M2").hits] == [
        Sight.OUTLINE]
    for text in ("XF-M2", "截留奖金", "赵秀英", "工资"):
        assert search.search(app, "zhang.hua", text).hits == [], text
    assert history.visits(app, "qian.hui", Petitioner("刘建军", None, "13812341234"))[0] == 1
