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
from typing import TYPE_CHECKING, Any

from ..domain.errors import StoreError
from ..domain.text import Bilingual
from .db import Database, _is_sqlalchemy_error
from .outbox import OutboxRepository
from .repository import TaskRepository
from .sweep import SweepRepository
from .workspace import SettingsRepository

if TYPE_CHECKING:  # these load on first use: a firing or a task page pays for none of them (nor for SQLAlchemy)
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

    from .campaigns import CampaignRepository
    from .circulars import CircularRepository
    from .co_units import CoUnitRepository
    from .extensions import ExtensionRepository
    from .instructions import InstructionRepository
    from .read.audit_reads import AuditReader
    from .read.inbox_page import InboxReads
    from .read.ledger_export import LedgerExportReads
    from .read.ledger_page import LedgerPageReads
    from .read.report_duties import ReportDutyReads
    from .read.report_queries import ReportReads
    from .read.score_queries import ScoreReads
    from .read.task_list import TaskReads
    from .read.task_page import TaskPageReads
    from .records import RecordRepository
    from .repository import OrgRepository
    from .substitutions import SubstitutionRepository
    from .subtasks import SubTaskRepository
    from .web_store import WebStore
    from .workspace import DefinitionRepository


class UnitOfWork:
    """One transaction on one driver connection of the database's pool.

    The hot path (``tasks``, ``outbox``, ``sweep``, ``settings``) runs its SQL on the driver connection;
    everything written with SQLAlchemy Core or the ORM runs on ``_conn``, a SQLAlchemy ``Connection`` on the
    same driver connection and transaction, made (and SQLAlchemy imported) only when a repository needs it.
    """

    tasks: TaskRepository

    def __init__(self, db: Database, *, write: bool) -> None:
        self.db = db
        self.write = write
        self._committed = False
        self._raw: Any = None

    def __enter__(self) -> UnitOfWork:
        db = self.db
        try:
            raw = db.checkout()
        except Exception as exc:
            if isinstance(exc, db.driver_error) or _is_sqlalchemy_error(exc):
                raise db.unreachable(exc) from None
            raise
        try:
            db.begin(raw, write=self.write)
        except db.driver_error as exc:
            db.checkin(raw, broken=True)
            raise _store_error(db, exc) from None
        self._raw = raw
        self._session: Session | None = None
        self.tasks = TaskRepository(raw, db.dialect)
        return self

    # The other driver repositories are made on first use too: a firing that notifies nobody needs none.
    @cached_property
    def outbox(self) -> OutboxRepository:
        return OutboxRepository(self._raw, self.db.dialect)

    @cached_property
    def sweep(self) -> SweepRepository:
        return SweepRepository(self._raw, self.db.dialect)

    @cached_property
    def settings(self) -> SettingsRepository:
        return SettingsRepository(self._raw, self.db.dialect)

    @cached_property
    def _conn(self) -> Connection:
        """SQLAlchemy's view of this unit's connection and transaction (for Core and the ORM)."""
        return self.db.bound(self._raw)

    # Repositories the hot path never needs are made on first use, so a firing pays nothing for them.
    @cached_property
    def org(self) -> OrgRepository:
        from .repository import OrgRepository

        return OrgRepository(self._raw, self.db.dialect, lambda: self._conn)

    @cached_property
    def records(self) -> RecordRepository:
        from .records import RecordRepository

        return RecordRepository(lambda: self._conn, self.db.dialect, self._raw)

    @cached_property
    def audit(self) -> AuditReader:
        from .read.audit_reads import AuditReader

        return AuditReader(self._conn)

    @cached_property
    def extensions(self) -> ExtensionRepository:
        from .extensions import ExtensionRepository

        return ExtensionRepository(self._conn)

    @cached_property
    def co_units(self) -> CoUnitRepository:
        from .co_units import CoUnitRepository

        return CoUnitRepository(lambda: self._conn, self.db.dialect, self._raw)

    @cached_property
    def substitutions(self) -> SubstitutionRepository:
        from .substitutions import SubstitutionRepository

        return SubstitutionRepository(self._conn)

    @cached_property
    def campaigns(self) -> CampaignRepository:
        from .campaigns import CampaignRepository

        return CampaignRepository(self._conn)

    @cached_property
    def circulars(self) -> CircularRepository:
        from .circulars import CircularRepository

        return CircularRepository(self._conn)

    @cached_property
    def sub_tasks(self) -> SubTaskRepository:
        from .subtasks import SubTaskRepository

        return SubTaskRepository(self._conn)

    @cached_property
    def definitions(self) -> DefinitionRepository:
        from .workspace import DefinitionRepository

        return DefinitionRepository(self._raw, self.db.dialect, lambda: self._conn)

    @cached_property
    def web(self) -> WebStore:
        from .web_store import WebStore

        return WebStore(self._conn)

    @cached_property
    def instructions(self) -> InstructionRepository:
        from .instructions import InstructionRepository

        return InstructionRepository(self._conn)

    # Read models: the queries of one page or report, each returning named rows.
    @cached_property
    def task_page(self) -> TaskPageReads:
        """The task page's queries, on the driver connection (no SQLAlchemy)."""
        from .read.task_page import TaskPageReads

        return TaskPageReads(self._raw, self.db.dialect)

    @cached_property
    def task_reads(self) -> TaskReads:
        from .read.task_list import TaskReads

        return TaskReads(self._conn, self._orm)

    @cached_property
    def inbox(self) -> InboxReads:
        from .read.inbox_page import InboxReads

        return InboxReads(self._raw, self.db.dialect)

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
            from sqlalchemy.orm import Session

            self._session = Session(bind=self._conn, autoflush=False, expire_on_commit=False)
        return self._session

    def commit(self) -> None:
        self.tasks.close()
        try:
            self._raw.commit()
        except Exception as exc:
            if isinstance(exc, self.db.driver_error):
                raise _store_error(self.db, exc) from None
            raise
        self._committed = True

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        raw, db = self._raw, self.db
        broken = False
        try:
            self.tasks.close()
            if self._session is not None:
                self._session.close()
            if not self._committed:
                raw.rollback()
            if "_conn" in self.__dict__:
                broken = not db.release_bound(raw)
        except Exception:
            broken = True
            raise
        finally:
            db.checkin(raw, broken=broken)
        # The hot path uses the DBAPI directly, so its errors arrive unwrapped.
        if exc is not None and (isinstance(exc, db.driver_error) or _is_sqlalchemy_error(exc)):
            raise _store_error(db, exc) from None


def _store_error(db: Database, exc: BaseException) -> StoreError:
    orig = getattr(exc, "orig", exc) or exc
    reason = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    return StoreError(
        db=db.display, detail=Bilingual(f"写入失败，未作任何更改（{reason}）", f"nothing was changed ({reason})")
    )
