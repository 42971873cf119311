"""The security cases of the issue, through the CLI and the Prefect form against the served
engine: an unknown actor, the accused acting on the accusation, an accusation against a unit
head, the letters desk of an accusation against it, and text that is not text."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import SAMPLE_OFFICE
from tests.flows.conftest import Engine

ACCUSATION = json.loads((SAMPLE_OFFICE / "samples" / "accusation.json").read_text())


def _intake(served: Engine, tmp_path: Path, number: str, clerk: str = "wu.lei",
            **changes: object) -> dict:  # type: ignore[type-arg]
    path = tmp_path / f"{number}.json"
    petition = {k: v for k, v in {**ACCUSATION, **changes}.items() if v is not None}
    path.write_text(json.dumps(petition, ensure_ascii=False))
    served.cli("intake", str(path), "--registration-no", number, "--actor", clerk)
    return served.case(number)


def test_an_unknown_actor_is_refused_and_nothing_changes(served, tmp_path):
    served.cli("clock", "set", "2026-11-24T09:00+08:00")
    case = _intake(served, tmp_path, "XF-S1")
    done = served.cli("decline", "XF-S1", "--actor", "nobody.x", "-r", "不予受理", check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "'nobody.x' is nobody in the org chart" in done.stderr
    assert served.case("XF-S1")["events"] == case["events"]


def test_the_accused_cannot_act_on_the_accusation_or_learn_it_exists(served, tmp_path):
    """xu.jing heads the discipline office, which takes accusations: the accusation
    against her goes elsewhere, and neither she nor her subordinate can touch it, from the
    CLI or from the lifecycle's form in the Prefect UI."""
    case = _intake(served, tmp_path, "XF-S2", concerns_unit=None, accused_persons=["xu.jing"],
                   subject="纪委办公室负责人收受礼金")
    assert case["unit"] != "discipline"
    assert case["responder"] not in ("xu.jing", "dong.xin", "cao.yan")
    for who in ("xu.jing", "dong.xin"):
        done = served.cli("decline", "XF-S2", "--actor", who, "-r", "查无实据，不予受理",
                          check=False)
        assert done.returncode == 2 and "no case 'XF-S2'" in done.stderr, done.stderr
    run = served.paused_at(case["id"], "assigned-")
    served.answer(run["id"], {
        "act": "decline", "actor": "xu.jing", "reason": "查无实据"})
    first = run["state"]["state_details"]["pause_key"]

    def waits_again() -> bool:
        state = served.run_of(case["id"]).get("state") or {}
        key = (state.get("state_details") or {}).get("pause_key") or ""
        return state.get("type") == "PAUSED" and key.startswith("assigned-") and key != first

    served.wait_for(waits_again, 240, "the run to refuse the answer and wait again")
    after = served.case("XF-S2")
    assert after["stage"] == "assigned" and after["events"] == case["events"]


def test_the_letters_desk_of_an_accusation_against_it_is_another(served, tmp_path):
    """li.ming keeps the letters desk and heads the petition office; an accusation against
    him and the office: the discipline office registers it (the petition office may not),
    and the petitioner's notices go to the confidential desk."""
    against = tmp_path / "against-office.json"
    against.write_text(json.dumps({**ACCUSATION, "concerns_unit": "office",
                                   "accused_persons": ["li.ming"]}, ensure_ascii=False))
    refused = served.cli("intake", str(against), "--registration-no", "XF-S3",
                         "--actor", "wu.lei", check=False)
    assert refused.returncode == 2 and "may not register this petition" in refused.stderr
    assert "dong.xin" in refused.stderr and served.cli("show", "XF-S3",
                                                       check=False).returncode == 2
    case = _intake(served, tmp_path, "XF-S3B", clerk="dong.xin", concerns_unit="office",
                   accused_persons=["li.ming"], subject="信访办主任泄露举报人信息")
    responder = case["responder"]
    assert case["unit"] != "office" and responder not in ("li.ming", "qian.hui", "wu.lei")
    served.cli("ack", "XF-S3B", "--actor", responder)
    served.cli("accept", "XF-S3B", "--actor", responder, "-r", "受理")
    served.cli("outbox", "send")
    messages = json.loads(served.cli("outbox", "--json", "--limit", "500").stdout)
    mine = [m for m in messages if m["case"] == "XF-S3B"]
    assert mine and all(m["recipient"] != "li.ming" for m in mine)
    letter = [m for m in mine if m["kind"] == "acceptance_notice"]
    assert letter and letter[0]["status"] == "sent"
    eml = (served.home / "outbox" / Path(letter[0]["ref"]).name).read_text()
    assert "xu.jing@mine.example" in eml and "li.ming" not in eml
    timeline = json.loads(served.cli("timeline", "XF-S3B", "--format", "json").stdout)
    accepted = next(e for e in timeline["events"] if e["event"] == "CaseAccepted")
    assert accepted["data"]["via"].startswith("cli:")


def test_text_that_is_not_text_or_too_long_is_refused_in_one_line(served, tmp_path):
    big = tmp_path / "big.json"
    big.write_text(json.dumps({**ACCUSATION, "content": "检举" * 500_000},
                              ensure_ascii=False))
    done = served.cli("intake", str(big), "--registration-no", "XF-S4", "--actor", "wu.lei",
                      check=False)
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1
    assert "field 'content'" in done.stderr and "at most 20,000" in done.stderr
    escape = served.cli("intake", "--actor", "wu.lei", "--name", "张\x1b[31m三", "--category",
                        "complaint", "--channel", "visit", "--subject", "食堂",
                        check=False)
    assert escape.returncode == 2 and "control character U+001B" in escape.stderr
    assert "\x1b" not in escape.stderr  # nothing of it echoed to the terminal
    assert served.cli("show", "XF-S4", check=False).returncode == 2
