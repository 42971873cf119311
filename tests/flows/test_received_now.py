"""A clerk registers what arrives now: no ``received_at`` (from a file or the quick-entry
flags), so the petition was received at the clock's now. Bad input is refused with its
reason before anything is stored (the intake registers in the clerk's own process; only
then is its lifecycle run started, by case id)."""

from __future__ import annotations

import json

from tests.conftest import SAMPLE_OFFICE
from tests.flows.conftest import Engine

WAGE = json.loads((SAMPLE_OFFICE / "samples" / "wage-complaint.json").read_text())


def _now(served: Engine) -> str:
    return served.cli("clock", "show").stdout.strip()


def test_a_petition_without_received_at_from_a_file_was_received_now(served, tmp_path):
    served.cli("clock", "set", "2026-11-23T10:15+08:00")
    petition = tmp_path / "now.json"
    petition.write_text(json.dumps({k: v for k, v in WAGE.items() if k != "received_at"},
                                   ensure_ascii=False))
    done = served.cli("intake", str(petition), "--registration-no", "XF-NOW1",
                      "--actor", "qian.hui")
    assert "XF-NOW1" in done.stdout and done.stderr == ""
    case = served.case("XF-NOW1")
    registered = case["events"][0]
    assert registered["event"] == "CaseRegistered" and case["stage"] == "assigned"
    assert "2026-11-23 10:15" == _now(served)
    assert registered["at"].startswith("2026-11-23T02:15")  # the same instant, in UTC
    served.paused_at(case["id"], "assigned-")


def test_a_petition_from_the_quick_entry_flags_was_received_now(served):
    done = served.cli("intake", "--actor", "qian.hui", "--name", "赵立新", "--phone", "13900002222",
                      "--category", "complaint", "--channel", "visit",
                      "--subject", "井口浴室热水供应不足", "--content", "夜班下井后无热水洗浴",
                      "--registration-no", "XF-NOW2")
    assert "XF-NOW2" in done.stdout and done.stderr == ""
    case = served.case("XF-NOW2")
    assert case["stage"] == "assigned" and case["responder"]
    shown = served.cli("show", "XF-NOW2").stdout
    assert _now(served) in shown  # registered when the clock said


def test_a_petition_received_in_the_future_is_refused_before_anything_is_sent(served,
                                                                              tmp_path):
    petition = tmp_path / "future.json"
    petition.write_text(json.dumps({**WAGE, "received_at": "2026-12-31T09:00:00+08:00"},
                                   ensure_ascii=False))
    done = served.cli("intake", str(petition), "--registration-no", "XF-NOW3", "--actor",
                      "qian.hui", check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "received_at" in done.stderr and "is in the future" in done.stderr
    assert served.cli("show", "XF-NOW3", check=False).returncode == 2  # nothing stored


def test_a_number_taken_by_another_petitioner_is_refused_before_anything_is_sent(served):
    done = served.cli("intake", "--actor", "qian.hui", "--registration-no", "XF-NOW1",
                      "--name", "王五",
                      "--id-number", "142601198001019999", "--category", "complaint",
                      "--channel", "letter", "--subject", "另一件事", check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "'XF-NOW1' is already registered" in done.stderr and done.stdout == ""
    assert served.case("XF-NOW1")["subject"] == WAGE["subject"]  # the case there, untouched
