"""Prefect runs through Prefect's client, inside the engine: creating a run of a served
deployment, waiting for it, bringing a suspended run back in step (``sync``), and reading a
Prefect Secret block. Entrances start and wake runs through ``flows.engine`` instead."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from prefect.blocks.system import Secret
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.exceptions import NotPausedError, PrefectException
from prefect.flow_runs import resume_flow_run

from flows.rest import SCHEMA_NOT_SAVED_YET, SCHEMA_WAIT_SECONDS


def create_run(name: str, parameters: dict[str, Any], idempotency_key: str | None) -> FlowRun:
    """A new run of deployment ``name``, or the run already made under ``idempotency_key``."""
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(name)
        return client.create_flow_run_from_deployment(deployment.id, parameters=parameters,
                                                      idempotency_key=idempotency_key)


def run_deployment(name: str, parameters: dict[str, Any], key: str | None,
                   timeout: float) -> FlowRun:
    """Create a run of a served deployment and wait for it to finish (or ``timeout``)."""
    run = create_run(name, parameters, key)
    with get_client(sync_client=True) as client:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = client.read_flow_run(run.id)
            if run.state is not None and run.state.is_final():
                break
            time.sleep(0.3)
        return run


def failure(run: FlowRun) -> str:
    """Why a run did not complete, in one line: its state and Prefect's message (which
    carries the exception the flow raised)."""
    state = run.state
    if state is None:
        return f"run {run.id} has no state"
    reason = (state.message or "").strip().splitlines()
    return f"run {run.id} is {state.name}" + (f": {reason[0]}" if reason else "")


def wake(run_id: str, fields: Mapping[str, Any],
         patience: float = SCHEMA_WAIT_SECONDS) -> str | None:
    """Resume a suspended lifecycle run with ``fields`` (the reconciler's ``sync``); why it
    was not resumed, or None. A run caught between showing as suspended and saving its
    form is tried again until the form is there (for ``patience`` seconds)."""
    run_input = {k: v for k, v in fields.items() if v not in (None, "")}
    deadline = time.monotonic() + patience
    while True:
        try:
            resume_flow_run(run_id, run_input=run_input)  # type: ignore[arg-type]
        except (NotPausedError, RuntimeError, PrefectException) as e:
            if SCHEMA_NOT_SAVED_YET in str(e) and time.monotonic() < deadline:
                time.sleep(0.2)
                continue
            return str(e) or type(e).__name__
        return None


def read_secret(name: str) -> str | None:
    """The value of the Prefect Secret block ``name``."""
    value = Secret.load(name).get()  # type: ignore[union-attr]
    return str(value) if value else None
