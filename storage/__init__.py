"""Storage (SQLAlchemy mapping, repositories, unit of work, migrations). Built with the
Storage issue."""
