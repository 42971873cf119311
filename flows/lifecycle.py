"""The flows: each petition's lifecycle, and the engine's recurring jobs (the deadline
sweeper, the sender, the reconciler, the daily checks).

Thin by design: every rule is in the domain, every I/O in a task. Deadlines are enforced by
the sweeper from the database; no suspension has a timeout.
"""

from __future__ import annotations

import socket

from prefect import flow, get_run_logger
from prefect.flow_runs import asuspend_flow_run

from domain.stages import Stage
from flows import tasks
from flows.inputs import step_input
from flows.office import check_review_measures


@flow(name="petition-lifecycle", persist_result=True)
async def lifecycle(case_id: str) -> str:
    """Walk one petition through its stages. At each human step the run suspends (no
    process, no timeout) until a person acts from the Prefect UI form or the CLI."""
    log = get_run_logger()
    while True:
        step = tasks.next_step(case_id)
        tasks.publish_timeline(case_id)
        if step is None:
            return "closed"
        key, stage = tasks.wait_at(case_id, step.stage.value)
        form = step_input(Stage(stage))
        answer = await asuspend_flow_run(wait_for_input=form, key=key)
        if answer.is_sync:  # brought back in step: read the case again (flows.heal)
            tasks.close_wait(case_id, key)
            continue
        outcome = tasks.apply_step(case_id, key, stage, answer.request().as_dict())
        tasks.close_wait(case_id, key)
        if outcome["result"] == "refused":
            log.info("case %s waits again at %s", step.ref, stage)


@flow(name="deadline-sweeper", persist_result=True)
async def sweeper(limit: int = 500) -> int:
    """Fire every due reminder, warning, breach and escalation exactly once — the cases'
    rungs and the quarterly review's measures. A rung that cannot fire holds back no other:
    it is recorded, the office alarmed, and it is retried."""
    fired, failed = tasks.sweep_due(f"sweeper@{socket.gethostname()}", limit)
    for f in fired:
        tasks.announce(f)
    if fired or failed:
        get_run_logger().info("fired %d rung event(s); %d rung(s) could not fire",
                              len(fired), failed)
    # The quarterly review's measures are tracked duties: reminded and escalated here, on the
    # sweeper's schedule, like any deadline (each once: the review's journal says).
    measures = check_review_measures()
    return len(fired) + measures


@flow(name="outbox-sender", persist_result=True)
async def sender(limit: int = 200) -> str:
    """Queue the leaders' daily digests when due, then deliver the outbox."""
    tasks.queue_digests()
    report = tasks.deliver_outbox(limit)
    if report != "nothing due":
        get_run_logger().info("outbox: %s", report)
    return report


@flow(name="lifecycle-reconciler", persist_result=True)
async def reconciler() -> list[str]:
    """Every few minutes: each case's lifecycle run brought back in step with the case
    (a run missing, ended, or waiting at a stage the case has left)."""
    return tasks.reconcile()


@flow(name="daily-checks", persist_result=True)
async def daily_checks() -> dict[str, int]:
    """Every morning: the audit chains, the overdue deadlines, the dead letters, the runs
    brought back in step. A broken audit chain fails the run, so it shows red in the UI
    (and can trigger an automation)."""
    summary = tasks.daily_checks()
    summary["runs_healed"] = len(tasks.reconcile())
    get_run_logger().info("daily checks: %s", summary)
    if summary["broken_chains"]:
        raise RuntimeError(f"{summary['broken_chains']} case audit chain(s) are broken; "
                           "run `petitions audit verify`")
    return summary
