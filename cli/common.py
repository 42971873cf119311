"""What every command group shares: the consoles, one-line errors, the settings (read once
per process), and the one door to Prefect. Light on purpose: ``calendar due`` imports this
and neither SQLAlchemy nor Prefect (the app and its database are ``cli.home``).

Read commands never load Prefect: the groups import only ``services`` and below, and reach
the engine's runs through ``runs()``, which imports ``flows`` when a command first needs it.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import getpass
import io
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from domain.errors import PetitionError
from services.ports import Runs, RunsOnFirstUse
from services.settings import Settings

if TYPE_CHECKING:  # the app and its database are not loaded by the calendar's commands
    pass

# Piped output keeps full rows (a terminal uses its own width).
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., Any])

ConfigOpt = Annotated[Path | None, typer.Option(
    "--config", help="Office configuration folder (default: $PETITIONS_CONFIG_DIR or "
    "$PETITIONS_HOME/config).", show_default=False)]
Json = Annotated[bool, typer.Option("--json", help="JSON for scripts.")]
Format = Annotated[str, typer.Option("--format", "-f", help="table | json | csv")]
XlsxFormat = Annotated[str, typer.Option("--format", "-f",
                                         help="table | json | csv | xlsx (with --out)")]
OutFile = Annotated[Path | None, typer.Option("--out", help="Where to write the .xlsx.")]


def reports_errors(fn: F) -> F:
    """Turn domain errors into one clear line on stderr and exit code 2."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PetitionError as e:
            err.print(f"[bold red]error:[/] {e}", highlight=False, markup=True)
            raise typer.Exit(2) from None
    return wrapper  # type: ignore[return-value]


@functools.cache
def settings() -> Settings:
    """The installation's settings, read from the environment once per process."""
    return Settings.from_env()


def office_dir(config: Path | None) -> Path:
    return config or settings().office_dir


def _prefect_runs() -> Runs:
    from flows.engine import PrefectRuns  # the CLI's one door to Prefect (see above)

    return PrefectRuns(settings())


def runs() -> Runs:
    """The engine's runs (Prefect), for the commands that start or wake them."""
    return RunsOnFirstUse(_prefect_runs)


def prefect_secret(name: str) -> str | None:
    """The value of a Prefect Secret block (the SendGrid key may be kept in one)."""
    from flows.runs import read_secret  # the same door: only when a key is kept in a block

    _prefect_runs()  # points Prefect at the office's server
    return read_secret(name)


def via() -> str:
    """The channel the CLI's actions are recorded under: ``cli:<operating-system user>``
    (what the audit trail can say of who typed the command, beside ``--actor``)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no such user in this container's passwd
        return f"cli:uid{os.getuid()}"


def say(text: str) -> None:
    out.print(text, highlight=False, markup=False)


def warn(lines: Iterable[str]) -> None:
    for line in dict.fromkeys(lines):
        err.print(f"[yellow]warning:[/] {line}", highlight=False)


def note(text: str) -> None:
    err.print(f"note: {text}", highlight=False, markup=False)


def parse_day(text: str, option: str | None = None) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date; expected a date YYYY-MM-DD",
                                 param_hint=option) from None


def check_format(value: str, out_file: Path | None = None, *, xlsx: bool = False) -> str:
    """The format asked for; xlsx (where a command offers it) needs ``--out``."""
    known = ("table", "json", "csv", "xlsx") if xlsx else ("table", "json", "csv")
    if value not in known:
        raise typer.BadParameter(f"unknown format {value!r}; expected {', '.join(known)}",
                                 param_hint="--format")
    if value == "xlsx" and out_file is None:
        raise typer.BadParameter("an .xlsx is written to a file: give --out FILE.xlsx",
                                 param_hint="--out")
    return value


def write_file(path: Path, data: bytes) -> None:
    """Write an export (its folder made) and say where: readable by its owner only
    (0600, whatever the umask), as it holds petitioners' names and phones."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a file already there keeps its mode on open: narrow it too
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    say(f"wrote {path} ({max(1, len(data) // 1024)} KiB)")


def emit(rows: Any, fmt: str = "json") -> None:
    """Rows (or one object) as JSON, or rows as CSV, on stdout."""
    if fmt == "json":
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else ["empty"])
    writer.writeheader()
    writer.writerows(rows)
    sys.stdout.write(buf.getvalue())


def table(rows: Iterable[dict[str, Any]], columns: Sequence[str], title: str | None = None,
          headers: Sequence[str] | None = None) -> Table:
    """A rich table of ``columns`` of ``rows`` (None shows as empty)."""
    t = Table(title=title)
    for header in headers or columns:
        t.add_column(header)
    for r in rows:
        t.add_row(*("" if r.get(c) is None else str(r.get(c)) for c in columns))
    return t
