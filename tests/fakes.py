"""A unit of work held in memory, so the services' rules are tested in milliseconds.

As in *Architecture Patterns with Python* (chapter 6): the services only talk to a unit of work and its
repositories, so handing them a fake one tests permissions, guards, the optimistic lock, notifications and
refusals without a database. The real repositories' promises (SQL, locks, triggers, the chain in the
database) are proven by the integration tests on SQLite and PostgreSQL; these fakes only keep the shapes.

A fake unit of work works on a copy of the store and swaps it in on ``commit()``: leaving the block without
committing loses everything, exactly as a rolled-back transaction does.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from duban.engine.app import App
from duban.engine.config.account import Account
from duban.engine.config.settings import Settings
from duban.engine.domain.audit import GENESIS, EventFacts, RecordFacts, record_hash
from duban.engine.domain.calendar import WorkCalendar
from duban.engine.domain.clock import Clock, zone
from duban.engine.domain.co_units import Part
from duban.engine.domain.machine import Actor, TaskFacts
from duban.engine.domain.org import OrgDoc
from duban.engine.domain.planning import DeadlineClock
from duban.engine.domain.registry import WorkflowRegistry
from duban.engine.persistence.evidence import EvidenceStore
from duban.engine.persistence.extensions import ExtensionView, PendingDecision, TaskForExtension
from duban.engine.persistence.outbox import About, OutgoingNotice
from duban.engine.persistence.repository import NewTaskRow, TaskRow


@dataclass
class Person:
    id: str
    name: str
    unit_id: int | None
    roles: list[str]
    accounts: list[str] = field(default_factory=list)
    email: str | None = None
    phone: str | None = None
    wecom: str | None = None
    dingtalk: str | None = None
    channels: list[str] | None = None
    digest: str | None = None  # daily, none; None: as the unit says
    notify: str | None = None  # digest, each


@dataclass
class Unit:
    id: int
    name: str
    parent_id: int | None = None
    head_id: str | None = None
    channels: list[str] | None = None
    aliases: list[str] | None = None
    digest: str | None = None


@dataclass
class StoredTask:
    id: int
    row: NewTaskRow
    state: str
    version: int
    clock: DeadlineClock
    head_hash: str
    co_unit_ids: list[int] = field(default_factory=list)
    co_parts: dict[int, Part] = field(default_factory=dict)  # 牵头/配合: each co-unit's part, by unit id


@dataclass
class Data:
    """Everything the fake database holds; a unit of work copies it and commits by swapping it in."""

    people: dict[str, Person] = field(default_factory=dict)
    units: dict[int, Unit] = field(default_factory=dict)
    tasks: dict[int, StoredTask] = field(default_factory=dict)
    events: list[tuple[int, EventFacts, str]] = field(default_factory=list)
    progress: list[dict[str, Any]] = field(default_factory=list)
    evidence: list[tuple[int, str, int, str]] = field(default_factory=list)
    notifications: dict[str, OutgoingNotice] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)
    records: list[tuple[RecordFacts, str]] = field(default_factory=list)
    extension_withdrawals: list[int] = field(default_factory=list)
    extensions: dict[int, dict[str, Any]] = field(default_factory=dict)
    commits: int = 0


class FakeTasks:
    def __init__(self, data: Data) -> None:
        self.data = data

    def _actor(self, person_id: str) -> Actor | None:
        p = self.data.people.get(person_id)
        return None if p is None else Actor(p.id, p.name, frozenset(p.roles), p.unit_id)

    def actor(self, person_id: str) -> Actor | None:
        return self._actor(person_id)

    def for_firing(self, code: str, actor_id: str) -> tuple[TaskRow, Actor | None] | None:
        task = next((t for t in self.data.tasks.values() if t.row.code == code), None)
        if task is None:
            return None
        row = task.row
        facts = TaskFacts(
            code=row.code,
            state=task.state,
            unit_id=row.unit_id,
            unit_head_id=self.data.units[row.unit_id].head_id,
            lead_leader_id=row.lead_leader_id,
            responsible_person_id=row.responsible_person_id,
        )
        found = TaskRow(
            id=task.id,
            code=row.code,
            workflow=row.workflow,
            version=task.version,
            facts=facts,
            clock=task.clock,
            head_hash=task.head_hash or GENESIS,
            content_hash=row.content_hash or "",
            original_deadline=row.deadline,
        )
        return found, self._actor(actor_id)

    def has_progress_report(self, task_id: int) -> bool:
        return any(p["task_id"] == task_id for p in self.data.progress)

    def advance(
        self,
        task_id: int,
        expected_version: int,
        state: str,
        at: datetime,
        clock: DeadlineClock,
        head_hash: str,
        *,
        before: DeadlineClock | None = None,  # the columns left unwritten were unchanged: the same row either way
        from_state: str | None = None,
    ) -> bool:
        task = self.data.tasks[task_id]
        if task.version != expected_version:
            return False
        task.state, task.version, task.clock, task.head_hash = state, expected_version + 1, clock, head_hash
        return True

    def current_version(self, task_id: int) -> int:
        return self.data.tasks[task_id].version

    def append_event(self, task_id: int, event: EventFacts, event_hash: str) -> None:
        if any(t == task_id and e.seq == event.seq for t, e, _h in self.data.events):
            raise AssertionError(f"event {event.seq} of task {task_id} written twice")  # the unique key
        self.data.events.append((task_id, event, event_hash))

    def add_progress(self, task_id: int, seq: int, percent: int, note: str, actor_id: str, at: datetime) -> int:
        self.data.progress.append({"task_id": task_id, "seq": seq, "percent": percent, "note": note, "by": actor_id})
        return len(self.data.progress)

    def add_evidence(self, report_id: int, sha256: str, size: int, original_name: str) -> None:
        self.data.evidence.append((report_id, sha256, size, original_name))

    def next_code_number(self, prefix: str, year: int) -> int:
        return 1 + sum(1 for t in self.data.tasks.values() if t.row.code.startswith(f"{prefix}-{year}-"))

    def insert(self, task: NewTaskRow) -> int:
        task_id = len(self.data.tasks) + 1
        clock = replace(DeadlineClock.started(deadline=task.deadline, at=task.at), next_action_at=task.next_action_at)
        self.data.tasks[task_id] = StoredTask(task_id, task, task.state, 1, clock, task.head_hash or GENESIS)
        return task_id

    def add_co_units(self, task_id: int, unit_ids: list[int]) -> None:
        self.data.tasks[task_id].co_unit_ids.extend(unit_ids)

    def parts(self, task_id: int, tz: Any) -> list[Part]:
        """牵头/配合: the parts kept on the stored task (``FakeCoUnits`` moves them), by co-unit name."""
        return sorted(FakeCoUnits(self.data)._parts(task_id).values(), key=lambda p: p.unit)

    def withdraw_extension_requests(self, task_id: int, at: datetime) -> None:
        self.data.extension_withdrawals.append(task_id)
        for request in self.data.extensions.values():
            if request["task_id"] == task_id and request["status"] == "pending":
                request["status"] = "withdrawn"

    def close(self) -> None:
        pass


class FakeCoUnits:
    """Co-units' parts (牵头/配合) kept on the stored task."""

    def __init__(self, data: Data) -> None:
        self.data = data

    def _parts(self, task_id: int) -> dict[int, Part]:
        task = self.data.tasks[task_id]
        for uid in task.co_unit_ids:
            unit = self.data.units.get(uid)
            task.co_parts.setdefault(uid, Part(uid, unit.name if unit else str(uid)))
        return task.co_parts

    def set_days(self, task_id: int, unit_id: int, sign_by: date | None, report_by: date | None) -> None:
        parts = self._parts(task_id)
        parts[unit_id] = replace(parts[unit_id], sign_by=sign_by, report_by=report_by)

    def move(self, task_id: int, unit_id: int, state: str, at: datetime) -> None:
        parts = self._parts(task_id)
        day = at.date()
        part = parts[unit_id]
        if state == "signed":
            parts[unit_id] = replace(part, state=state, signed_on=day)
        else:
            parts[unit_id] = replace(part, state=state, signed_on=part.signed_on or day, settled_on=day)


class FakeExtensions:
    def __init__(self, data: Data) -> None:
        self.data = data

    def lock_task(self, code: str) -> TaskForExtension | None:
        t = next((t for t in self.data.tasks.values() if t.row.code == code), None)
        return None if t is None else TaskForExtension(t.id, t.clock.deadline, t.row.workflow, t.row.campaign)

    def pending_for(self, task_id: int) -> int | None:
        return next(
            (i for i, r in self.data.extensions.items() if r["task_id"] == task_id and r["status"] == "pending"), None
        )

    def add(self, **values: Any) -> int:
        request_id = len(self.data.extensions) + 1
        self.data.extensions[request_id] = {**values, "status": "pending", "decided_by": None, "decided_at": None}
        self.data.extensions[request_id]["comment"] = None
        return request_id

    def for_decision(self, request_id: int) -> PendingDecision | None:
        r = self.data.extensions.get(request_id)
        if r is None:
            return None
        task = self.data.tasks[r["task_id"]]
        return PendingDecision(r["status"], r["requested_deadline"], task.row.code, task.clock.deadline)

    def decide(self, request_id: int, *, status: str, by: str, at: datetime, comment: str | None) -> bool:
        r = self.data.extensions[request_id]
        if r["status"] != "pending":
            return False
        r.update(status=status, decided_by=by, decided_at=at, comment=comment)
        return True

    def views(self, *, status: str | None, code: str | None, request_id: int | None) -> list[ExtensionView]:
        out = []
        for i, r in sorted(self.data.extensions.items()):
            task = self.data.tasks[r["task_id"]]
            if (status and r["status"] != status) or (code and task.row.code != code) or (request_id not in (None, i)):
                continue
            out.append(
                ExtensionView(
                    i,
                    task.row.code,
                    task.row.title,
                    r["requested_by"],
                    r["requested_at"],
                    r["current_deadline"],
                    r["requested_deadline"],
                    r["reason"],
                    r["status"],
                    r["decided_by"],
                    r["decided_at"],
                    r["comment"],
                )
            )
        return out


class FakeOrg:
    def __init__(self, data: Data) -> None:
        self.data = data

    def unit_ids(self) -> dict[str, int]:
        return {u.name: u.id for u in self.data.units.values()}

    def unit_aliases(self) -> dict[str, str]:
        return {a: u.name for u in self.data.units.values() for a in (u.aliases or ())}

    def people(self) -> dict[str, tuple[str, int | None, list[str]]]:
        return {p.id: (p.name, p.unit_id, list(p.roles)) for p in self.data.people.values()}

    def version(self) -> tuple[int, int]:
        return len(self.data.people), len(self.data.units)

    def contacts(self) -> tuple[list[Any], list[Any]]:
        return list(self.data.people.values()), list(self.data.units.values())

    def account_owners(self) -> dict[str, tuple[str, frozenset[str]]]:
        return {a: (p.id, frozenset(p.roles)) for p in self.data.people.values() for a in p.accounts}

    def apply(self, doc: OrgDoc) -> Any:  # pragma: no cover - organisation files are tested on a real database
        raise NotImplementedError


class FakeOutbox:
    def __init__(self, data: Data) -> None:
        self.data = data

    def about(self, task_id: int) -> About:
        t = self.data.tasks[task_id]
        r = t.row
        return About(
            t.id, r.code, r.title, r.workflow, t.state, r.unit_id, r.lead_leader_id, r.responsible_person_id, r.deadline
        )

    def substitutes_on(self, day: date) -> list[Any]:
        return []

    def add(self, notice: OutgoingNotice, now: datetime) -> bool:
        if notice.dedup_key in self.data.notifications:
            return False
        self.data.notifications[notice.dedup_key] = notice
        return True

    def add_many(self, notices: list[OutgoingNotice], now: datetime) -> int:
        return sum(self.add(n, now) for n in notices)


class FakeSettings:
    def __init__(self, data: Data) -> None:
        self.data = data

    def get(self, key: str) -> str | None:
        return self.data.settings.get(key)

    def put(self, key: str, value: str) -> None:
        self.data.settings[key] = value

    def session_role(self) -> str:  # pragma: no cover - only asked on PostgreSQL
        raise AssertionError("the fake store is not PostgreSQL")


class FakeRecords:
    def __init__(self, data: Data) -> None:
        self.data = data

    def append(self, facts: RecordFacts) -> None:
        self.data.records.append((facts, record_hash(facts)))

    def last_bodies(self, kind: str, subjects: Any) -> dict[str, dict[str, Any] | None]:
        out: dict[str, dict[str, Any] | None] = {str(s): None for s in subjects}
        for facts, _h in self.data.records:
            if facts.kind == kind and facts.subject in out:
                out[facts.subject] = facts.body
        return out


class FakeSubTasks:
    """分解: the fakes never split a task (tests/integration/test_splitting.py runs the real store)."""

    def parent_of(self, task_id: int) -> None:
        return None

    def parent_of_code(self, code: str) -> None:
        return None

    def children_states(self, task_id: int) -> list[tuple[str, str, str]]:
        return []


class FakeUnitOfWork:
    """Works on a copy of the store; ``commit()`` swaps it in, leaving without it keeps the store as it was."""

    def __init__(self, store: FakeStore, *, write: bool) -> None:
        self.store = store
        self.write = write
        self.committed = False

    def __enter__(self) -> FakeUnitOfWork:
        self.data = copy.deepcopy(self.store.data)
        self.tasks = FakeTasks(self.data)
        self.org = FakeOrg(self.data)
        self.outbox = FakeOutbox(self.data)
        self.settings = FakeSettings(self.data)
        self.records = FakeRecords(self.data)
        self.extensions = FakeExtensions(self.data)
        self.co_units = FakeCoUnits(self.data)
        self.sub_tasks = FakeSubTasks()
        return self

    def commit(self) -> None:
        if not self.write:
            raise AssertionError("a read-only unit of work committed")
        self.data.commits += 1
        self.store.data = self.data
        self.committed = True

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        pass


@dataclass
class FakeDatabase:
    dialect: str = "sqlite"
    display: str = "memory"
    path: Path | None = None


class FakeStore:
    def __init__(self) -> None:
        self.data = Data()

    def add_unit(self, name: str, *, head: str | None = None, parent_id: int | None = None) -> int:
        unit_id = len(self.data.units) + 1
        self.data.units[unit_id] = Unit(unit_id, name, parent_id, head)
        return unit_id

    def add_person(self, pid: str, name: str, unit_id: int | None, roles: list[str], *, account: str = "") -> None:
        self.data.people[pid] = Person(pid, name, unit_id, roles, [account] if account else [])

    @property
    def notices(self) -> list[OutgoingNotice]:
        return list(self.data.notifications.values())

    def task(self, code: str) -> StoredTask:
        return next(t for t in self.data.tasks.values() if t.row.code == code)

    def events_of(self, code: str) -> list[EventFacts]:
        task_id = self.task(code).id
        return [e for t, e, _h in self.data.events if t == task_id]


class FakeApp(App):
    """The real composition root with the database swapped for a store in memory."""

    store: FakeStore

    def uow(self, *, write: bool = True) -> FakeUnitOfWork:  # type: ignore[override]
        return FakeUnitOfWork(self.store, write=write)


def fake_app(clock: Clock, tmp: Path, *, account: str = "fake-operator") -> FakeApp:
    settings = Settings(database_url="sqlite:///:memory:", evidence_dir=tmp / "evidence")
    app = FakeApp(
        settings=settings,
        db=FakeDatabase(),  # type: ignore[arg-type]
        registry=WorkflowRegistry.from_dirs(list(settings.workflow_dirs)),
        clock=clock,
        tz=zone(settings.timezone),
        evidence=EvidenceStore(tmp / "evidence"),
        calendar=WorkCalendar(),
        account=Account("os", account),
    )
    app.store = FakeStore()
    return app


def content_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


__all__ = ["FakeApp", "FakeStore", "FakeUnitOfWork", "fake_app", "date", "replace"]
