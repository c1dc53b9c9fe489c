"""Who acts, and who operates: resolved once per unit of work from the account, the organisation and ``--as``."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, text

from ..app import App
from ..domain.errors import NoActor, NotRecorder, UnknownPerson, UnmappedOperator
from ..identity import Account
from ..persistence.models import Person, WorkspaceSetting
from ..persistence.uow import UnitOfWork

SINGLE_DESK = "single_desk"
OPERATOR = "operator"  # the identity cache key of the resolved operator
RECORDER = "recorder"


@dataclass(frozen=True, slots=True)
class Acting:
    actor_id: str  # for whom the action is taken: the rules are checked against this person
    operator_id: str | None  # the person at the keyboard; None on a single-desk workspace
    account: str  # the account seen, e.g. os:fenglei or pg:duban_fenglei


def is_single_desk(app: App, uow: UnitOfWork) -> bool:
    cached = app.identity_cache.get(SINGLE_DESK)
    if cached is None:
        value = uow.conn.execute(select(WorkspaceSetting.value).where(WorkspaceSetting.key == SINGLE_DESK)).scalar()
        cached = app.identity_cache[SINGLE_DESK] = value == "true"
    return bool(cached)


def set_single_desk(uow: UnitOfWork, on: bool) -> None:
    uow.conn.execute(delete(WorkspaceSetting).where(WorkspaceSetting.key == SINGLE_DESK))
    uow.conn.execute(insert(WorkspaceSetting).values(key=SINGLE_DESK, value="true" if on else "false"))


def accounts(app: App, uow: UnitOfWork) -> list[Account]:
    """The database role first on PostgreSQL (clients connect from anywhere), then the operating-system account."""
    found = []
    if app.db.dialect == "postgresql":
        role = app.identity_cache.get("pg_role")
        if role is None:
            role = app.identity_cache["pg_role"] = str(uow.conn.execute(text("SELECT current_user")).scalar())
        found.append(Account("pg", str(role)))
    found.append(app.account)
    return found


def operator(app: App, uow: UnitOfWork) -> tuple[str | None, str, frozenset[str]]:
    """(person id or None, the account shown, their roles) for the account running this process."""
    cached = app.identity_cache.get(OPERATOR)
    if cached is None:
        seen = accounts(app, uow)
        people = uow.conn.execute(select(Person.id, Person.accounts, Person.roles).where(Person.accounts.is_not(None)))
        owners: dict[str, tuple[str, frozenset[str]]] = {}
        for pid, accts, roles in people:
            for a in accts or ():
                owners.setdefault(a, (pid, frozenset(roles if isinstance(roles, list) else json.loads(roles or "[]"))))
        cached = (None, str(seen[-1]), frozenset())
        for account in seen:
            if str(account) in owners:
                pid, their_roles = owners[str(account)]
                cached = (pid, str(account), their_roles)
                break
        app.identity_cache[OPERATOR] = cached
    return cached  # type: ignore[return-value]


def acting(app: App, uow: UnitOfWork, as_person: str | None) -> Acting:
    """The person acted for and the operator; refusals name the account, which cannot be typed."""
    op_id, account, roles = operator(app, uow)
    if is_single_desk(app, uow):
        if not as_person:
            if op_id is None:
                raise NoActor()
            return Acting(op_id, op_id, account)
        return Acting(as_person, op_id, account)
    if op_id is None:
        raise UnmappedOperator(account=account)
    if not as_person or as_person == op_id:
        return Acting(op_id, op_id, account)
    if RECORDER not in roles:
        raise NotRecorder(operator=f"{op_id}（{account}）", person=as_person)
    if uow.tasks.actor(as_person) is None:
        raise UnknownPerson(person=as_person, near="")
    return Acting(as_person, op_id, account)


def check_operator(app: App) -> bool:
    """Before any command reads or writes: the account must be a known person, unless on a single desk.

    Returns whether the workspace is single-desk, so the front end can say so.
    """
    with app.uow(write=False) as uow:
        if is_single_desk(app, uow):
            return True
        op_id, account, _roles = operator(app, uow)
    if op_id is None:
        raise UnmappedOperator(account=account)
    return False


def operator_label(app: App) -> str:
    """'os:fenglei (fenglei)': the account seen and its person, for a record that must not need a query."""
    resolved = app.identity_cache.get(OPERATOR)
    if isinstance(resolved, tuple):
        op_id, account, _roles = resolved
        return f"{account} ({op_id})" if op_id else str(account)
    return str(app.account)  # refused before the operator was looked up
