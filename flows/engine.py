"""The engine's runs as the use cases see them (``services.ports.Runs``), on the office's
Prefect server: the CLI, the demo and the web hand ``PrefectRuns`` to the use cases.

Starting and waking a run speak Prefect's REST API (``flows.rest``), so a command that
registers or acts does not import Prefect; only bringing a run back in step
(``flows.heal``, rare) loads Prefect's client.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flows.prefect_env import api, api_url, configure, healthy
from flows.rest import Refused, Unreachable
from services.bootstrap import App
from services.settings import Settings

LIFECYCLE_DEPLOYMENT = "petition-lifecycle/lifecycle"
DOWN = "no Prefect server answers"


def wake_input(request: Mapping[str, Any]) -> dict[str, str]:
    """What a resumed run is handed of an action already committed: the act, who took it
    and its request id — references only. The run skips the applied request and reads the
    case from the database; Prefect keeps every run input, readable to whoever reaches its
    API, so a reason or summary (which may quote the petition) never goes there."""
    return {k: str(request[k]) for k in ("act", "actor", "request_id") if request.get(k)}


class PrefectRuns:
    """The engine's runs on the office's Prefect server (``services.ports.Runs``)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        configure(settings)

    def _up(self) -> bool:
        # A refused connection fails at once; a busy server gets 5 s (1 s proved too short
        # under load: 3 of 200 runs were left waiting).
        return healthy(api_url(self.settings), timeout=5.0)

    def wake(self, run_id: str, request: Mapping[str, Any]) -> str | None:
        if not self._up():
            return (f"{DOWN}; the lifecycle run follows when `petitions serve` runs and "
                    "the case is next acted on")
        try:
            return api(self.settings).resume(run_id, wake_input(request))
        except Refused as e:
            return str(e)
        except Unreachable as e:
            return f"no answer from the Prefect server: {e}"

    def start(self, app: App, case_id: str) -> str | None:
        """The case's first lifecycle run, once (Prefect's idempotency key), recorded."""
        with app.uow() as uow:
            if uow.run_of(case_id) is not None:
                return None
        if not self._up():
            return f"{DOWN}; the run starts when it is back (the reconciler starts it)"
        try:
            run_id = api(self.settings).create_run(LIFECYCLE_DEPLOYMENT, {"case_id": case_id},
                                                   f"petition:{case_id}")
        except Refused as e:
            return f"{e}: the run is not started until the password is right"
        except Unreachable as e:
            return (f"no answer from the Prefect server ({e}); the run starts when it is "
                    "back (the reconciler starts it)")
        with app.uow() as uow:
            if uow.run_of(case_id) is None:
                uow.record_run(case_id, run_id, app.clock.now())
                uow.commit()
        return None

    def heal(self, app: App, case_id: str) -> list[str]:
        if not self._up():
            return []
        import httpx  # with Prefect's client: only when a run is out of step

        from flows.heal import reconcile

        try:
            return [h.what for h in reconcile(app, [case_id])]
        except (httpx.HTTPError, OSError) as e:
            return [f"not brought back now: {e}"]
