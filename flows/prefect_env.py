"""Where Prefect lives for this office, and the embedded server's process.

Imports no Prefect itself. Prefect reads its settings from the environment when it is first
imported; ``configure`` sets them, and refreshes Prefect's settings if it was imported
already, so the order of imports does not matter. The embedded default keeps everything under
``PETITIONS_HOME/prefect``: the server's SQLite database, its log, and flow results.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from domain.errors import ConfigError
from flows.rest import PrefectApi
from services.settings import Settings
from storage.audit import installation_key

PAUSE_EXPIRATIONS = "PREFECT_SERVER_SERVICES_PAUSE_EXPIRATIONS_ENABLED"
CLIENT_AUTH = "PREFECT_API_AUTH_STRING"          # what every client sends (basic auth)
SERVER_AUTH = "PREFECT_SERVER_API_AUTH_STRING"   # what the server requires
AUTH_FILE = "prefect-auth"


def auth_string(settings: Settings) -> str:
    """The password of the office's Prefect API: ``PREFECT_API_AUTH_STRING`` when set (a
    shared server's), else a random one kept in ``PETITIONS_HOME/prefect-auth`` (0600),
    which the embedded server requires and every process of this home sends. Prefect's API
    has no login of its own: without it, anyone who reaches the port reads every run."""
    return installation_key(settings.home, os.environ, CLIENT_AUTH, AUTH_FILE).decode("utf-8")


def api_url(settings: Settings) -> str:
    """``PREFECT_API_URL`` when set (a shared server), else the embedded server's."""
    return os.environ.get("PREFECT_API_URL") or f"http://127.0.0.1:{settings.prefect_port}/api"


def prefect_environment(settings: Settings) -> dict[str, str]:
    """The variables that point Prefect (and every flow-run process) at this office."""
    home = settings.prefect_home
    return {
        "PREFECT_API_URL": api_url(settings),
        CLIENT_AUTH: auth_string(settings),
        "PREFECT_HOME": str(home),
        "PREFECT_LOCAL_STORAGE_PATH": str(home / "results"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_DATABASE_CONNECTION_URL":
            os.environ.get("PREFECT_API_DATABASE_CONNECTION_URL")
            or f"sqlite+aiosqlite:///{home / 'prefect.db'}",
    }


def configure(settings: Settings) -> None:
    """Point this process at the office's Prefect server (variables already set win)."""
    settings.prefect_home.mkdir(parents=True, exist_ok=True)
    changed = False
    for name, value in prefect_environment(settings).items():
        if name not in os.environ:
            os.environ[name] = value
            changed = True
    context = sys.modules.get("prefect.context")
    if changed and context is not None:
        context.refresh_global_settings_context()


def api(settings: Settings, timeout: float = 10.0) -> PrefectApi:
    """The office's Prefect server's REST API, authenticated (``flows.rest``)."""
    return PrefectApi(api_url(settings), auth_string(settings), timeout)


def healthy(url: str, timeout: float = 1.0, path: str = "/health") -> bool:
    """Whether a Prefect server answers at ``url`` (its ``/health`` endpoint; the
    workplace's is ``/healthz``)."""
    try:
        with urllib.request.urlopen(f"{url}{path}", timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def require_server(settings: Settings) -> str:
    """The API address, or a clear error when nothing serves it."""
    url = api_url(settings)
    if not healthy(url):
        raise ConfigError("no Prefect server answers; start `petitions serve` first "
                          "(or set PREFECT_API_URL)", source=url)
    return url


def tied_to_parent(sig: int = signal.SIGTERM, *, new_session: bool = True
                   ) -> Callable[[], None] | None:
    """A ``preexec_fn`` that ties a child process to the process starting it (Linux): the
    child gets ``sig`` when its parent dies, even by SIGKILL, so nothing outlives it. With
    ``new_session`` it also leaves the terminal's process group (Ctrl-C reaches the parent,
    which stops its children in order). None where this cannot be done."""
    if not sys.platform.startswith("linux"):
        return None

    def tie() -> None:  # pragma: no cover - runs in the child before exec
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, sig)  # PR_SET_PDEATHSIG
        if new_session:
            os.setsid()

    return tie


def tethered(args: list[str]) -> list[str]:
    """``args`` run through ``flows.tether``: tied to this process (it dies with it), in a
    session of its own (Ctrl-C reaches only ``serve``, which stops it in order)."""
    return [sys.executable, "-m", "flows.tether", str(os.getpid()), "--", *args]


def start_server(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    """Start the embedded Prefect server (SQLite under ``PETITIONS_HOME``) as a child."""
    env = {**os.environ, **prefect_environment(settings)}
    # Every petition waits suspended with no timeout (deadlines are our sweeper's), so the
    # server's pause-expirations service never has anything to expire, yet it reads every
    # paused run every 5 s: 73 % of a core with 11,495 suspended runs, 2 % without it
    # (BENCHMARKS.md). Set the variable to "true" to keep it.
    env.setdefault(PAUSE_EXPIRATIONS, "false")
    # Its API refuses (401) every request without the home's password, its websockets too
    # (Prefect 3.8 checks the auth message of /api/events/in and /out; tested).
    env[SERVER_AUTH] = os.environ.get(SERVER_AUTH) or env[CLIENT_AUTH]
    args = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
            "--port", str(settings.prefect_port)]
    with log.open("ab") as out:  # dies with ``petitions serve``
        return subprocess.Popen(tethered(args), env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def start_web(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    """Start the office workplace (``web.main:create_app`` under uvicorn) as a child on
    ``PETITIONS_WEB_HOST``:``PETITIONS_WEB_PORT``, pointed at this engine's server."""
    env = {**os.environ, **prefect_environment(settings)}
    # X-Forwarded-For is believed only from the office's proxy, named by PETITIONS_PROXY_IPS
    # (the public progress page counts wrong codes per client address); none by default.
    proxies = os.environ.get("PETITIONS_PROXY_IPS", "").strip()
    args = [sys.executable, "-m", "uvicorn", "web.main:create_app", "--factory",
            "--host", settings.web_host, "--port", str(settings.web_port),
            *(["--proxy-headers", "--forwarded-allow-ips", proxies] if proxies
              else ["--no-proxy-headers"]), "--timeout-graceful-shutdown", "10"]
    with log.open("ab") as out:
        return subprocess.Popen(tethered(args), env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def web_address(settings: Settings) -> str:
    host = settings.web_host
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{shown}:{settings.web_port}"


def wait_until_healthy(proc: subprocess.Popen[bytes], url: str, timeout: float,
                       tick: Callable[[float], None], log: Path,
                       check: Callable[[str], bool] = healthy, what: str = "the Prefect server"
                       ) -> None:
    """Poll ``check(url)`` (``/health``) until the server answers; fail early if it
    exits."""
    started = time.monotonic()
    while not check(url):
        waited = time.monotonic() - started
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise ConfigError(f"{what} exited with code {proc.returncode} while "
                              f"starting; its log ends:\n{tail}", source=str(log))
        if waited > timeout:
            raise ConfigError(f"{what} did not answer within {timeout:.0f} s",
                              source=str(log))
        tick(waited)
        time.sleep(0.5)


def stop(proc: subprocess.Popen[bytes], grace: float = 20.0) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()

