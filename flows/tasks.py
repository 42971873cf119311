"""Prefect tasks: each wraps one use case from ``services`` (the I/O lives there).

Tasks that change a case are keyed by (petition, step) and their results persisted, so a
resumed or retried run replays them from the result instead of doing them again; the key
does not include the task's source, so this holds after the code changed too. Behind the
cache, every use case is idempotent on its own (registration number, version check,
outbox key), so a lost result cannot cause a second change either.
"""

from __future__ import annotations

import functools
import time
import uuid
from dataclasses import dataclass
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NONE
from prefect.client.schemas.objects import State
from prefect.context import TaskRunContext
from prefect.events import emit_event

from domain.errors import ConcurrentUpdate, PetitionError
from domain.stages import Stage
from flows.heal import reconcile as heal_all
from flows.runs import read_secret
from services import cases, health, outbox, sweep
from services.bootstrap import App, bootstrap
from services.naming import OfficeNames
from services.schema import migrated
from services.timeline import artifact_table

LIFECYCLE_DEPLOYMENT = "petition-lifecycle/lifecycle"
EVENT_NAMES = {"DeadlineReminder": "petition.deadline.reminder",
               "DeadlineWarning": "petition.deadline.warning",
               "DeadlineBreached": "petition.deadline.breached",
               "Escalated": "petition.escalated"}


@functools.cache
def app() -> App:
    """The process's app, built on first use (never at import)."""
    return migrated(bootstrap())


def unless_refused(_task: Any, _run: Any, state: State[Any]) -> bool:
    """Retry a failed task unless the domain refused it: bad input or a move the rules
    forbid fails the same way every time, so it fails at once with its reason. A case
    changed by someone else meanwhile is worth another try."""
    try:
        state.result()
    except ConcurrentUpdate:
        return True
    except PetitionError:
        return False
    except Exception:  # a database or server hiccup: Prefect's retries are for these
        return True
    return True


def _keyed(prefix: str, *names: str) -> Any:
    def key(_ctx: TaskRunContext, params: dict[str, Any]) -> str:
        return "-".join([prefix, *(str(params[n]) for n in names)])
    return key


@dataclass(frozen=True)
class Step:
    """Where a case waits: its stage, and the version it is at."""

    case_id: str
    ref: str
    stage: Stage
    version: int


def wait_key(stage: Stage, n: int) -> str:
    """The suspension key of a run's ``n``-th wait, in ``stage``: ``leader-pending-5``.
    Prefect lets a run pause once per key and takes lowercase letters, digits and dashes."""
    return f"{stage.value.replace('_', '-')}-{n}"


@task(cache_policy=NONE, retries=3, retry_delay_seconds=1,  # e.g. ConcurrentUpdate
      retry_condition_fn=unless_refused)
def next_step(case_id: str) -> Step | None:
    """Where the case waits now (read fresh every time), or None once it is closed. A case
    left registered by an intake cut short is routed here first."""
    a = app()
    case = cases.route_and_assign(a, case_id, actor="lifecycle")
    if a.settings.step_pause_seconds:  # fault injection for the reliability tests only
        time.sleep(a.settings.step_pause_seconds)
    if case.stage is Stage.CLOSED:
        return None
    return Step(case.id, case.ref, case.stage, case.version)


@task(cache_policy=NONE)
def publish_timeline(case_id: str) -> None:
    """The case's timeline as the keyed table artifact ``petition-<id>``."""
    a = app()
    with a.uow() as uow:
        case = uow.cases.get(case_id, lock=False)
        rows = uow.history_of(case)
    create_table_artifact(artifact_table(case, a.rules_for(case), rows, a.clock.now(),
                                         OfficeNames(a)),
                          key=f"petition-{case.id}",
                          description=f"信访件 {case.ref}: {case.stage.label}")


@task(cache_policy=NONE, retries=3, retry_delay_seconds=1)
def wait_at(case_id: str, stage: str) -> tuple[str, str]:
    """The key and stage of the wait to suspend on. A wait still open is the one the run
    suspended on before it was resumed: the run re-executes from the top and must find its
    answer under the same key, even if a rung fired since (the case's version moved on) or
    the CLI moved the case to another stage. Otherwise a new wait opens in ``stage``."""
    a = app()
    with a.uow() as uow:
        wait = uow.wait_of(case_id)
        if wait is not None and wait.open and wait.key and wait.stage:
            return wait.key, wait.stage
        key = wait_key(Stage(stage), (wait.n if wait else 0) + 1)
        uow.open_wait(case_id, key, stage)
        uow.commit()
    return key, stage


@task(cache_policy=NONE, retries=3, retry_delay_seconds=1)
def close_wait(case_id: str, key: str) -> None:
    """The answer at ``key`` was dealt with: the next wait gets a new key."""
    with app().uow() as uow:
        uow.close_wait(case_id, key)
        uow.commit()


@task(cache_key_fn=_keyed("apply", "case_id", "key"), persist_result=True)
def apply_step(case_id: str, key: str, stage: str, request: dict[str, Any]) -> dict[str, Any]:
    """Apply the action a person gave at the wait ``key`` (the case was in ``stage``):
    applied; duplicate (the CLI applied it already and handed it on); superseded (the case
    left the stage since the form was shown); or refused by the domain (the run waits
    again). A form's answer is named by its wait, so it is applied once."""
    log = get_run_logger()
    req = cases.ActRequest.from_dict(
        {**request, "request_id": request.get("request_id") or f"form:{case_id}:{key}",
         "via": "prefect-ui"})
    try:
        result = cases.act(app(), case_id, req, in_stage=Stage(stage))
    except PetitionError as e:  # its text may quote the case: said to Prefect by kind only
        log.error("refused %s by %s: %s (the workplace and the CLI say why)",
                  req.act.value, req.actor, type(e).__name__)
        return {"result": "refused", "error": type(e).__name__}
    if result.status == "superseded":
        log.warning("%s by %s came after the case moved on (now %s); submit it again on the "
                    "new form if still wanted", req.act.value, req.actor, result.stage.value)
    return {"result": result.status, "stage": result.stage.value}


@task(cache_policy=NONE, retries=2, retry_delay_seconds=1)  # a rolled-back claim is free
def sweep_due(sweeper: str, limit: int) -> tuple[list[sweep.Fired], int]:
    """Claim and fire every due rung (state, audit event, queued message: one commit). A
    rung that cannot fire is recorded, alarmed and retried later by the sweep itself; here,
    where Prefect keeps what is logged and returned, only what kind of failure it was (its
    text, which may name a declared interest, is on the case's timeline)."""
    swept = sweep.sweep(app(), sweeper=sweeper, limit=limit)
    health.beat(app(), health.SWEEP, f"{len(swept.fired)} fired, {len(swept.failed)} failed")
    for f in swept.failed:
        get_run_logger().warning("case %s: rung %s/%s could not fire (%s; the reason is on "
                                 "its timeline); retried at %s, %s alarmed", f.ref, f.clock,
                                 f.rung, f.kind, f.retry_at.isoformat(),
                                 f.alarmed or "nobody")
    return swept.fired, len(swept.failed)


def announce(fired: sweep.Fired) -> None:
    """The Prefect event for one fired rung; its id is derived from the rung, so a repeat
    is the same event."""
    name = EVENT_NAMES.get(fired.event)
    if name is None:
        return
    emit_event(event=name,
               resource={"prefect.resource.id": f"petition.case.{fired.case_id}",
                         "prefect.resource.name": fired.ref},
               payload={"clock": fired.clock, "rung": fired.rung, "recipient": fired.recipient,
                        "stage": fired.stage},
               id=uuid.uuid5(uuid.NAMESPACE_URL,
                             f"petition:{fired.case_id}:{fired.clock}:{fired.rung}:{name}"))


@task(cache_policy=NONE)
def queue_digests() -> int:
    return outbox.queue_digests(app())


@task(cache_policy=NONE)
def deliver_outbox(limit: int) -> str:
    """Deliver what is due. Retries are the outbox's own (per message, with backoff and
    Retry-After), so this task is not retried by Prefect."""
    report = str(outbox.deliver(app(), limit=limit, read_secret=read_secret))
    health.beat(app(), health.SEND, report)
    return report


@task(cache_policy=NONE)
def daily_checks() -> dict[str, int]:
    """The morning's checks (``services.sweep.daily_checks``). The audit chains are checked
    from the last signed checkpoint; a checkpoint that does not verify is said here (every
    row was read instead)."""
    d = sweep.daily_checks(app())
    log = get_run_logger()
    for b in d.breaks[:20]:  # all of them: `petitions audit verify`
        log.error("audit chain %s broken at row %s (id %s): %s", b.case_id, b.seq, b.row_id,
                  b.problem)
    if d.audit is not None and d.audit.note:
        log.warning("audit check: %s", d.audit.note)
    return {"chains_checked": d.chains_checked, "broken_chains": len(d.breaks),
            "overdue_deadlines": d.overdue_deadlines, "dead_letters": d.dead_letters,
            "rescheduled": d.rescheduled, "forgotten_logins": d.forgotten_logins,
            "audit_rows_read": d.audit.rows_read if d.audit else 0,
            "audit_full_check": int(d.audit.full) if d.audit else 1}


@task(cache_policy=NONE)
def reconcile() -> list[str]:
    """Every run brought back in step with its case (``flows.heal``)."""
    healed = heal_all(app())
    health.beat(app(), health.RECONCILE, f"{len(healed)} brought back in step")
    for h in healed:
        get_run_logger().warning("case %s: %s", h.ref, h.what)
    return [f"{h.ref}: {h.what}" for h in healed]
