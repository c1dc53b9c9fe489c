"""Unit of work: one transaction, its repositories, commit or nothing.

A transition, its event and (later) the notifications it schedules are written
through the same unit of work, so they commit together or not at all. Leaving
the block without ``commit()`` rolls everything back.

The connection is private to persistence: services reach the database only
through the repositories and read models made here, never by writing SQL.
"""

from __future__ import annotations

from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ..domain.errors import StoreError
from ..domain.text import Bilingual
from .campaigns import CampaignRepository
from .circulars import CircularRepository
from .co_units import CoUnitRepository
from .db import WRITE_OPTION, Database
from .extensions import ExtensionRepository
from .instructions import InstructionRepository
from .outbox import OutboxRepository
from .read.audit_reads import AuditReader
from .records import RecordRepository
from .repository import OrgRepository, TaskRepository
from .substitutions import SubstitutionRepository
from .subtasks import SubTaskRepository
from .sweep import SweepRepository
from .web_store import WebStore
from .workspace import DefinitionRepository, SettingsRepository

if TYPE_CHECKING:  # the read models load on first use: a command that needs none does not pay for them
    from .read.inbox_page import InboxReads
    from .read.ledger_export import LedgerExportReads
    from .read.ledger_page import LedgerPageReads
    from .read.report_duties import ReportDutyReads
    from .read.report_queries import ReportReads
    from .read.score_queries import ScoreReads
    from .read.task_list import TaskReads


class UnitOfWork:
    _conn: Connection
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
        self._conn = conn
        try:
            conn.begin()
        except (DBAPIError, self.db.engine.dialect.loaded_dbapi.Error) as exc:  # BEGIN goes to the driver directly
            conn.close()
            raise _store_error(self.db, exc) from None
        self.tasks = TaskRepository(conn, self.db.dialect)
        self.org = OrgRepository(conn)
        self.outbox = OutboxRepository(conn, self.db.dialect)
        self.sweep = SweepRepository(conn, self.db.dialect)
        self.records = RecordRepository(conn, self.db.dialect)
        self.settings = SettingsRepository(conn)
        self.audit = AuditReader(conn)
        self._session: Session | None = None
        return self

    # Repositories the hot path never needs are made on first use, so a firing pays nothing for them.
    @cached_property
    def extensions(self) -> ExtensionRepository:
        return ExtensionRepository(self._conn)

    @cached_property
    def co_units(self) -> CoUnitRepository:
        return CoUnitRepository(self._conn)

    @cached_property
    def substitutions(self) -> SubstitutionRepository:
        return SubstitutionRepository(self._conn)

    @cached_property
    def campaigns(self) -> CampaignRepository:
        return CampaignRepository(self._conn)

    @cached_property
    def circulars(self) -> CircularRepository:
        return CircularRepository(self._conn)

    @cached_property
    def sub_tasks(self) -> SubTaskRepository:
        return SubTaskRepository(self._conn)

    @cached_property
    def definitions(self) -> DefinitionRepository:
        return DefinitionRepository(self._conn)

    @cached_property
    def web(self) -> WebStore:
        return WebStore(self._conn)

    @cached_property
    def instructions(self) -> InstructionRepository:
        return InstructionRepository(self._conn)

    # Read models: the queries of one page or report, each returning named rows.
    @cached_property
    def task_reads(self) -> TaskReads:
        from .read.task_list import TaskReads

        return TaskReads(self._conn, self._orm)

    @cached_property
    def inbox(self) -> InboxReads:
        from .read.inbox_page import InboxReads

        return InboxReads(self._conn)

    @cached_property
    def ledger_page(self) -> LedgerPageReads:
        from .read.ledger_page import LedgerPageReads

        return LedgerPageReads(self._conn)

    @cached_property
    def ledger_export(self) -> LedgerExportReads:
        from .read.ledger_export import LedgerExportReads

        return LedgerExportReads(self._conn)

    @cached_property
    def reports(self) -> ReportReads:
        from .read.report_queries import ReportReads

        return ReportReads(self._conn)

    @cached_property
    def scores(self) -> ScoreReads:
        from .read.score_queries import ScoreReads

        return ScoreReads(self._conn)

    @cached_property
    def report_duties(self) -> ReportDutyReads:
        from .read.report_duties import ReportDutyReads

        return ReportDutyReads(self._conn)

    def _orm(self) -> Session:
        """An ORM session on this unit's connection and transaction, for the read side."""
        if self._session is None:
            self._session = Session(bind=self._conn, autoflush=False, expire_on_commit=False)
        return self._session

    def commit(self) -> None:
        self.tasks.close()
        try:
            self._conn.commit()
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
                self._conn.rollback()
        finally:
            self._conn.close()
        # The hot path uses the DBAPI directly, so its errors arrive unwrapped.
        if isinstance(exc, (DBAPIError, self.db.engine.dialect.loaded_dbapi.Error)):
            raise _store_error(self.db, exc) from None


def _store_error(db: Database, exc: BaseException) -> StoreError:
    orig = getattr(exc, "orig", exc) or exc
    reason = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    return StoreError(
        db=db.display, detail=Bilingual(f"写入失败，未作任何更改（{reason}）", f"nothing was changed ({reason})")
    )
