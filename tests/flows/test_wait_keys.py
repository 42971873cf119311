"""Every stage a case can wait in gives a suspension key Prefect accepts for its form."""

from __future__ import annotations

import uuid

import pytest
from prefect.client.schemas.objects import FlowRunInput
from prefect.input.run_input import keyset_from_paused_state
from prefect.states import Suspended

from domain.stages import Stage
from flows.tasks import wait_key


@pytest.mark.parametrize("stage", [s for s in Stage if s is not Stage.CLOSED],
                         ids=lambda s: s.value)
def test_each_waiting_stage_has_a_key_prefect_accepts(stage: Stage) -> None:
    key = wait_key(stage, 12)
    keyset = keyset_from_paused_state(Suspended(pause_key=key))
    for name in keyset.values():  # what asuspend_flow_run saves the form under
        FlowRunInput(flow_run_id=uuid.uuid4(), key=name, value="{}")
    assert wait_key(stage, 12) != wait_key(stage, 13)
