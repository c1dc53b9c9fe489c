"""Persistence behind a repository / unit-of-work seam (SQLite by default, PostgreSQL at scale)."""
