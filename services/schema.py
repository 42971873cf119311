"""The database schema brought up to date: what a writing command does first on the
embedded default (production runs ``petitions db upgrade``). One query when it is current;
Alembic is loaded only when it is behind."""

from __future__ import annotations

from services.bootstrap import App
from storage.schema import upgrade_if_behind


def migrated(app: App) -> App:
    """``app``, its database at the newest schema."""
    if app.engine is not None:
        upgrade_if_behind(app.engine)
    return app
