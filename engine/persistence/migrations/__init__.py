"""Alembic migrations; run by ``duban init`` (see engine/persistence/migrate.py)."""
