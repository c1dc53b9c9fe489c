"""Helpers shared by the integration tests."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from duban.engine.app import App
from duban.engine.domain.machine import replay
from duban.engine.persistence.models import Event, Task
from duban.engine.persistence.uow import UnitOfWork
from duban.engine.services.tasks import NewTask, ProgressInput, assign, fire, report_progress
from tests.conftest import DEPUTY, PRINCIPAL, UNIT, UNIT_HEAD

TABLES = (
    "tasks",
    "events",
    "progress_reports",
    "evidence_files",
    "code_sequences",
    "task_co_units",
    "units",
    "people",
    "notifications",
    "workspace",
    "campaigns",
    "instructions",
)


def connection_of(uow: UnitOfWork) -> Connection:
    """The unit of work's connection, private to persistence: for a test that must look underneath (or
    break a row on purpose) within the unit's own transaction."""
    return uow._conn


def orm_session_of(uow: UnitOfWork) -> Session:
    return uow._orm()


def snapshot(app: App) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table that a command could touch, to prove a refusal changed nothing.

    A refusal is itself put on the chain (a record of kind refusal, which moves the chain head): those
    are left out, and every other record is compared.
    """
    with app.db.engine.connect() as conn:
        found = {t: sorted(map(tuple, conn.execute(text(f"SELECT * FROM {t}"))), key=repr) for t in TABLES}
        found["records"] = sorted(
            map(tuple, conn.execute(text("SELECT * FROM records WHERE kind <> 'refusal'"))), key=repr
        )
    return found


def new_task(app: App, **overrides: Any) -> str:
    fields = {
        "title": "路灯损坏",
        "unit": UNIT,
        "leader": DEPUTY,
        "deadline": date(2026, 10, 9),
        "category": "民生问题",
        "campaign": "2026年主题教育整改",
        "measures": ["排查", "维修"],
    }
    fields.update(overrides)
    return assign(app, PRINCIPAL, NewTask(**fields))


def to_submitted(app: App, code: str) -> None:
    fire(app, UNIT_HEAD, code, "start")
    report_progress(app, UNIT_HEAD, code, ProgressInput(100, "已完成"))
    fire(app, UNIT_HEAD, code, "submit")


def check_history(app: App) -> None:
    """Every task's history replays to its state, and its version counts its events."""
    with app.db.engine.connect() as conn:
        tasks = conn.execute(select(Task.id, Task.workflow, Task.state, Task.version)).all()
        for task_id, workflow, state, version in tasks:
            events = conn.execute(
                select(Event.seq, Event.trigger, Event.from_state, Event.to_state)
                .where(Event.task_id == task_id)
                .order_by(Event.seq)
            ).all()
            assert [e.seq for e in events] == list(range(1, len(events) + 1))
            assert version == len(events)
            assert replay(app.registry.spec(workflow), [(e.trigger, e.from_state, e.to_state) for e in events]) == state
