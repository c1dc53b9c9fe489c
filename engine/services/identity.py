"""Who acts, and who operates: resolved once per unit of work from the account, the organisation and ``--as``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from ..app import App
from ..config.account import Account
from ..domain.errors import FixedClockRefused, NoActor, NotRecorder, UnknownPerson, UnmappedOperator
from ..persistence.uow import UnitOfWork
from .chain import record_workspace

SINGLE_DESK = "single_desk"
FIXED_CLOCK = "fixed_clock"  # "true": an admin allowed DUBAN_NOW and sweep --now here (a test workspace)
OPERATOR = "operator"  # the identity cache key of the resolved operator
RECORDER = "recorder"


@dataclass(frozen=True, slots=True)
class Acting:
    actor_id: str  # for whom the action is taken: the rules are checked against this person
    operator_id: str | None  # the person at the keyboard; None on a single-desk workspace
    account: str  # the account seen, e.g. os:fenglei or pg:duban_fenglei
    via: str | None = None  # the signed-in account (web:zhangwei) when a service acts for its sessions


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Someone signed in to a service (the web workspace) that acts for them through its own account."""

    account: str  # web:zhangwei
    person_id: str


# Set by the service's entry point for the duration of one request; never by a typed name.
signed_in: ContextVar[SignedIn | None] = ContextVar("duban_signed_in", default=None)

# 代理: the absent person a substitute acts for (``--for``), set by the entry point for one command or request.
# The substitute is still established by the system (the account, or --as on a single desk); the approved
# substitution in force now is what lets them act with the absent person's roles and relations.
acting_for: ContextVar[str | None] = ContextVar("duban_acting_for", default=None)


def is_single_desk(app: App, uow: UnitOfWork) -> bool:
    cached = app.identity_cache.get(SINGLE_DESK)
    if cached is None:
        cached = app.identity_cache[SINGLE_DESK] = uow.settings.get(SINGLE_DESK) == "true"
    return bool(cached)


def set_setting(app: App, uow: UnitOfWork, key: str, value: str, who: Acting | None) -> None:
    """A workspace setting, and its record on the chain, in the caller's transaction."""
    uow.settings.put(key, value)
    account = who.account if who is not None else str(accounts(app, uow)[0])
    record_workspace(
        app, uow, account=account, operator_id=who.operator_id if who else None, via=who.via if who else None
    )
    app.identity_cache.pop(key, None)


def fixed_clock_allowed(app: App, uow: UnitOfWork) -> bool:
    """An admin's switch for a test workspace: a fixed clock (DUBAN_NOW, sweep --now) is otherwise refused
    on a workspace that is not single-desk, since whoever sets the clock could backdate their steps."""
    cached = app.identity_cache.get(FIXED_CLOCK)
    if cached is None:
        cached = app.identity_cache[FIXED_CLOCK] = uow.settings.get(FIXED_CLOCK) == "true"
    return bool(cached)


def accounts(app: App, uow: UnitOfWork) -> list[Account]:
    """On PostgreSQL only the login role (``session_user``): clients connect from anywhere, so the client's
    operating-system name proves nothing there, and the database stamps the same role on every event it
    stores. On SQLite, the operating-system account of the real uid."""
    if app.db.dialect == "postgresql":
        role = app.identity_cache.get("pg_role")
        if role is None:
            role = app.identity_cache["pg_role"] = uow.settings.session_role()
        return [Account("pg", str(role))]
    return [app.account]


def operator(app: App, uow: UnitOfWork) -> tuple[str | None, str, frozenset[str]]:
    """(person id or None, the account shown, their roles) for the account running this process."""
    cached = app.identity_cache.get(OPERATOR)
    if cached is None:
        seen = accounts(app, uow)
        owners = uow.org.account_owners()
        cached = (None, str(seen[-1]), frozenset())
        for account in seen:
            if str(account) in owners:
                pid, their_roles = owners[str(account)]
                cached = (pid, str(account), their_roles)
                break
        app.identity_cache[OPERATOR] = cached
    return cached  # type: ignore[return-value]


@contextmanager
def standing_in_for(absent: str) -> Iterator[None]:
    """``--for`` for the calls made within: the demo's substitute, a service acting for a signed-in substitute."""
    token = acting_for.set(absent)
    try:
        yield
    finally:
        acting_for.reset(token)


def acting(app: App, uow: UnitOfWork, as_person: str | None) -> Acting:
    """The person acted for and the operator; refusals name the account, which cannot be typed.

    With ``--for ABSENT`` (``acting_for``) the one resolved is the substitute: the rules are then checked
    against the absent person, and the substitute is recorded as the operator (both names on every event).
    """
    absent = acting_for.get()
    who = _acting(app, uow, as_person)
    if not absent or absent == who.actor_id:
        return who
    if who.operator_id is not None and who.operator_id != who.actor_id and not is_single_desk(app, uow):
        # a recorder keying in for someone cannot also stand in for a third person
        raise NotRecorder(operator=f"{who.operator_id}（{who.account}）", person=absent)
    from .substitutes import standing_in  # imported here: substitutes builds on this module

    standing_in(app, uow, who.actor_id, absent)
    return Acting(absent, who.actor_id, who.account, who.via)


def _acting(app: App, uow: UnitOfWork, as_person: str | None) -> Acting:
    session = signed_in.get()
    if session is not None:
        return _acting_signed_in(app, uow, session, as_person)
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


def _acting_signed_in(app: App, uow: UnitOfWork, session: SignedIn, as_person: str | None) -> Acting:
    """A signed-in person, through the service's own account: the same rules as at a terminal, never single-desk."""
    account = str(accounts(app, uow)[0])
    me = uow.tasks.actor(session.person_id)
    if me is None:
        raise UnmappedOperator(account=session.account)
    if not as_person or as_person == me.id:
        return Acting(me.id, me.id, account, session.account)
    if RECORDER not in me.roles:
        raise NotRecorder(operator=f"{me.id}（{session.account}）", person=as_person)
    if uow.tasks.actor(as_person) is None:
        raise UnknownPerson(person=as_person, near="")
    return Acting(as_person, me.id, account, session.account)


def check_fixed_clock(app: App) -> None:
    """A clock set by the caller (``sweep --now``) is refused where it could backdate, as DUBAN_NOW is."""
    with app.uow(write=False) as uow:
        _refuse_fixed_clock(app, uow, is_single_desk(app, uow))


def _refuse_fixed_clock(app: App, uow: UnitOfWork, single_desk: bool) -> None:
    if not single_desk and not fixed_clock_allowed(app, uow):
        raise FixedClockRefused()


def check_operator(app: App, as_person: str | None = None) -> bool:
    """Before any command reads or writes: the account must be a known person, unless on a single desk;
    a person named with ``--as`` must exist, for reads too; a fixed clock only where it cannot backdate.

    Returns whether the workspace is single-desk, so the front end can say so.
    """
    with app.uow(write=False) as uow:
        single = is_single_desk(app, uow)
        op_id, account, _roles = operator(app, uow)
        if not single and op_id is None:
            raise UnmappedOperator(account=account)
        if as_person and uow.tasks.actor(as_person) is None:
            raise UnknownPerson(person=as_person, near="")
        if app.fixed_clock:
            _refuse_fixed_clock(app, uow, single)
    return single


def operator_label(app: App) -> str:
    """'os:fenglei (fenglei)': the account seen and its person, for a record that must not need a query."""
    session = signed_in.get()
    if session is not None:
        return f"{session.account} ({session.person_id})"
    resolved = app.identity_cache.get(OPERATOR)
    if isinstance(resolved, tuple):
        op_id, account, _roles = resolved
        return f"{account} ({op_id})" if op_id else str(account)
    return str(app.account)  # refused before the operator was looked up
