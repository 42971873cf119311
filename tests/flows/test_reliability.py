"""Runs heal: a lifecycle run left waiting at a stage its case has left (the engine was
killed between an action's commit and its resume, and the case moved on), or one that
ended, is brought back in step by the reconcile step (at ``serve`` start, on its schedule,
``petitions reconcile``)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import WAGE
from tests.flows.conftest import Engine


def _intake(served: Engine, number: str, tmp_path: Path) -> dict:  # type: ignore[type-arg]
    """A wage complaint of a petitioner of its own (no earlier case makes it a repeat)."""
    petition = tmp_path / f"{number}.json"
    petition.write_text(json.dumps({**WAGE, "petitioner": {
        **WAGE["petitioner"], "id_number": f"1426011980{number[-2:]}09999"}},
        ensure_ascii=False))
    served.cli("intake", str(petition), "--registration-no", number, "--actor", "qian.hui")
    case = served.case(number)
    served.paused_at(case["id"], "assigned-")
    return case


def test_a_run_left_behind_while_the_engine_was_down_waits_again_at_the_cases_stage(
        served, tmp_path):
    case = _intake(served, "XF-H1", tmp_path)
    served.kill()  # SIGKILL: serve, its Prefect server, its runner, all at once
    try:
        acked = served.cli("ack", "XF-H1", "--actor", case["responder"])
        assert "not resumed now" in acked.stderr  # committed; no server to wake the run
        served.cli("accept", "XF-H1", "--actor", case["responder"], "-r", "受理")
        assert served.case("XF-H1")["stage"] == "handling"  # two on; the run at assigned
    finally:
        served.start()  # reconciles at start
    synced = served.paused_at(case["id"], "handling-")
    done = served.cli("report-completion", "XF-H1", "--actor", case["responder"],
                      "--summary", "已核实")
    assert "not resumed" not in done.stderr  # the handling form takes it

    def waits_at_the_next() -> bool:
        details = served.run_of(case["id"])["state"].get("state_details") or {}
        key = details.get("pause_key") or ""
        return key.startswith("handling-") and key != synced["state"]["state_details"][
            "pause_key"]

    served.wait_for(waits_at_the_next, 240, "the run to apply it and wait again")


def test_an_ended_run_is_replaced_by_a_new_one_waiting_at_the_cases_stage(served, tmp_path):
    case = _intake(served, "XF-H2", tmp_path)
    old = served.run_of(case["id"])
    served.post(f"/flow_runs/{old['id']}/set_state",
                {"state": {"type": "CANCELLED", "name": "Cancelled"}, "force": True})
    served.wait_for(lambda: served.get(f"/flow_runs/{old['id']}")["state"]["type"]
                    == "CANCELLED", 60, "the run cancelled")
    healed = served.cli("reconcile")
    assert "XF-H2: a new run, its run was Cancelled" in healed.stdout
    new = served.paused_at(case["id"], "assigned-")
    assert new["id"] != old["id"]
    served.cli("ack", "XF-H2", "--actor", case["responder"])
    served.paused_at(case["id"], "acknowledged-")


def test_a_round_starts_at_most_its_share_of_new_runs_and_the_next_round_the_rest(
        served, tmp_path):
    cases = [_intake(served, f"XF-H{i}", tmp_path) for i in (3, 4, 5)]
    for case in cases:
        old = served.run_of(case["id"])
        served.post(f"/flow_runs/{old['id']}/set_state",
                    {"state": {"type": "CANCELLED", "name": "Cancelled"}, "force": True})
        served.wait_for(lambda old=old: served.get(f"/flow_runs/{old['id']}")["state"]["type"]
                        == "CANCELLED", 60, "the run cancelled")
    first = served.cli("reconcile", PETITIONS_RECONCILE_NEW_RUNS="2")
    assert first.stdout.count(": a new run, its run was Cancelled") == 2, first.stdout
    assert "1 more open case(s): their runs start in the next rounds (2 a round" in first.stdout
    second = served.cli("reconcile", PETITIONS_RECONCILE_NEW_RUNS="2")
    assert second.stdout.count(": a new run, its run was Cancelled") == 1, second.stdout
    for case in cases:
        served.paused_at(case["id"], "assigned-")


def test_a_run_suspended_without_its_form_is_replaced_and_the_case_goes_on(served, tmp_path):
    # Prefect marks a run suspended, then saves its form: a process that dies in between
    # leaves a run no answer can reach ("Run input schema not found", for ever).
    case = _intake(served, "XF-H6", tmp_path)
    old = served.run_of(case["id"])
    state = old["state"]
    keyset = state["state_details"]["run_input_keyset"]
    served.rest.call("DELETE", f"/flow_runs/{old['id']}/input/{keyset['schema']}")
    acked = served.cli("ack", "XF-H6", "--actor", case["responder"],
                       PETITIONS_FORM_LOST_SECONDS="1")
    assert "a new run, its run was suspended without its form" in acked.stderr
    assert served.get(f"/flow_runs/{old['id']}")["state"]["type"] == "CANCELLED"
    new = served.paused_at(case["id"], "acknowledged-")  # the new run read the ack
    assert new["id"] != old["id"]
    assert served.case("XF-H6")["stage"] == "acknowledged"


def test_a_case_registered_before_the_first_serve_is_routed_by_the_reconcile_at_start(
        tmp_path):
    # A new office registers its first petitions before it ever serves: their runs cannot
    # start. The reconcile at serve's start (not its schedule, an hour here) starts them,
    # once the runner beside has applied the lifecycle deployment to the new server.
    engine = Engine(tmp_path / "home")
    engine.cli("clock", "set", "2026-11-20T10:00+08:00")
    petition = tmp_path / "wage.json"
    petition.write_text(json.dumps(WAGE, ensure_ascii=False))
    done = engine.cli("intake", str(petition), "--registration-no", "XF-FIRST",
                      "--actor", "qian.hui")
    assert "the reconciler starts it" in done.stdout + done.stderr
    case = engine.case("XF-FIRST")
    engine.start()
    try:
        engine.paused_at(case["id"], "assigned-")
    finally:
        engine.stop()
