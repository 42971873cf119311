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

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import TERMINAL_STATES as FINAL_STATES
from prefect.client.schemas.objects import FlowRun, State, StateType
from prefect.client.schemas.sorting import FlowRunSort
from prefect.exceptions import ObjectNotFound
from prefect.states import Cancelled

from domain.stages import Stage
from flows.inputs import SYNC
from flows.rest import SCHEMA_NOT_SAVED_YET, SCHEMA_WAIT_SECONDS
from flows.runs import create_run, wake
from services.bootstrap import App
from storage.ports import RunRow

LIFECYCLE_DEPLOYMENT = "petition-lifecycle/lifecycle"
SYNC_ACTOR = "reconcile"
PAGE = 200  # unfinished runs read at a time
STARTED, REPLACED = "started its lifecycle run", "a new run"
FORM_LOST = "its run was suspended without its form (its process died in between)"
DEFERRED = "deferred"  # a new run needed, past this round's PETITIONS_RECONCILE_NEW_RUNS


@dataclass(frozen=True)
class Healed:
    """What was done to one case's run; ``case_id`` "": the cases left for the next round."""

    case_id: str
    ref: str
    what: str


def reconcile(app: App, case_ids: Iterable[str] | None = None) -> list[Healed]:
    """Bring the runs of ``case_ids`` (default: every open case, and every closed case
    whose run has not ended) back in step; what was done to each one that needed it.

    What it reads grows with the open cases, not with every case ever received: the runs
    that have not ended are read from Prefect a page at a time (``_unfinished``), the open
    cases from the database without loading them; only a run that is not among the
    unfinished ones (ended, gone, or started since) is read alone."""
    with get_client(sync_client=True) as client:
        if case_ids is not None:
            live: dict[str, FlowRun] = {}
            with app.uow() as uow:
                rows = uow.run_rows(case_ids=list(case_ids))
        else:
            live = _unfinished(client)  # before the cases: a run started since is read alone
            with app.uow() as uow:
                rows = uow.run_rows()
                open_ids = {r.case_id for r in rows}
                closed = {str(run.parameters.get("case_id")) for run in live.values()} - open_ids
                rows += uow.run_rows(case_ids=sorted(closed))  # closed since, or ending
        healed: list[Healed] = []
        budget = app.settings.reconcile_new_runs if case_ids is None else len(rows)
        started = deferred = 0
        for row in rows:
            what = _heal(app, client, row, live.get(row.run_id or ""),
                         may_start=started < budget)
            if what == DEFERRED:
                deferred += 1
            elif what:
                started += what.startswith((STARTED, REPLACED))
                healed.append(Healed(row.case_id, row.ref, what))
    if deferred:
        healed.append(Healed("", f"{deferred} more open case(s)", (
            f"their runs start in the next rounds ({budget} a round, "
            "PETITIONS_RECONCILE_NEW_RUNS)")))
    return healed


def _unfinished(client: SyncPrefectClient) -> dict[str, FlowRun]:
    """Every lifecycle run not in a final state (mostly suspended ones), by id."""
    query = FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(
        any_=[t for t in StateType if t not in FINAL_STATES])))
    flows = FlowFilter(name=FlowFilterName(any_=[LIFECYCLE_DEPLOYMENT.split("/")[0]]))
    found: dict[str, FlowRun] = {}
    while True:
        page = client.read_flow_runs(flow_filter=flows, flow_run_filter=query,
                                     sort=FlowRunSort.ID_DESC, offset=len(found), limit=PAGE)
        found.update((str(run.id), run) for run in page)
        if len(page) < PAGE:
            return found


def _heal(app: App, client: SyncPrefectClient, row: RunRow, run: FlowRun | None, *,
          may_start: bool) -> str | None:
    """What was done to bring ``row``'s run in step (None: nothing needed; ``DEFERRED``:
    a new run is needed and ``may_start`` is false)."""
    open_ = row.stage != Stage.CLOSED.value
    if row.run_id is None:
        return _new_run(app, row.case_id, may_start, first=True) if open_ else None
    if run is None:
        try:
            run = client.read_flow_run(uuid.UUID(row.run_id))
        except ObjectNotFound:
            return (_new_run(app, row.case_id, may_start, first=False, why="its run is gone")
                    if open_ else None)
    state = run.state
    if state is None:
        return None
    if state.is_final():
        if not open_:
            return None
        return _new_run(app, row.case_id, may_start, first=False,
                        why=f"its run was {state.name}")
    if not state.is_paused():
        return None  # scheduled, pending, running: it reads the case itself
    key = state.state_details.pause_key
    wait = row.wait
    in_step = (wait is not None and wait.open and wait.key == key
               and wait.stage == row.stage and open_)
    if in_step:
        return None
    # A form is saved 0.1 s after PAUSED: one missing this long (2 min) never comes.
    long_paused = _paused_for(state) > app.settings.form_lost_seconds
    why = wake(row.run_id, {"act": SYNC, "actor": SYNC_ACTOR},
               patience=0.0 if long_paused else SCHEMA_WAIT_SECONDS)
    if why is not None and SCHEMA_NOT_SAVED_YET in why and long_paused:
        # Suspended, but its form was never saved: its process died between the two
        # (Prefect saves the form just after the PAUSED state). No answer can reach it.
        client.set_flow_run_state(run.id, Cancelled(message=FORM_LOST), force=True)
        if not open_:  # a closed case needs no run: the lost one only had to end
            return f"cancelled: {FORM_LOST}"
        return _new_run(app, row.case_id, may_start, first=False, why=FORM_LOST)
    if why is not None:
        return f"could not be brought back now ({why})"
    return f"resumed to read the case again: it waited at {key}, the case is {row.stage}"


def _paused_for(state: State) -> float:
    """Seconds since the run was suspended (Prefect's clock, not the office's)."""
    return (dt.datetime.now(dt.UTC) - state.timestamp).total_seconds()


def _new_run(app: App, case_id: str, may_start: bool, *, first: bool, why: str = "") -> str:
    if not may_start:
        return DEFERRED
    key = f"petition:{case_id}" if first else f"petition:{case_id}:{uuid.uuid4().hex[:8]}"
    run = create_run(LIFECYCLE_DEPLOYMENT, {"case_id": case_id}, key)
    with app.uow() as uow:
        if first:
            uow.record_run(case_id, str(run.id), app.clock.now())
        else:
            uow.replace_run(case_id, str(run.id), app.clock.now())
        uow.commit()
    return STARTED if first else f"{REPLACED}, {why}"


RETIRED_INTAKE = "petition-intake"


def forget_intake_runs() -> int:
    """Delete every run of the retired ``petition-intake`` flow (its parameters held whole
    petitions) and its deployment; how many runs were deleted."""
    flows = FlowFilter(name=FlowFilterName(any_=[RETIRED_INTAKE]))
    deleted = 0
    with get_client(sync_client=True) as client:
        while page := client.read_flow_runs(flow_filter=flows, limit=PAGE):
            for run in page:
                client.delete_flow_run(run.id)
                deleted += 1
        try:
            client.delete_deployment(client.read_deployment_by_name(
                f"{RETIRED_INTAKE}/intake").id)
        except ObjectNotFound:
            pass
    return deleted
