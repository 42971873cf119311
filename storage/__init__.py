"""Storage: SQLAlchemy tables and migrations, the case codec, the unit of work, the
hash-chained audit trail and the claim of due rungs. Imports domain, sqlalchemy, alembic."""
