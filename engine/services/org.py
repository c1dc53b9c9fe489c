"""The organisation: importing it and looking people and units up."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..app import App
from ..domain.errors import InvalidInput, NoActor, NotPermitted, UnknownPerson, UnknownUnit
from ..domain.org import load_org_file, near_both
from ..domain.text import Bilingual
from ..persistence.repository import ImportCounts
from .chain import record_org
from .identity import OPERATOR, accounts, acting
from .refusals import refusals_recorded


def import_org(app: App, path: Path, actor_id: str | None) -> ImportCounts:
    """Add or update units and people; once people exist, only an admin may."""
    with refusals_recorded(app, actor_id, "import_org"):
        return _import_org(app, path, actor_id)


def _import_org(app: App, path: Path, actor_id: str | None) -> ImportCounts:
    with app.uow(write=True) as uow:
        known_units = set(uow.org.unit_ids())
        people = uow.org.people()
        known_people = set(people)
        who = None
        if people:
            who = acting(app, uow, actor_id)
            require_admin(who.actor_id, people)
        doc = load_org_file(path, known_units, known_people, uow.org.parent_names())
        counts = uow.org.apply(doc)
        unit_ids = uow.org.unit_ids()
        record_org(
            app,
            uow,
            [p.id for p in doc.people],
            [unit_ids[u.name] for u in doc.units],
            account=who.account if who else str(accounts(app, uow)[0]),
            operator_id=who.operator_id if who else None,
            via=who.via if who else None,
        )
        uow.commit()
    app.identity_cache.pop(OPERATOR, None)  # accounts may have changed hands
    return counts


def require_admin(actor_id: str | None, people: dict[str, tuple[str, int | None, list[str]]]) -> None:
    if not actor_id:
        raise NoActor()
    if actor_id not in people:
        _unknown_person(actor_id, people)
    name, _unit, roles = people[actor_id]
    if "admin" not in roles:
        raise NotPermitted(
            actor=f"{name}({actor_id})",
            action=Bilingual("导入组织架构", "import the organisation"),
            code=Bilingual("组织", "organisation"),
            rule=Bilingual("管理员", "admin"),
        )


class OrgLookup(Protocol):
    """Where people and units are looked up: the repository, or the process's cached copy of it."""

    def people(self) -> dict[str, tuple[str, int | None, list[str]]]: ...

    def unit_ids(self) -> dict[str, int]: ...


def resolve_unit(org: OrgLookup, name: str) -> int:
    units = org.unit_ids()
    if name in units:
        return units[name]
    raise UnknownUnit(unit=name, near=near_both(name, set(units)))


def resolve_person(org: OrgLookup, ref: str) -> str:
    """A person by id, or by name when the name is unique: offices know names, not ids."""
    people = org.people()
    if ref in people:
        return ref
    by_name = [pid for pid, (name, _u, _r) in people.items() if name == ref]
    if len(by_name) == 1:
        return by_name[0]
    if len(by_name) > 1:
        raise InvalidInput(
            what=Bilingual("人员", "person"),
            detail=Bilingual(
                f"“{ref}”对应 {len(by_name)} 人（{'、'.join(by_name)}）；请改用人员编号",
                f"'{ref}' names {len(by_name)} people ({', '.join(by_name)}); use the id",
            ),
        )
    return _unknown_person(ref, people)


def _unknown_person(ref: str, people: dict[str, tuple[str, int | None, list[str]]]) -> str:
    candidates = set(people) | {name for name, _u, _r in people.values()}
    raise UnknownPerson(person=ref, near=near_both(ref, candidates))


@dataclass(frozen=True)
class UnitView:
    name: str
    parent: str | None
    head: str | None
    head_name: str | None
    people: int


@dataclass(frozen=True)
class PersonView:
    id: str
    name: str
    unit: str | None
    roles: list[str]
    email: str | None
    phone: str | None


@dataclass(frozen=True)
class OrgView:
    units: list[UnitView]
    people: list[PersonView]


def org_view(app: App) -> OrgView:
    with app.uow(write=False) as uow:
        units = uow.org.units_listing()
        people = uow.org.people_listing()
    names = {u.id: u.name for u in units}
    person_names = {p.id: p.name for p in people}
    count: dict[int, int] = {}
    for p in people:
        if p.unit_id is not None:
            count[p.unit_id] = count.get(p.unit_id, 0) + 1
    return OrgView(
        units=[
            UnitView(
                u.name,
                names.get(u.parent_id) if u.parent_id else None,
                u.head_id,
                person_names.get(u.head_id) if u.head_id else None,
                count.get(u.id, 0),
            )
            for u in units
        ],
        people=[
            PersonView(p.id, p.name, names.get(p.unit_id) if p.unit_id else None, list(p.roles), p.email, p.phone)
            for p in people
        ],
    )
