"""Reading through the visibility rule: a task, or an evidence file, only for someone who may see it.

What a person may not see is reported exactly like what does not exist
(``UnknownTask``), so a unit cannot learn another unit's task titles or codes
by trying them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..app import App
from ..domain.errors import NotFound, UnknownPerson, UnknownTask
from ..domain.text import Bilingual
from ..domain.visibility import Viewer, may_see
from ..persistence.web_store import PendingExtension
from .queries import LIST_PAGE, ListPage, TaskDetail, TaskFilter, TaskSummary, list_page, list_tasks, show_task

SHA256 = re.compile(r"[0-9a-f]{64}")


class UnknownEvidence(NotFound):
    zh = "没有这个佐证材料"
    en = "no such evidence file"


@dataclass(frozen=True, slots=True)
class EvidenceDownload:
    path: Path
    name: str
    size: int


def viewer(app: App, person_id: str) -> Viewer:
    with app.uow(write=False) as uow:
        found = uow.web.viewer(person_id)
    if found is None:
        raise UnknownPerson(person=person_id, near="")
    return found


def may_see_task(app: App, person_id: str, code: str) -> bool:
    with app.uow(write=False) as uow:
        store = uow.web
        me = store.viewer(person_id)
        place = store.task_place(code)
    return me is not None and place is not None and may_see(me, place)


def visible_task(app: App, person_id: str, code: str) -> TaskDetail:
    """The task page's data, with what this person may do now; an invisible task does not exist."""
    if not may_see_task(app, person_id, code):
        from .substitutes import may_see_standing_in  # 代理: a substitute sees the absent person's tasks

        if not may_see_standing_in(app, person_id, code):
            raise UnknownTask(code=code)
    return show_task(app, code, viewer=person_id)


def visible_tasks(app: App, person_id: str, flt: TaskFilter | None = None) -> list[TaskSummary]:
    from dataclasses import replace

    return list_tasks(app, replace(flt or TaskFilter(), visible_to=person_id))


def visible_page(
    app: App, person_id: str, flt: TaskFilter | None = None, *, limit: int = LIST_PAGE, after: str | None = None
) -> ListPage:
    """A bounded page of what the person may see, in code order after ``after``: the API's list."""
    from dataclasses import replace

    return list_page(app, replace(flt or TaskFilter(), visible_to=person_id), limit=limit, after=after)


def evidence(app: App, person_id: str, sha256: str) -> EvidenceDownload:
    """An evidence file by its digest, for someone who may see a task that holds it.

    Only a lowercase hex SHA-256 reaches the store, so no path can be smuggled in.
    """
    if not SHA256.fullmatch(sha256):
        raise UnknownEvidence()
    with app.uow(write=False) as uow:
        store = uow.web
        me = store.viewer(person_id)
        places = store.evidence_places(sha256)
    names = [name for _code, place, name in places if me is not None and may_see(me, place)]
    path = app.evidence.path_of(sha256)
    if not names or not path.is_file():
        raise UnknownEvidence()
    return EvidenceDownload(path, names[0], path.stat().st_size)


@dataclass(frozen=True)
class TaskPage:
    detail: TaskDetail
    pending_extension: PendingExtension | None  # the request a leader decides on this page
    step_labels: dict[str, Bilingual]  # each allowed trigger's label, in both languages
    standing_in: list[Any] = field(default_factory=list)  # 代理: StandInSteps for those the viewer stands in for


def task_page(app: App, person_id: str, code: str) -> TaskPage:
    """Everything the task page shows, for someone who may see the task."""
    detail = visible_task(app, person_id, code)
    pending = None
    if {"grant_extension", "deny_extension"} & set(detail.allowed):
        with app.uow(write=False) as uow:
            pending = next(iter(uow.web.pending_extensions(None, limit=1, code=code)), None)
    spec = app.registry.find(detail.summary.workflow)
    labels = {t: spec.trigger_label(t) if spec else Bilingual(t, t) for t in detail.allowed}
    from .substitutes import steps_standing_in

    return TaskPage(detail, pending, labels, steps_standing_in(app, person_id, code))
