"""The few calls an entrance makes to the office's Prefect server — start a case's lifecycle
run, wake it — over Prefect's REST API, without importing Prefect.

Importing Prefect's client costs a command more than a second (it loads pydantic models for
the whole API); the CLI's intake and actions make two or three calls, so they speak the REST
API Prefect's own client speaks (``prefect.client.orchestration``: the same paths and
bodies), with the server's basic authentication (``PREFECT_API_AUTH_STRING``).
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

# Prefect's suspend proposes the PAUSED state first and saves the form's schema after it
# (``prefect.flow_runs.asuspend_flow_run``): a resume in between is refused with this. It
# is a window of about 0.1 s, hit by whoever acts the moment a run shows as suspended.
SCHEMA_NOT_SAVED_YET = "Run input schema not found"
SCHEMA_WAIT_SECONDS = 15.0
BUSY_TRIES = 5  # a 503 (the embedded server's SQLite busy) is tried again, as Prefect does


class Unreachable(Exception):
    """No answer from the Prefect server (refused, timed out, or an error status)."""


class Refused(Unreachable):
    """The Prefect server answers, but not to this home's password (401, 403)."""


class PrefectApi:
    """Prefect's REST API at ``url`` (``…/api``), authenticated with ``auth``."""

    def __init__(self, url: str, auth: str | None, timeout: float = 10.0) -> None:
        self.url, self.timeout = url.rstrip("/"), timeout
        self.headers = {"Content-Type": "application/json"}
        if auth:
            token = base64.b64encode(auth.encode("utf-8")).decode("ascii")
            self.headers["Authorization"] = f"Basic {token}"

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """The decoded answer of ``method path`` (None when empty)."""
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(f"{self.url}{path}", data=data, method=method,
                                     headers=self.headers)
        for attempt in range(BUSY_TRIES):
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as r:
                    text = r.read()
                    return json.loads(text) if text else None
            except urllib.error.HTTPError as e:
                e.close()
                if e.code == 503 and attempt < BUSY_TRIES - 1:
                    time.sleep(0.5 * (attempt + 1))
                    continue
                if e.code in (401, 403):
                    raise Refused("the Prefect server refuses this home's password "
                                  f"(HTTP {e.code}; PREFECT_API_AUTH_STRING)") from None
                raise Unreachable(f"{method} {path}: HTTP {e.code}") from None
            except (urllib.error.URLError, OSError) as e:
                raise Unreachable(f"{method} {path}: {getattr(e, 'reason', e)}") from None
        raise Unreachable(f"{method} {path}: busy")  # pragma: no cover - loop returns

    def check(self) -> None:
        """The server answers, and to this password (``Refused`` if not)."""
        self.call("GET", "/admin/version")

    def create_run(self, deployment: str, parameters: Mapping[str, Any],
                   idempotency_key: str | None) -> str:
        """A new run of the deployment ``flow/name``, or the one already made under
        ``idempotency_key``; its id."""
        dep = self.call("GET", f"/deployments/name/{deployment}")
        body: dict[str, Any] = {"parameters": dict(parameters)}
        if idempotency_key:
            body["idempotency_key"] = idempotency_key
        run = self.call("POST", f"/deployments/{dep['id']}/create_flow_run", body)
        return str(run["id"])

    def resume(self, run_id: str, run_input: Mapping[str, Any]) -> str | None:
        """Resume a suspended run with ``run_input``; why it was not resumed, or None. A run
        caught between showing as suspended and saving its form is tried again until the
        form is there."""
        deadline = time.monotonic() + SCHEMA_WAIT_SECONDS
        while True:
            result = self.call("POST", f"/flow_runs/{run_id}/resume",
                               {"run_input": dict(run_input)}) or {}
            if result.get("status") == "ACCEPT":
                return None
            reason = str((result.get("details") or {}).get("reason") or result.get("status"))
            if SCHEMA_NOT_SAVED_YET in reason and time.monotonic() < deadline:
                time.sleep(0.2)
                continue
            return reason
