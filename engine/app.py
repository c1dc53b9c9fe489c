"""The composition root: settings in, a wired application out.

Everything a service needs (database, workflow registry, clock, zone,
evidence store) is built here once and handed down; nothing below reads the
environment or the wall clock on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from .config.account import Account, os_account
from .config.settings import Settings
from .domain.calendar import WorkCalendar, load_overrides
from .domain.clock import Clock, FixedClock, SystemClock, parse_instant, zone
from .domain.registry import WorkflowRegistry
from .persistence.db import Database
from .persistence.evidence import EvidenceStore
from .persistence.uow import UnitOfWork


@dataclass
class App:
    settings: Settings
    db: Database
    registry: WorkflowRegistry
    clock: Clock
    tz: ZoneInfo
    evidence: EvidenceStore
    calendar: WorkCalendar
    account: Account = field(default_factory=os_account)  # who runs this process (the real uid)
    identity_cache: dict[str, object] = field(default_factory=dict)  # the operator and single-desk flag, once
    org_cache: tuple[object, object] | None = None  # (version, the organisation as last read): services/notify.py
    fixed_clock: bool = False  # the clock was fixed by a setting (DUBAN_NOW): refused where it could backdate

    @classmethod
    def build(cls, settings: Settings, clock: Clock | None = None) -> App:
        tz = zone(settings.timezone)
        fixed = clock is None and bool(settings.now)
        if clock is None:
            clock = FixedClock(parse_instant(settings.now, tz)) if settings.now else SystemClock()
        db = Database(settings.database_url)
        return cls(
            fixed_clock=fixed,
            settings=settings,
            db=db,
            registry=WorkflowRegistry.from_dirs(list(settings.workflow_dirs)),
            clock=clock,
            tz=tz,
            evidence=EvidenceStore(settings.evidence_dir or _evidence_beside(db)),
            calendar=load_overrides(settings.calendar_overrides) if settings.calendar_overrides else WorkCalendar(),
        )

    def uow(self, *, write: bool = True) -> UnitOfWork:
        return UnitOfWork(self.db, write=write)

    def close(self) -> None:
        self.db.dispose()


def _evidence_beside(db: Database) -> Path:
    if db.path is not None:
        return db.path.parent / f"{db.path.stem}-evidence"
    return Path("duban-evidence")
