"""The workspace's own settings (single-desk, fixed clock allowed) and what the database says of the session."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .sql import DriverStatements

if TYPE_CHECKING:
    from sqlalchemy import Connection


class SettingsRepository(DriverStatements):
    """Read on every command (who operates, single desk): on the driver connection, no SQLAlchemy."""

    def _one(self, statement: str, params: dict[str, Any]) -> Any:
        cur = self._run(statement, params)
        row = cur.fetchone()
        cur.close()
        return None if row is None else row[0]

    def get(self, key: str) -> str | None:
        return self._one("SELECT value FROM workspace WHERE key = :key", {"key": key})

    def put(self, key: str, value: str) -> None:
        self._run("DELETE FROM workspace WHERE key = :key", {"key": key}).close()
        self._run("INSERT INTO workspace (key, value) VALUES (:key, :value)", {"key": key, "value": value}).close()

    def session_role(self) -> str:
        """The login role: unlike current_user it does not change with SET ROLE, and the database stamps it."""
        return str(self._one("SELECT session_user", {}))


class DefinitionRepository(DriverStatements):
    """Which workflow definition versions this workspace has seen, and the states its tasks are in.

    Read on every command (``check_definitions``): on the driver; a new version is registered with Core.
    """

    def __init__(self, conn: Any, dialect: str, core: Callable[[], Connection]) -> None:
        super().__init__(conn, dialect)
        self._core = core

    def seen(self) -> set[tuple[str, str]]:
        cur = self._run("SELECT name, version FROM workflow_versions", {})
        found = {(n, v) for n, v in cur.fetchall()}
        cur.close()
        return found

    def state_counts(self, workflow: str) -> list[tuple[str, int]]:
        cur = self._run("SELECT state, COUNT(*) FROM tasks WHERE workflow = :w GROUP BY state", {"w": workflow})
        rows = [(state, int(count)) for state, count in cur.fetchall()]
        cur.close()
        return rows

    def register(self, name: str, version: str, at: datetime) -> None:
        """INSERT … ON CONFLICT DO NOTHING: two commands registering the same version at once both succeed."""
        from .models import WorkflowVersion

        core = self._core()
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            core.execute(
                pg_insert(WorkflowVersion).on_conflict_do_nothing().values(name=name, version=version, registered_at=at)
            )
            return
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        core.execute(
            sqlite_insert(WorkflowVersion).on_conflict_do_nothing().values(name=name, version=version, registered_at=at)
        )
