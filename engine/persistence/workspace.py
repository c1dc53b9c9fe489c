"""The workspace's own settings (single-desk, fixed clock allowed) and what the database says of the session."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select, text

from .models import Task, WorkflowVersion, WorkspaceSetting


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


class DefinitionRepository:
    """Which workflow definition versions this workspace has seen, and the states its tasks are in."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def seen(self) -> set[tuple[str, str]]:
        return {(n, v) for n, v in self.conn.execute(select(WorkflowVersion.name, WorkflowVersion.version))}

    def state_counts(self, workflow: str) -> list[tuple[str, int]]:
        rows = self.conn.execute(select(Task.state, func.count()).where(Task.workflow == workflow).group_by(Task.state))
        return [(state, int(count)) for state, count in rows]

    def register(self, name: str, version: str, at: datetime) -> None:
        """INSERT … ON CONFLICT DO NOTHING: two commands registering the same version at once both succeed."""
        if self.conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            self.conn.execute(
                pg_insert(WorkflowVersion).on_conflict_do_nothing().values(name=name, version=version, registered_at=at)
            )
            return
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        self.conn.execute(
            sqlite_insert(WorkflowVersion).on_conflict_do_nothing().values(name=name, version=version, registered_at=at)
        )
