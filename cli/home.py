"""The app the commands that read or write cases work on: the office's configuration, the
configured clock and the database (its schema untouched; writers call
``services.schema.migrated``)."""

from __future__ import annotations

from cli.common import settings
from services.bootstrap import App, bootstrap


def app() -> App:
    return bootstrap(settings())
