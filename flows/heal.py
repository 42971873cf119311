"""Bringing each case's lifecycle run back in step with the case (the database is the
truth). A run is out of step when it is missing, or ended (crashed, failed, cancelled, or
completed while its case is still open), or suspended at a wait the case has left: the CLI
committed an action while no server answered, or a crash came between an action's commit
and its resume. Such a run is resumed with the ``sync`` answer every form takes (it reads
the case again and waits at its current stage), or replaced by a new run.

Run at ``serve`` start, every few minutes (the ``lifecycle-reconciler`` deployment), in
``daily-checks``, and for one case whenever waking its run failed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound

from domain.case import Case
from domain.stages import Stage
from flows.inputs import SYNC
from flows.runs import create_run, wake
from services.bootstrap import App
from storage.ports import Wait

LIFECYCLE_DEPLOYMENT = "petition-lifecycle/lifecycle"
SYNC_ACTOR = "reconcile"


@dataclass(frozen=True)
class Healed:
    case_id: str
    ref: str
    what: str


def reconcile(app: App, case_ids: Iterable[str] | None = None) -> list[Healed]:
    """Bring the runs of ``case_ids`` (default: every case with an open matter or an
    unfinished run) back in step; what was done to each one that needed it."""
    wanted = set(case_ids) if case_ids is not None else None
    with app.uow() as uow:
        runs = uow.runs()
        cases = [c for c in uow.all_cases() if (wanted is None or c.id in wanted)
                 and (c.stage is not Stage.CLOSED or c.id in runs)]
        waits = {c.id: uow.wait_of(c.id) for c in cases}
    healed = []
    with get_client(sync_client=True) as client:
        for case in cases:
            run_id = runs.get(case.id)
            what = _heal(app, client, case, run_id, waits[case.id])
            if what:
                healed.append(Healed(case.id, case.ref, what))
    return healed


def _heal(app: App, client: object, case: Case, run_id: str | None,
          wait: Wait | None) -> str | None:
    open_ = case.stage is not Stage.CLOSED
    if run_id is None:
        return _new_run(app, case, first=True) if open_ else None
    try:
        run = client.read_flow_run(run_id)  # type: ignore[attr-defined]
    except ObjectNotFound:
        return _new_run(app, case, first=False, why="its run is gone") if open_ else None
    state = run.state
    if state is None:
        return None
    if state.is_final():
        if not open_ or (state.is_completed() and not open_):
            return None
        return _new_run(app, case, first=False, why=f"its run was {state.name}")
    if not state.is_paused():
        return None  # scheduled, pending, running: it reads the case itself
    key = state.state_details.pause_key
    in_step = (wait is not None and wait.open and wait.key == key
               and wait.stage == case.stage.value and open_)
    if in_step:
        return None
    why = wake(run_id, {"act": SYNC, "actor": SYNC_ACTOR})
    if why is not None:
        return f"could not be brought back now ({why})"
    return (f"resumed to read the case again: it waited at {key}, the case is "
            f"{case.stage.value}")


def _new_run(app: App, case: Case, *, first: bool, why: str = "") -> str:
    key = f"petition:{case.id}" if first else f"petition:{case.id}:{uuid.uuid4().hex[:8]}"
    run = create_run(LIFECYCLE_DEPLOYMENT, {"case_id": case.id}, key)
    with app.uow() as uow:
        if first:
            uow.record_run(case.id, str(run.id), app.clock.now())
        else:
            uow.replace_run(case.id, str(run.id), app.clock.now())
        uow.commit()
    return "started its lifecycle run" if first else f"a new run, {why}"
