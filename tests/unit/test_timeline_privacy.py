"""The case's Prefect artifact is read more widely than the supervisors' CLI: no case's
summaries and reasons go there (they may quote the petition), an accusation's nor a
complaint's; the CLI's timeline keeps them."""

from __future__ import annotations

from types import SimpleNamespace

from domain.outcomes import Outcome, Resolution
from domain.petition import Category
from services.timeline import artifact_table, event_rows
from tests.conftest import at, new_case, wage_petition


def _decided(office, rules, **changes):  # type: ignore[no-untyped-def]
    case = new_case(office, rules, wage_petition(**changes))
    case.acknowledge(actor=str(case.responder), now=at("2026-03-02 10:00"))
    case.accept(actor=str(case.responder), now=at("2026-03-02 11:00"))
    if case.leader_required:
        case.leader_accept(actor=str(case.leader), now=at("2026-03-02 12:00"))
    case.report_completion(summary="查实队长克扣夜班津贴", actor=str(case.responder),
                           now=at("2026-03-10 09:00"), rules=rules)
    case.decide(Outcome.SUPPORT, summary="给予队长警告处分", actor=str(case.responder),
                now=at("2026-03-10 10:00"), resolution=Resolution.RESOLVED)
    rows = [SimpleNamespace(at=e.at, stage=e.stage, type=e.type.value, actor=e.actor,
                            data=dict(e.data)) for e in case.events]
    return case, rows


def test_an_accusations_artifact_leaves_out_its_summaries(office, rules):
    case, rows = _decided(office, rules, category=Category.ACCUSATION,
                          accused_persons=("zhang.hua",))
    shown = " ".join(r["detail"] for r in artifact_table(case, rules, rows,
                                                         at("2026-03-11 09:00")))
    assert "警告处分" not in shown and "克扣" not in shown and "解决问题到位" in shown
    assert "警告处分" in " ".join(r["detail"] for r in event_rows(rows))  # the CLI keeps it


def test_a_complaints_artifact_leaves_out_its_summaries_too(office, rules):
    case, rows = _decided(office, rules)
    shown = " ".join(r["detail"] for r in artifact_table(case, rules, rows,
                                                         at("2026-03-11 09:00")))
    assert "警告处分" not in shown and "克扣夜班津贴" not in shown
    assert "书面答复：支持，解决问题到位" in shown
    assert case.petition.subject not in shown
