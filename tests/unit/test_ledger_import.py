"""The ledger (台账) mapping and row checks (``domain/ledger.py``): values read through the
labels, the ids and the mapping's own words; every problem with its row and field."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from domain.errors import PetitionError
from domain.ledger import ColumnMap, Reached, read_mapping, read_row, read_rows, replay
from domain.stages import Stage
from services.config import Office
from tests.conftest import at

NOW = at("2026-11-20 11:00")
MAPPING = read_mapping({
    "columns": {"name": "姓名", "received_at": "日期", "channel": "形式", "category": "类别",
                "subject": "事项", "unit": "单位", "responder": "责任人",
                "stage_reached": "进度", "decided_at": "答复日期", "outcome": "结果",
                "resolution": "三个到位"},
    "values": {"channel": {"信": "letter"}, "stage_reached": {"结案": "closed"}}})


def row(**cells: Any) -> dict[str, Any]:
    return {"name": "王秀兰", "received_at": "2025-03-04", "channel": "来访",
            "category": "申诉求决类", "subject": "津贴少发", **cells}


def test_values_are_read_by_label_by_id_and_by_the_mappings_own_word(office: Office) -> None:
    for word, channel in (("来信", "letter"), ("letter", "letter"), ("信", "letter"),
                          ("网上信访", "online")):
        entry, problems = read_row(2, row(channel=word), MAPPING, office.org, NOW, office.routing)
        assert problems == [] and entry is not None
        assert entry.petition["channel"] == channel


def test_a_day_is_received_at_nine_local_and_an_excel_date_cell_too(office: Office) -> None:
    for cell in ("2025-03-04", "2025/3/4", "2025年3月4日", dt.datetime(2025, 3, 4)):
        entry, _ = read_row(2, row(received_at=cell), MAPPING, office.org, NOW, office.routing)
        assert entry is not None
        assert entry.petition["received_at"] == at("2025-03-04 09:00").isoformat()


def test_a_closed_row_replays_to_its_decision_with_its_unit_and_responder_by_name(
        office: Office) -> None:
    entry, problems = read_row(5, row(unit="人力资源部", responder="林娜", stage_reached="结案",
                                      decided_at="2025-03-28", outcome="支持",
                                      resolution="解决问题到位"), MAPPING, office.org, NOW,
                               office.routing)
    assert problems == [] and entry is not None
    assert (entry.reached, entry.unit, entry.responder) == (Reached.CLOSED, "hr", "lin.na")
    assert entry.decided_at == at("2025-03-28 09:00")


def test_every_problem_of_every_row_is_listed_with_its_row_and_field(office: Office) -> None:
    rows = [(2, row(channel="传真")),
            (3, row(name="", received_at="2027-01-01")),
            (4, row(stage_reached="已办结", unit="人力资源部")),
            (5, row())]
    entries, problems = read_rows(rows, MAPPING, office.org, NOW, office.routing)
    assert [e.row for e in entries] == [5]
    assert problems[0].startswith("第2行 信访渠道（形式）：“传真”不是")
    assert "第3行 信访人（姓名）：必填，未填写" in problems
    assert any(p.startswith("第3行 收到时间（日期）") and "在将来" in p for p in problems)
    for f in ("首问责任人（责任人）", "答复日期（答复日期）", "处理结果（结果）",
              "三个到位（三个到位）"):
        assert any(p.startswith(f"第4行 {f}") for p in problems), f
    assert len(problems) == 7


def test_a_decision_before_the_receipt_is_refused(office: Office) -> None:
    _, problems = read_row(2, row(unit="hr", responder="lin.na", stage_reached="已答复",
                                  decided_at="2025-03-01", outcome="support",
                                  resolution="resolved"), MAPPING, office.org, NOW, office.routing)
    assert problems == ["第2行 答复日期（答复日期）：早于收到时间"]


@pytest.mark.parametrize("data, says", [
    ({"columns": {"name": "姓名"}}, "no column for received_at"),
    ({"columns": {**MAPPING.columns, "colour": "颜色"}}, "unknown field(s) colour"),
    ({"cols": {}}, "expected 'columns:'"),
])
def test_a_mapping_file_missing_a_field_or_naming_an_unknown_one_is_one_clear_line(
        data: Any, says: str) -> None:
    with pytest.raises(PetitionError, match="mapping: ") as e:
        read_mapping(data)
    assert says in str(e.value) and "\n" not in str(e.value)


def test_the_mapping_keeps_its_words(office: Office) -> None:
    assert isinstance(MAPPING, ColumnMap) and MAPPING.values["channel"] == {"信": "letter"}


def _replayed(office: Office, rules: Any, decided: str) -> Any:
    entry, problems = read_row(7, row(unit="hr", responder="lin.na", stage_reached="已办结",
                                      decided_at=decided, outcome="support",
                                      resolution="resolved", received_at="2025-03-04"),
                               MAPPING, office.org, NOW, office.routing)
    assert problems == [] and entry is not None
    return replay(entry, case_id="p-1", registration_no="TZ-7", policy=rules.policy,
                  rules=rules, actor="qian.hui", file="台账.xlsx", now=NOW)


def test_a_closed_row_is_struck_off_when_its_windows_ended_long_ago(
        office: Office, rules: Any) -> None:
    case = _replayed(office, rules, "2025-03-28")
    kinds = [e.type.value for e in case.events]
    assert case.stage is Stage.CLOSED
    assert kinds[:3] == ["CaseRegistered", "CaseAssigned", "ResponseAcknowledged"]
    assert kinds[-3:] == ["WindowLapsed", "CaseStruckOff", "Imported"]
    assert case.events[-1].data == {"file": "台账.xlsx", "row": 7, "stage_reached": "closed"}
    assert not any(k in kinds for k in ("DeadlineReminder", "DeadlineBreached"))
    assert case.schedule(rules, NOW) == []


def test_a_closed_row_decided_days_ago_waits_for_its_review_window(
        office: Office, rules: Any) -> None:
    case = _replayed(office, rules, "2026-11-10")
    assert case.stage is Stage.RATED  # the rating window (7 days) lapsed; the review's runs
    assert [d for d in case.schedule(rules, NOW) if d.fire_at <= NOW and d.rung] == []


def test_a_row_is_routed_as_the_office_routes_by_hand(office: Office, rules: Any) -> None:
    assigned = {"unit": "人力资源部", "stage_reached": "已交办"}
    rows = [(2, row(**assigned, responder="杨帆")),  # of finance
            (3, row(**assigned, responder="王芳")),  # hr's head: takes no petitions
            (4, row(unit="矿领导班子", responder="高建", stage_reached="已交办")),  # the mine head
            (5, row(**assigned, responder="林娜", name="张国庆"))]  # her declared interest
    entries, problems = read_rows(rows, MAPPING, office.org, NOW, office.routing)
    assert entries == [] and len(problems) == 4
    assert problems[0] == "第2行 首问责任人（责任人）：杨帆不是人力资源部的人员"
    assert problems[1].startswith("第3行 首问责任人（责任人）：王芳不承办信访件")
    assert problems[2].startswith("第4行 首问责任人（责任人）：高建不承办信访件")
    assert problems[3].startswith("第5行 首问责任人（责任人）：不能交办")
    # The rules' owning leader is named, as a hand assignment names one.
    entry, problems = read_row(6, row(**assigned, responder="林娜", subject="职工联名反映津贴少发"),
                               MAPPING, office.org, NOW, office.routing)
    assert problems == [] and entry is not None
    case = replay(entry, case_id="p-1", registration_no="TZ-6", policy=rules.policy,
                  rules=rules, actor="qian.hui", file="台账.xlsx", now=NOW)
    assert (case.unit, case.responder, case.leader) == ("hr", "lin.na",
                                                       office.org.units["hr"].leader)
