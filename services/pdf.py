"""PDF from HTML (the printed notices) through WeasyPrint, loaded once, and only when a notice
is printed: its system libraries are optional for everything else the engine does.

WeasyPrint needs Pango (Debian: ``libpango-1.0-0``, ``libpangoft2-1.0-0``); without it
nothing can be printed and ``unavailable`` says why, in one line. HarfBuzz's subset library
(``libharfbuzz-subset0``) it only warns about today (a ``DeprecationWarning`` at import: it
then embeds fonts whole, so a notice's PDF is larger); the warning is kept as ``note`` rather
than let through, where warnings are errors (the test suite) it would stop every import.
"""

from __future__ import annotations

import contextlib
import functools
import io
import threading
import warnings
from dataclasses import dataclass
from typing import Any

from domain.errors import ConfigError

PANGO = "libpango-1.0-0 and libpangoft2-1.0-0"
SUBSET = "libharfbuzz-subset0"


@dataclass(frozen=True)
class _Loaded:
    html: Any  # weasyprint.HTML, or None when it cannot load
    missing: str | None
    note: str | None


_LOADING = threading.Lock()  # the warning filters and stdout are the process's own


@functools.cache
def _load() -> _Loaded:
    with _LOADING:
        return _import()


def _import() -> _Loaded:
    # Its warning is recorded, not raised; its banner on a missing library (a print to
    # stdout) is kept off the command's output: the one-line reason says it.
    with warnings.catch_warnings(record=True) as caught, \
            contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("always")
        try:
            from weasyprint import HTML
        except OSError as e:  # a system library it needs is missing
            first = str(e).splitlines()[0] if str(e) else type(e).__name__
            return _Loaded(None, f"WeasyPrint cannot load Pango here ({first}); install "
                           f"{PANGO} (Debian)", None)
    notes = [str(w.message) for w in caught if "HarfBuzz-Subset" in str(w.message)]
    note = (f"HarfBuzz's subset library is missing: fonts are embedded whole (install "
            f"{SUBSET})") if notes else None
    return _Loaded(HTML, None, note)


def unavailable() -> str | None:
    """Why PDFs cannot be rendered here, or None when they can."""
    return _load().missing


def note() -> str | None:
    """What an administrator might fix, though PDFs render (a library WeasyPrint wants)."""
    return _load().note


def html_to_pdf(html: str) -> bytes:
    """``html`` as PDF bytes; a ``ConfigError`` saying what to install when it cannot."""
    loaded = _load()
    if loaded.html is None:
        raise ConfigError(str(loaded.missing), source="weasyprint")
    pdf = loaded.html(string=html).write_pdf()
    assert pdf is not None
    return bytes(pdf)
