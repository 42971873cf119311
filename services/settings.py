"""Every setting of an installation, read once from the environment (``PETITIONS_*``).

A frozen dataclass read by ``Settings.from_env``, not pydantic-settings: its import costs
0.17 s, half of what a read command may take, for thirteen flat values.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from domain.errors import ConfigError

PREFIX = "PETITIONS_"


class Secret:
    """A value that is never printed (its ``repr`` and ``str`` are stars)."""

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__


@dataclass(frozen=True)
class Settings:
    """Each field is the variable ``PETITIONS_<FIELD>`` (``PETITIONS_HOME``...)."""

    home: Path = field(default_factory=lambda: Path.home() / ".petitions")
    config_dir: Path | None = None
    # The office a command acts in, of an installation with several (``--office``); the
    # web workplace acts in each person's own office.
    office: str | None = None
    database_url: str | None = None
    # The embedded Prefect server of ``petitions serve`` (127.0.0.1 only).
    prefect_port: int = 4200
    # How often the deadline sweeper runs under ``petitions serve``.
    sweep_seconds: int = 60
    # The demo's and the flow tests' simulated clock (``HOME/clock``); never in production.
    simulated_clock: bool = False
    # Fault injection for the reliability tests: intake sleeps this long after registering,
    # and a lifecycle step after reading where its case waits.
    intake_pause_seconds: float = 0.0
    step_pause_seconds: float = 0.0
    # E-mail. Without a key (here or in the named Prefect Secret block) messages are
    # written as .eml files under HOME/outbox.
    sendgrid_api_key: Secret | None = None
    sendgrid_secret_block: str | None = None
    sendgrid_host: str = "https://api.sendgrid.com"
    sendgrid_timeout: float = 10.0
    # How often the served engine delivers the outbox.
    send_seconds: int = 30
    # How often the served engine checks the practices (reception notices, zero reports,
    # the weekly digest); each is due at a configured local time.
    practices_seconds: int = 300
    # How often the served engine brings lifecycle runs back in step with their cases.
    reconcile_seconds: int = 300
    # At most this many lifecycle runs started per round (the oldest open cases first):
    # after an import, or the loss of Prefect's database, thousands of open cases have no
    # run, and each run started is a process on the worker; the rest wait for the next round.
    reconcile_new_runs: int = 50
    # A run shown suspended this many seconds whose form (Prefect's run input schema) is
    # still not saved lost it (its process died between the two): it is replaced.
    form_lost_seconds: float = 120.0
    # The web workplace beside the engine (``petitions serve``): where it listens, the key
    # its session cookies are signed with (default: a random one kept in HOME/web-secret),
    # how long a login lasts, and whether its cookie is sent over HTTPS only (set it when
    # the office's proxy terminates TLS). PETITIONS_WEB_PORT=0 serves no workplace.
    web_port: int = 8000
    web_host: str = "127.0.0.1"
    web_secret: Secret | None = None
    web_session_hours: float = 8.0
    web_https_only: bool = False
    # The workplace's address as staff reach it (https://xf.example.cn): every staff message
    # (e-mail, group robot) links to its case's page there; unset, messages carry no link.
    web_base_url: str | None = None
    # Where files are kept (attachments, printed notices): unset, HOME/files; or an
    # S3-compatible object store shared by every replica, s3://BUCKET/PREFIX?endpoint=URL
    # (keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; storage/files.py).
    files_url: str | None = None
    # The served engine's daily backup (services/backup.py): where (unset, HOME/backups),
    # how many are kept, and the passphrase the installation's keys are sealed with
    # (unset, they are left out of the backup, never stored in clear).
    backup_dir: Path | None = None
    backup_keep: int = 7
    backup_passphrase: Secret | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **given: Any) -> Settings:
        """The settings from ``environ`` (default: this process's environment); ``given``
        values win. A malformed value is a ``ConfigError`` naming its variable."""
        env = os.environ if environ is None else environ
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            name = PREFIX + f.name.upper()
            if f.name in given:
                values[f.name] = given[f.name]
            elif env.get(name, "") != "":
                values[f.name] = _parse(name, env[name], hints[f.name])
        return cls(**values)

    @property
    def office_dir(self) -> Path:
        """Where the office's YAML files live: ``PETITIONS_CONFIG_DIR`` or ``HOME/config``."""
        return self.config_dir or self.home / "config"

    @property
    def db_url(self) -> str:
        """``PETITIONS_DATABASE_URL``, else an SQLite file under ``PETITIONS_HOME``."""
        if self.database_url:
            return self.database_url
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)  # its owner's alone
        return f"sqlite:///{self.home / 'petitions.db'}"

    @property
    def cache_dir(self) -> Path:
        """Data derived from installed packages, rebuilt when missing (``HOME/cache``)."""
        return self.home / "cache"

    @property
    def prefect_home(self) -> Path:
        """The embedded Prefect server's own files (its SQLite database, results)."""
        return self.home / "prefect"


_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def _parse(name: str, text: str, hint: Any) -> Any:
    kinds = [k for k in typing.get_args(hint) if k is not type(None)] \
        if isinstance(hint, types.UnionType) else [hint]
    kind = kinds[0]
    try:
        if kind is bool:
            if text.strip().lower() not in _TRUE | _FALSE:
                raise ValueError
            return text.strip().lower() in _TRUE
        if kind is Path:
            return Path(text).expanduser()
        if kind is Secret:
            return Secret(text)
        return kind(text)
    except ValueError:
        raise ConfigError(f"expected {kind.__name__}, got {text!r}", source=name) from None
