"""Drives the cluster as clerks and first responders would, in its own process (so Prefect
reads the cluster's settings from the environment at import).

    python tests/cluster/drive.py intake N     # N petitions through the intake flow
    python tests/cluster/drive.py ack          # every assigned case acknowledged, by the
                                               # CLI's own action path (commit, then resume)
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def intake(n: int) -> None:
    from flows.lifecycle import intake as intake_flow

    data = json.loads((ROOT / "deploy" / "config" / "samples" / "wage-complaint.json")
                      .read_text())
    data.pop("received_at")

    async def all_of_them() -> None:
        for i in range(n):
            petitioner = {**data["petitioner"], "id_number": f"1426011980010{i:05d}"}
            await intake_flow(petition={**data, "petitioner": petitioner}, actor="qian.hui",
                              registration_no=f"XF-S{i:04d}")

    asyncio.run(all_of_them())


def ack() -> None:
    from cli.actions import run_act
    from domain.stages import Stage
    from services.bootstrap import bootstrap
    from services.cases import Act, ActRequest

    app = bootstrap()
    with app.uow() as uow:
        cases = [c for c in uow.open_cases() if c.stage is Stage.ASSIGNED]
    for case in cases:
        run_act(case.ref, ActRequest(Act.ACK, str(case.responder)))


if __name__ == "__main__":
    if sys.argv[1] == "intake":
        intake(int(sys.argv[2]))
    else:
        ack()
