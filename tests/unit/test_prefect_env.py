"""The embedded Prefect server is started without its pause-expirations service (every
petition waits suspended with no timeout; the service only reads every paused run every
5 s, BENCHMARKS.md), unless the operator asks for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from flows import prefect_env
from services.settings import Settings


class _Popen:
    """Takes what the server would have been started with; starts nothing."""

    env: ClassVar[dict[str, str]] = {}

    def __init__(self, args: list[str], env: dict[str, str], stdout: Any, **_: Any) -> None:
        _Popen.env = env
        stdout.close()


@pytest.mark.parametrize("given,expected", [(None, "false"), ("true", "true")])
def test_the_embedded_server_runs_without_pause_expirations_unless_asked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str | None,
        expected: str) -> None:
    monkeypatch.delenv(prefect_env.PAUSE_EXPIRATIONS, raising=False)
    if given is not None:
        monkeypatch.setenv(prefect_env.PAUSE_EXPIRATIONS, given)
    monkeypatch.setattr(prefect_env.subprocess, "Popen", _Popen)
    prefect_env.start_server(Settings(home=tmp_path), tmp_path / "server.log")
    assert _Popen.env[prefect_env.PAUSE_EXPIRATIONS] == expected
