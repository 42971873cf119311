"""Prefect runs from outside a flow: creating a run of a served deployment, and waking a
case's suspended lifecycle run after an action was committed."""

from __future__ import annotations

from typing import Any

from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.exceptions import NotPausedError, PrefectException
from prefect.flow_runs import resume_flow_run


def create_run(name: str, parameters: dict[str, Any], idempotency_key: str | None) -> FlowRun:
    """A new run of deployment ``name``, or the run already made under ``idempotency_key``."""
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(name)
        return client.create_flow_run_from_deployment(deployment.id, parameters=parameters,
                                                      idempotency_key=idempotency_key)


def wake(run_id: str, fields: dict[str, Any]) -> str | None:
    """Resume a suspended lifecycle run with the action just committed (its form's fields).
    Returns why it was not resumed, or None. Not resuming loses nothing: the run reloads the
    case whenever it next wakes."""
    try:
        resume_flow_run(run_id, run_input={k: v for k, v in fields.items()  # type: ignore[arg-type]
                                           if v not in (None, "")})
    except (NotPausedError, RuntimeError, PrefectException) as e:
        return str(e) or type(e).__name__
    return None
