"""Petitions through the served engine, as an office runs it: the CLI acts, the lifecycle
runs suspend and resume, the sweeper fires deadlines once. Tests in order: later ones build
on the clock and restart the engine."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import SAMPLE_OFFICE
from tests.flows.conftest import Engine

WAGE = str(SAMPLE_OFFICE / "samples" / "wage-complaint.json")


def _intake(served: Engine, number: str, file: str = WAGE) -> dict:  # type: ignore[type-arg]
    served.cli("intake", file, "--registration-no", number, "--actor", "qian.hui")
    return served.case(number)


def test_intake_registers_routes_and_suspends_the_lifecycle_at_first_response(served):
    case = _intake(served, "XF-F1")
    assert (case["stage"], case["unit"], case["responder"]) == ("assigned", "hr", "lin.na")
    assert [e["event"] for e in case["events"]] == ["CaseRegistered", "CaseAssigned"]
    run = served.paused_at(case["id"], "assigned-")
    assert run["state"]["state_details"]["run_input_keyset"]  # the form Prefect's UI shows
    artifact = served.post("/artifacts/filter", {"artifacts": {"key": {"any_": [
        f"petition-{case['id']}"]}}})
    assert artifact, "the lifecycle publishes the case timeline as a keyed artifact"


def test_the_served_sender_delivers_the_assignment(served):
    deployment = served.get("/deployments/name/outbox-sender/sender")
    run = served.post(f"/deployments/{deployment['id']}/create_flow_run", {})
    done = served.wait_for(lambda: (served.get(f"/flow_runs/{run['id']}") or {}).get(
        "state", {}).get("type") in ("COMPLETED", "FAILED", "CRASHED"), 240,
        "the outbox-sender run")
    assert done
    assert served.get(f"/flow_runs/{run['id']}")["state"]["type"] == "COMPLETED"
    listed = json.loads(served.cli("outbox", "--json").stdout)
    # Only the case's messages: the practices' own (reception notices, zero-report alerts,
    # the weekly digest, all queued by the scheduled office-practices runs) go as well.
    sent = [m for m in listed if m["status"] == "sent" and ":" not in m["case"]]
    assert [(m["kind"], m["recipient"]) for m in sent] == [("assignment", "lin.na")]
    assert (served.home / "outbox").is_dir() and sent[0]["ref"].endswith(".eml")


def test_an_action_resumes_the_run_which_waits_at_the_next_step(served):
    case = served.case("XF-F1")
    served.cli("ack", "XF-F1", "--actor", "lin.na")
    served.paused_at(case["id"], "acknowledged-")
    assert served.case("XF-F1")["stage"] == "acknowledged"


def test_an_action_in_the_wrong_stage_is_refused_and_the_run_stays_suspended(served):
    case = served.case("XF-F1")
    before = served.paused_at(case["id"], "acknowledged-")
    done = served.cli("ack", "XF-F1", "--actor", "lin.na", check=False)
    assert done.returncode == 2
    assert "'acknowledge' is not allowed there" in done.stderr
    assert "Traceback" not in done.stderr
    wrong = served.cli("close", "XF-F1", "--actor", "lin.na", "--outcome", "maybe",
                       check=False)
    assert wrong.returncode == 2
    # A resume is made before the CLI exits, so had either command resumed the run, its
    # state would already be another one here (no waiting needed to see nothing happen).
    after = served.run_of(case["id"])
    assert after["state"]["id"] == before["state"]["id"]  # the same suspension, untouched
    assert len(served.case("XF-F1")["events"]) == 3


def test_an_answer_on_the_prefect_form_moves_the_case(served):
    case = served.case("XF-F1")
    run = served.paused_at(case["id"], "acknowledged-")
    served.answer(run["id"], {"act": "accept", "actor": "lin.na", "reason": "受理告知书已寄出"})
    served.paused_at(case["id"], "handling-")
    after = served.case("XF-F1")
    assert after["stage"] == "handling"
    assert after["events"][-1]["event"] == "CaseAccepted"


def test_a_form_answer_the_domain_refuses_leaves_the_case_and_asks_again(served):
    case = served.case("XF-F1")
    run = served.paused_at(case["id"], "handling-")
    served.answer(run["id"], {"act": "extend", "actor": "lin.na", "days": 30,
                               "approver": "nobody.here", "reason": "需现场核查"})
    key = run["state"]["state_details"]["pause_key"]
    again = served.wait_for(lambda: served.paused_at(case["id"], "handling-")["state"][
        "state_details"]["pause_key"] != key, 240, "the run to wait again, at a new key")
    assert again
    assert served.case("XF-F1")["stage"] == "handling"
    assert len(served.case("XF-F1")["events"]) == 4


def test_the_handler_files_the_completion_report_on_the_form(served):
    case = served.case("XF-F1")
    run = served.paused_at(case["id"], "handling-")
    key = run["state"]["state_details"]["pause_key"]
    served.answer(run["id"], {"act": "report", "actor": "lin.na",
                               "summary": "已核对9、10月工资表与考勤"})
    served.wait_for(lambda: served.paused_at(case["id"], "handling-")["state"][
        "state_details"]["pause_key"] != key, 240, "the run to wait again, still handling")
    last = served.case("XF-F1")["events"][-1]
    assert last["event"] == "CompletionReported" and "9、10月工资表" in last["data"]["summary"]


def test_the_sweeper_fires_each_due_rung_once_and_escalates_a_breach(served):
    served.cli("clock", "advance", "--days", "65")
    first = served.cli("sweep")
    assert "rung event(s) fired" in first.stdout
    assert served.cli("sweep").stdout.strip().endswith(": 0 rung event(s) fired")
    events = [e["event"] for e in served.case("XF-F1")["events"]]
    for kind in ("DeadlineReminder", "DeadlineWarning", "DeadlineBreached", "Escalated"):
        assert events.count(kind) == 1, events
    handling = next(d for d in served.case("XF-F1")["deadlines"]
                    if d["deadline"] == "handling")
    assert handling["state"] == "breached" and handling["overdue_seconds"] > 0
    breached = served.post("/events/filter", {"filter": {"event": {"name": [
        "petition.deadline.breached"]}}, "limit": 50})
    names = [e["event"] for e in breached["events"]]
    assert names == ["petition.deadline.breached"]


def test_a_form_answered_after_rungs_fired_is_applied_once(served):
    case = served.case("XF-F1")
    run = served.paused_at(case["id"], "handling-")
    key = run["state"]["state_details"]["pause_key"]
    # The run suspended before the sweeper fired the handling rungs: the case's version has
    # moved on since the form was shown, but not its stage. The answer still counts.
    served.answer(run["id"], {"act": "close", "actor": "lin.na", "outcome": "support",
                               "resolution": "resolved", "summary": "补发9、10月工资差额"})
    assert served.paused_at(case["id"], "decided-")["state"]["state_details"][
        "pause_key"] != key
    events = [e["event"] for e in served.case("XF-F1")["events"]]
    assert events.count("DecisionIssued") == 1 and events[-1] == "DecisionIssued"


def test_suspended_petitions_resume_after_the_server_restarts(served):
    second = _intake(served, "XF-F2")
    served.paused_at(second["id"], "assigned-")
    served.stop()
    served.start()
    served.cli("ack", "XF-F2", "--actor", second["responder"])
    served.paused_at(second["id"], "acknowledged-")
    served.cli("rate", "XF-F1", "satisfied", "--actor", "qian.hui")  # for the petitioner
    served.paused_at(served.case("XF-F1")["id"], "rated-")


def test_a_clerk_killed_mid_intake_leaves_the_petition_registered_once_and_going_on(
        served):
    """The CLI registers, then is killed before routing (fault injection: it sleeps after
    registering): the case is registered, has no run; the reconcile step starts one, and
    the run routes the case first."""
    intake = subprocess.Popen(
        [sys.executable, "-c", "from cli.main import main; main()", "intake", WAGE,
         "--registration-no", "XF-F3", "--actor", "qian.hui"],
        env={**served.env, "PETITIONS_INTAKE_PAUSE_SECONDS": "120"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    served.wait_for(lambda: served.cli("show", "XF-F3", check=False).returncode == 0, 240,
                    "XF-F3 registered")
    intake.kill()
    intake.wait()
    case = served.case("XF-F3")
    assert case["stage"] == "registered" and not served.run_of(case["id"], required=False)
    served.cli("reconcile")
    served.paused_at(case["id"], "assigned-", timeout=240)
    listed = json.loads(served.cli("list", "--json").stdout)
    assert [c["ref"] for c in listed].count("XF-F3") == 1
    assert served.case("XF-F3")["responder"]  # routed by its lifecycle run
