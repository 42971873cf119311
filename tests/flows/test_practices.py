"""The practices' deployments on the served engine: a unit files its daily zero report
from the deployment's run form (what the Prefect UI shows), and the scheduled
``office-practices`` flow alerts and announces, once however often it runs."""

from __future__ import annotations

import json
from typing import Any

from tests.flows.conftest import Engine


def _run(served: Engine, deployment: str, parameters: dict[str, Any]) -> dict[str, Any]:
    d = served.get(f"/deployments/name/{deployment}")
    run = served.post(f"/deployments/{d['id']}/create_flow_run", {"parameters": parameters})
    served.wait_for(lambda: (served.get(f"/flow_runs/{run['id']}") or {}).get(
        "state", {}).get("type") in ("COMPLETED", "FAILED", "CRASHED"), 240, deployment)
    return dict(served.get(f"/flow_runs/{run['id']}"))


def test_a_unit_reports_nothing_to_report_from_the_deployment_form(served):
    served.cli("clock", "set", "2026-11-20T09:00+08:00")
    d = served.get("/deployments/name/daily-zero-report/report")
    form = d["parameter_openapi_schema"]["properties"]
    # Nothing a unit writes of its matters goes into Prefect: those reports are filed in the
    # workplace or with the CLI.
    assert set(form) == {"unit", "reporter", "day"}
    done = _run(served, "daily-zero-report/report", {"unit": "mining1", "reporter": "luo.jun"})
    assert done["state"]["type"] == "COMPLETED"
    again = _run(served, "daily-zero-report/report", {"unit": "mining1", "reporter": "luo.jun"})
    assert again["state"]["type"] == "FAILED"
    assert "already reported for 2026-11-20" in again["state"]["message"]
    status = {r["unit"]: r for r in json.loads(
        served.cli("zero-report", "status", "--day", "2026-11-20", "--json").stdout)}
    assert status["mining1"]["reported"] and status["mining1"]["items"] == 0
    assert not status["hr"]["reported"]


def test_the_practices_flow_alerts_missing_units_and_announces_receptions_once(served):
    served.cli("clock", "set", "2026-11-20T14:05+08:00")
    first = _run(served, "office-practices/practices", {})
    second = _run(served, "office-practices/practices", {})
    assert first["state"]["type"] == second["state"]["type"] == "COMPLETED"
    queued = json.loads(served.cli("outbox", "--limit", "1000", "--json").stdout)
    today = [m for m in queued if m["case"] == "zero-report:2026-11-20"]
    overdue = sorted(m["recipient"] for m in today if m["kind"] == "zero_report_overdue")
    missing = sorted(m["recipient"] for m in today if m["kind"] == "zero_report_missing")
    # Six units did not report (mining1 did): each head once, the office once per unit.
    assert overdue == ["li.ming"] * 6
    assert missing == sorted(["wang.fang", "chen.jie", "liu.yang", "he.wei", "tang.min",
                              "xu.jing"])
    # 2026-11-20 is itself a reception day (ma.yun's turn): reminded and announced once.
    reception = [m for m in queued if m["case"] == "reception:矿领导公开接访:2026-11-20"]
    assert sorted((m["kind"], m["recipient"]) for m in reception) == [
        ("reception_notice", "li.ming"), ("reception_notice", "qian.hui"),
        ("reception_notice", "wu.lei"), ("reception_reminder", "ma.yun")]


def test_a_signal_promoted_by_the_cli_becomes_a_case_through_intake(served):
    served.cli("clock", "set", "2026-11-20T15:00+08:00")
    recorded = served.cli("signal", "record", "--officer", "song.yu", "--unit", "logistics",
                          "--summary", "职工澡堂热水供应不足", "--risk", "low")
    sid = recorded.stdout.split()[1]
    served.cli("signal", "promote", sid, "--name", "赵六", "--phone", "13700000000",
               "--actor", "qian.hui")
    promoted = json.loads(served.cli("signal", "list", "--json").stdout)
    case_ref = next(s["case"] for s in promoted if s["id"] == sid)
    case = served.case(case_ref)
    assert case["subject"] == "职工澡堂热水供应不足" and case["stage"] == "assigned"
    events = [e["event"] for e in case["events"]]
    assert events[:3] == ["SignalRecorded", "SignalPromoted", "CaseRegistered"]
    again = served.cli("signal", "promote", sid, "--name", "赵六", "--actor", "qian.hui",
                       check=False)
    assert again.returncode == 2 and "already promoted" in again.stderr
