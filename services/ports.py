"""What the use cases need from the engine that runs the cases (Prefect, in ``flows``), as a
port: the CLI, the demo and the web workplace pass in ``flows.engine.PrefectRuns``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from services.bootstrap import App


class Runs(Protocol):
    def wake(self, run_id: str, request: Mapping[str, Any]) -> str | None:
        """Resume a case's suspended lifecycle run with an action just committed (its
        form's fields). Returns why it was not resumed now, or None. Not resuming loses
        nothing: the run reloads the case whenever it next wakes."""

    def heal(self, app: App, case_id: str) -> list[str]:
        """Bring the case's run back in step with the case (``flows.heal``), when waking
        it failed; what was done."""

    def start(self, app: App, case_id: str) -> str | None:
        """Start the case's lifecycle run (once; nothing when it has one); why not now, or
        None. A case whose run could not start (Prefect down) is started by the reconcile
        step when it is back."""


class RunsOnFirstUse:
    """``Runs`` made by ``factory`` when first used: an entrance hands this out so that a
    refused action answers before the engine (Prefect) is ever imported."""

    def __init__(self, factory: Callable[[], Runs]) -> None:
        self._factory = factory
        self._made: Runs | None = None

    @property
    def _runs(self) -> Runs:
        if self._made is None:
            self._made = self._factory()
        return self._made

    def wake(self, run_id: str, request: Mapping[str, Any]) -> str | None:
        return self._runs.wake(run_id, request)

    def heal(self, app: App, case_id: str) -> list[str]:
        return self._runs.heal(app, case_id)

    def start(self, app: App, case_id: str) -> str | None:
        return self._runs.start(app, case_id)
