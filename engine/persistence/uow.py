"""Unit of work: one transaction, its repositories, commit or nothing.

A transition, its event and (later) the notifications it schedules are written
through the same unit of work, so they commit together or not at all. Leaving
the block without ``commit()`` rolls everything back.
"""

from __future__ import annotations

from functools import cached_property
from types import TracebackType

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ..domain.errors import StoreError
from ..domain.text import Bilingual
from .audit_reads import AuditReader
from .campaigns import CampaignRepository
from .circulars import CircularRepository
from .db import WRITE_OPTION, Database
from .extensions import ExtensionRepository
from .outbox import OutboxRepository
from .records import RecordRepository
from .repository import OrgRepository, TaskRepository
from .subtasks import SubTaskRepository
from .workspace import DefinitionRepository, SettingsRepository


class UnitOfWork:
    conn: Connection
    tasks: TaskRepository
    org: OrgRepository
    outbox: OutboxRepository
    records: RecordRepository
    audit: AuditReader
    settings: SettingsRepository

    def __init__(self, db: Database, *, write: bool) -> None:
        self.db = db
        self.write = write
        self._committed = False

    def __enter__(self) -> UnitOfWork:
        try:
            conn = self.db.engine.connect()
        except DBAPIError as exc:
            raise self.db.unreachable(exc) from None
        if self.write:
            conn = conn.execution_options(**{WRITE_OPTION: True})
        self.conn = conn
        try:
            conn.begin()
        except (DBAPIError, self.db.engine.dialect.loaded_dbapi.Error) as exc:  # BEGIN goes to the driver directly
            conn.close()
            raise _store_error(self.db, exc) from None
        self.tasks = TaskRepository(conn, self.db.dialect)
        self.org = OrgRepository(conn)
        self.outbox = OutboxRepository(conn, self.db.dialect)
        self.records = RecordRepository(conn, self.db.dialect)
        self.settings = SettingsRepository(conn)
        self.audit = AuditReader(conn)
        self._session: Session | None = None
        return self

    # Repositories the hot path never needs are made on first use, so a firing pays nothing for them.
    @cached_property
    def extensions(self) -> ExtensionRepository:
        return ExtensionRepository(self.conn)

    @cached_property
    def campaigns(self) -> CampaignRepository:
        return CampaignRepository(self.conn)

    @cached_property
    def circulars(self) -> CircularRepository:
        return CircularRepository(self.conn)

    @cached_property
    def sub_tasks(self) -> SubTaskRepository:
        return SubTaskRepository(self.conn)

    @cached_property
    def definitions(self) -> DefinitionRepository:
        return DefinitionRepository(self.conn)

    @property
    def session(self) -> Session:
        """An ORM session on this unit's connection and transaction, for the read side."""
        if self._session is None:
            self._session = Session(bind=self.conn, autoflush=False, expire_on_commit=False)
        return self._session

    def commit(self) -> None:
        self.tasks.close()
        try:
            self.conn.commit()
        except DBAPIError as exc:
            raise _store_error(self.db, exc) from None
        self._committed = True

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self.tasks.close()
            if self._session is not None:
                self._session.close()
            if not self._committed:
                self.conn.rollback()
        finally:
            self.conn.close()
        # The hot path uses the DBAPI directly, so its errors arrive unwrapped.
        if isinstance(exc, (DBAPIError, self.db.engine.dialect.loaded_dbapi.Error)):
            raise _store_error(self.db, exc) from None


def _store_error(db: Database, exc: BaseException) -> StoreError:
    orig = getattr(exc, "orig", exc) or exc
    reason = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    return StoreError(
        db=db.display, detail=Bilingual(f"写入失败，未作任何更改（{reason}）", f"nothing was changed ({reason})")
    )
