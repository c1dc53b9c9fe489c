"""What the assign page needs around ``tasks.assign``: who may open it, the choices it offers, and the
deadline preview (the expression read as the engine will read it, before anything is written)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..app import App
from ..domain.errors import DubanError
from ..domain.machine import Actor
from ..domain.text import Bilingual, Lang
from ..domain.workflow import FieldSpec
from .ledger_view import PageNotPermitted
from .org import org_view
from .tasks import resolve_deadline


@dataclass(frozen=True)
class AssignChoices:
    units: list[str]
    leaders: list[tuple[str, str]]  # id, name
    workflows: list[tuple[str, Bilingual]]
    fields: list[tuple[str, Bilingual, list[FieldSpec]]]  # each workflow's own fields (帮扶户, 户数 …)
    default_workflow: str
    priorities: tuple[str, ...] = ("高", "中", "低")


@dataclass(frozen=True)
class DeadlinePreview:
    text: str
    due: date | None
    ongoing: bool
    working_days: int | None  # from today to the deadline (after it, when ``past``)
    error: str | None
    past: bool = False  # the expression names a day already gone (6月底前 read in September): say so


def _creatable(app: App, person_id: str) -> list[str]:
    with app.uow(write=False) as uow:
        me = uow.web.viewer(person_id)
    if me is None:
        return []
    actor = Actor(me.person_id, me.person_id, me.roles, me.unit_id)
    return [s.name for s in app.registry.specs if app.registry.machine(s.name).may_create(actor)]


def assign_choices(app: App, person_id: str) -> AssignChoices:
    """The form's lists, for someone whom some workflow lets create tasks; anyone else is told whom to ask."""
    names = _creatable(app, person_id)
    if not names:
        raise PageNotPermitted(role=Bilingual("有交办权限的领导", "leaders who may assign tasks"))
    org = org_view(app)
    return AssignChoices(
        units=[u.name for u in org.units],
        leaders=[(p.id, p.name) for p in org.people if "leader" in p.roles],
        workflows=[(n, app.registry.machine(n).spec.label) for n in names],
        fields=[
            (n, spec.label, list(spec.fields.values())) for n in names if (spec := app.registry.machine(n).spec).fields
        ],
        default_workflow="rectification" if "rectification" in names else names[0],
    )


def preview_deadline(app: App, text: str, campaign: str | None, workflow: str, lang: Lang) -> DeadlinePreview:
    """The expression as ``assign`` will read it: the same function, today's date, the working-day calendar."""
    text = text.strip()[:100]
    if not text:
        return DeadlinePreview(text, None, False, None, None)
    try:
        spec = app.registry.machine(workflow or "rectification").spec
        now = app.clock.now()
        found = resolve_deadline(app, spec, text, campaign or None, now)
    except DubanError as exc:
        return DeadlinePreview(text, None, False, None, exc.render(lang))
    if found is None or found.due is None:
        return DeadlinePreview(text, None, True, None, None)
    today = now.astimezone(app.tz).date()
    if found.due < today:
        return DeadlinePreview(text, found.due, False, app.calendar.working_days_between(found.due, today), None, True)
    return DeadlinePreview(text, found.due, False, app.calendar.working_days_between(today, found.due), None)
