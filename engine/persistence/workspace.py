"""The workspace's own settings (single-desk, fixed clock allowed) and what the database says of the session."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select, text

from .models import WorkspaceSetting


class SettingsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, key: str) -> str | None:
        return self.conn.execute(select(WorkspaceSetting.value).where(WorkspaceSetting.key == key)).scalar()

    def put(self, key: str, value: str) -> None:
        self.conn.execute(delete(WorkspaceSetting).where(WorkspaceSetting.key == key))
        self.conn.execute(insert(WorkspaceSetting).values(key=key, value=value))

    def session_role(self) -> str:
        """The login role: unlike current_user it does not change with SET ROLE, and the database stamps it."""
        return str(self.conn.execute(text("SELECT session_user")).scalar())
