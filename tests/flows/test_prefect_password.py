"""The served engine's Prefect API asks for the home's password (Prefect's basic auth): a
request without it, or with another, is refused (401), on every path but the health probes;
its websockets too (Prefect's issue 17687: 3.2's events socket did not check; 3.8.8's do,
each one: events in and out, logs out, the task-run subscriptions). The server listens on
loopback only."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

SOCKETS = ("/events/in", "/events/out", "/logs/out", "/task_runs/subscriptions/scheduled")


def _status(url: str, auth: str | None, body: dict[str, object] | None = None) -> int:
    headers = {"Content-Type": "application/json"}
    if auth is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
    req = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(),
                                 headers=headers, method="GET" if body is None else "POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        e.close()
        return int(e.code)


@pytest.mark.parametrize("path, body", [("/flow_runs/filter", {}), ("/artifacts/filter", {}),
                                        ("/events/filter", {}), ("/logs/filter", {}),
                                        ("/block_documents/filter", {}),
                                        ("/deployments/name/petition-lifecycle/lifecycle",
                                         None), ("/admin/settings", None)])
def test_a_request_without_the_password_is_refused(served, path, body):
    url = f"{served.api}{path}"
    assert _status(url, None, body) == 401
    assert _status(url, "not-the-password", body) == 401
    assert _status(url, served.auth, body) == 200


def test_the_health_probes_answer_without_it_and_only_on_loopback(served):
    assert _status(f"{served.api}/health", None) == 200
    assert served.api.startswith("http://127.0.0.1:")


def _socket_url(served, path: str) -> str:  # type: ignore[no-untyped-def]
    return served.api.replace("http://", "ws://") + path


@pytest.mark.parametrize("path", SOCKETS)
def test_every_websocket_asks_for_it(served, path):
    # Without the "prefect" subprotocol (a legacy client): refused at the handshake (403).
    with pytest.raises(InvalidStatus) as refused:
        connect(_socket_url(served, path), open_timeout=30)
    assert refused.value.response.status_code == 403
    # With it, a wrong token or none: closed, as a policy violation.
    for token in ("not-the-password", None):
        with connect(_socket_url(served, path), subprotocols=["prefect"],  # type: ignore[list-item]
                     open_timeout=30) as ws:
            ws.send(json.dumps({"type": "auth", "token": token}))
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=30)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    # The password: accepted.
    with connect(_socket_url(served, path), subprotocols=["prefect"],  # type: ignore[list-item]
                 open_timeout=30) as ws:
        ws.send(json.dumps({"type": "auth", "token": served.auth}))
        assert json.loads(ws.recv(timeout=30)) == {"type": "auth_success"}


def test_an_event_sent_without_the_password_is_not_recorded(served):
    with connect(_socket_url(served, "/events/in"), subprotocols=["prefect"],  # type: ignore[list-item]
                 open_timeout=30) as ws:
        ws.send(json.dumps({"type": "auth", "token": "guess"}))
        try:
            ws.send(json.dumps({"occurred": "2026-11-20T01:00:00Z", "event": "forged.event",
                                "resource": {"prefect.resource.id": "forged"},
                                "id": "9b6b1e1c-0d5e-4c1a-9d1e-1a2b3c4d5e6f"}))
            ws.recv(timeout=10)
        except (ConnectionClosed, TimeoutError):
            pass
    found = served.post("/events/filter", {"filter": {"event": {"name": ["forged.event"]}}})
    assert found["total"] == 0
