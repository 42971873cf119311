"""The engine's runs as the use cases see them (``services.ports.Runs``), on the office's
Prefect server: the CLI, the demo and the web hand ``PrefectRuns`` to the use cases."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from flows.heal import reconcile
from flows.prefect_env import api_url, configure, healthy, require_server
from flows.runs import INTAKE_DEPLOYMENT, IntakeFailed, failure, run_deployment, wake
from services.bootstrap import App
from services.settings import Settings


class PrefectRuns:
    """The engine's runs on the office's Prefect server (``services.ports.Runs``)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        configure(settings)

    def wake(self, run_id: str, request: Mapping[str, Any]) -> str | None:
        # A refused connection fails at once; a busy server gets 5 s (1 s proved too short
        # under load: 3 of 200 runs were left waiting).
        if not healthy(api_url(self.settings), timeout=5.0):
            return ("no Prefect server answers; the lifecycle run follows when `petitions "
                    "serve` runs and the case is next acted on")
        try:
            return wake(run_id, request)
        except (httpx.HTTPError, OSError) as e:  # no server, or it did not answer in time
            return f"no answer from the Prefect server: {e}"

    def intake(self, petition: Mapping[str, Any], registration_no: str, actor: str,
               signal: str | None, timeout: float, via: str) -> None:
        require_server(self.settings)
        run = run_deployment(INTAKE_DEPLOYMENT,
                             {"petition": dict(petition), "registration_no": registration_no,
                              "actor": actor, "signal": signal, "via": via,
                              "office": self.settings.office},
                             f"intake:{registration_no}", timeout)
        state = run.state
        if state is None or not state.is_completed():
            raise IntakeFailed(registration_no, failure(run))

    def start(self, app: App, case_id: str) -> str | None:
        if not healthy(api_url(self.settings), timeout=5.0):
            return "no Prefect server answers; the run starts when it is back"
        try:
            reconcile(app, [case_id])
        except (httpx.HTTPError, OSError) as e:
            return f"no answer from the Prefect server: {e}"
        return None

    def heal(self, app: App, case_id: str) -> list[str]:
        if not healthy(api_url(self.settings), timeout=5.0):
            return []
        return [h.what for h in reconcile(app, [case_id])]
