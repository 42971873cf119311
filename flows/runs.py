"""Creating a run of a served deployment (intake, lifecycle, sweeper) by its name."""

from __future__ import annotations

from typing import Any

from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun


def create_run(name: str, parameters: dict[str, Any], idempotency_key: str | None) -> FlowRun:
    """A new run of deployment ``name``, or the run already made under ``idempotency_key``."""
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(name)
        return client.create_flow_run_from_deployment(deployment.id, parameters=parameters,
                                                      idempotency_key=idempotency_key)
