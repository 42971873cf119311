"""Drives the cluster as clerks and first responders would, in its own process (so Prefect
reads the cluster's settings from the environment at import).

    python tests/cluster/drive.py intake N     # N petitions registered as `petitions intake`
                                               # does, each run started by case id
    python tests/cluster/drive.py register REF RECEIVED   # registered only: not routed, no
                                               # run (as a clerk's command cut short)
    python tests/cluster/drive.py ack          # every assigned case acknowledged, by the
                                               # CLI's own action path (commit, then resume)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def intake(n: int) -> None:
    from flows.engine import PrefectRuns
    from services.bootstrap import bootstrap
    from services.intake import intake as register

    data = json.loads((ROOT / "deploy" / "config" / "samples" / "wage-complaint.json")
                      .read_text())
    data.pop("received_at")
    app = bootstrap()
    runs = PrefectRuns(app.settings)
    for i in range(n):
        petitioner = {**data["petitioner"], "id_number": f"1426011980010{i:05d}"}
        case = register(app, {**data, "petitioner": petitioner}, actor="qian.hui",
                        registration_no=f"XF-S{i:04d}", via="cli:drive")
        why = runs.start(app, case.id)
        assert why is None, why


def register_only(ref: str, received: str) -> None:
    from services.bootstrap import bootstrap
    from services.cases import register

    data = json.loads((ROOT / "deploy" / "config" / "samples" / "wage-complaint.json")
                      .read_text())
    register(bootstrap(), {**data, "received_at": received}, registration_no=ref,
             actor="qian.hui", via="cli:drive")


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
    elif sys.argv[1] == "register":
        register_only(sys.argv[2], sys.argv[3])
    else:
        ack()
