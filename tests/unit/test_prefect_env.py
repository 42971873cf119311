"""The embedded Prefect server is started without its pause-expirations service (every
petition waits suspended with no timeout; the service only reads every paused run every
5 s, BENCHMARKS.md), unless the operator asks for it; the workplace believes a forwarded
client address only from the proxy the operator names; a new home is its owner's alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from flows import prefect_env
from services.settings import Settings


class _Popen:
    """Takes what the server would have been started with; starts nothing."""

    env: ClassVar[dict[str, str]] = {}
    args: ClassVar[list[str]] = []

    def __init__(self, args: list[str], env: dict[str, str], stdout: Any, **_: Any) -> None:
        _Popen.env, _Popen.args = env, args
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


@pytest.mark.parametrize("proxies,expected", [
    (None, ["--no-proxy-headers"]),
    ("10.0.0.5", ["--proxy-headers", "--forwarded-allow-ips", "10.0.0.5"])])
def test_the_workplace_believes_forwarded_for_only_from_the_named_proxy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, proxies: str | None,
        expected: list[str]) -> None:
    """Served on its own, a client's X-Forwarded-For is not believed (the progress page
    counts wrong codes per address); behind the office's proxy, only the proxy's."""
    monkeypatch.delenv("PETITIONS_PROXY_IPS", raising=False)
    if proxies is not None:
        monkeypatch.setenv("PETITIONS_PROXY_IPS", proxies)
    monkeypatch.setattr(prefect_env.subprocess, "Popen", _Popen)
    prefect_env.start_web(Settings(home=tmp_path), tmp_path / "web.log")
    at = _Popen.args.index(expected[0])
    assert _Popen.args[at:at + len(expected)] == expected
    assert "--forwarded-allow-ips=*" not in _Popen.args and "*" not in _Popen.args


def test_a_new_home_is_its_owners_alone(tmp_path: Path) -> None:
    """The database, the notices and the keys under it hold accusations: no other local
    user may read them."""
    home = tmp_path / "new-home"
    Settings(home=home).db_url  # noqa: B018 - the first use makes the home
    assert home.stat().st_mode & 0o777 == 0o700
