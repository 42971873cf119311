"""The database schema brought up to date (Alembic): what a writing command does first on
the embedded default; production runs ``petitions db upgrade``. Its own module so that
reading commands never load Alembic."""

from __future__ import annotations

from services.bootstrap import App
from storage.migrate import upgrade


def migrated(app: App) -> App:
    """``app``, its database upgraded to the newest schema."""
    if app.engine is not None:
        upgrade(app.engine)
    return app
