"""What the web workspace keeps and reads: credentials, sessions, throttling, tokens, and who may see what.

Every secret is stored as a SHA-256 (tokens) or an Argon2 hash (passwords,
hashed by the service before it gets here). The visibility filter is the
query form of ``duban.engine.domain.visibility.may_see``; tests check that both agree.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    Executable,
    Integer,
    Select,
    Text,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    true,
    type_coerce,
    union,
    union_all,
    update,
)

from ..domain.visibility import TaskPlace, Viewer
from .models import (
    DECISIONS_WHERE,
    ApiToken,
    Event,
    EvidenceFile,
    ExtensionRequest,
    Person,
    ProgressReport,
    Record,
    SignInAttempt,
    Task,
    TaskCoUnit,
    WebCredential,
    WebSession,
)
from .sql import for_dialect
from .types import decode_instant, encode_instant


@dataclass(frozen=True, slots=True)
class Credential:
    account: str
    person_id: str
    password_hash: str
    must_change: bool


@dataclass(frozen=True, slots=True)
class SessionRow:
    token_hash: str
    account: str
    person_id: str
    csrf: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class LiveSession:
    row: SessionRow
    must_change: bool
    roles: frozenset[str] | None  # None: the person is no longer in the organisation
    unit_id: int | None
    accounts: tuple[str, ...]  # the person's mapped accounts
    unclaimed: bool = False  # True: no person of the organisation lists this account (``owner_of`` is None)


@dataclass(frozen=True, slots=True)
class TokenRow:
    token_hash: str
    account: str
    person_id: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class PendingExtension:
    id: int
    code: str
    title: str
    requested_by: str
    requested_deadline: Any
    current_deadline: Any
    reason: str


@dataclass(frozen=True, slots=True)
class DecisionEvent:
    """An event of a request a lead leader decides, or of its outcome, with the task as it stands now."""

    task_id: int
    code: str
    title: str
    workflow: str
    state: str
    unit_id: int
    trigger: str
    to_state: str
    data: dict[str, Any] | None
    comment: str | None
    at: datetime
    actor_id: str


@lru_cache(maxsize=256)
def visible_clause(viewer: Viewer, *, union: bool = False) -> ColumnElement[bool]:
    """Tasks ``viewer`` may see, as a WHERE clause on ``tasks`` (see ``may_see``).

    ``union``: the same set as ``id IN (a UNION ALL of one indexed SELECT per arm)``, for counting and
    ranking: SQLite then reads a unit's few thousand ids from the indexes instead of walking every task,
    which it does for the OR form whenever no ORDER BY … LIMIT lets it stop early.
    """
    if viewer.sees_all:
        return true()
    if union:
        return visible_union(viewer)
    mine = or_(Task.lead_leader_id == viewer.person_id, Task.responsible_person_id == viewer.person_id)
    if viewer.unit_id is None:
        return mine
    # IN over the co-units of this unit (ix_task_co_units_unit_id), not a correlated EXISTS: each arm of the OR
    # then has an index of its own, and the database unions them instead of reading every task
    co = Task.id.in_(select(TaskCoUnit.task_id).where(TaskCoUnit.unit_id == viewer.unit_id).scalar_subquery())
    return or_(mine, Task.unit_id == viewer.unit_id, co)


def _visible_arms(viewer: Viewer, narrow: Sequence[ColumnElement[bool]]) -> list[Select[Any]]:
    """One indexed SELECT of task ids per way ``viewer`` (who does not see every task) may see a task, each also
    meeting ``narrow``. The lead leader's and the unit's arms are read along their own indexes, which hold what
    ``narrow`` tests (workflow, state, deadline); the few tasks of a responsible person or a co-unit are found
    by id first and then tested (with the OR of the lights beside the person's index, SQLite scanned every
    task instead)."""
    by_person = select(Task.id).where(Task.responsible_person_id == viewer.person_id).scalar_subquery()
    arms = [
        select(Task.id).where(Task.lead_leader_id == viewer.person_id, *narrow),
        select(Task.id).where(Task.id.in_(by_person), *narrow),
    ]
    if viewer.unit_id is not None:
        arms.append(select(Task.id).where(Task.unit_id == viewer.unit_id, *narrow))
        by_co_unit = select(TaskCoUnit.task_id).where(TaskCoUnit.unit_id == viewer.unit_id).scalar_subquery()
        arms.append(select(Task.id).where(Task.id.in_(by_co_unit), *narrow))
    return arms


def visible_union(viewer: Viewer, narrow: Sequence[ColumnElement[bool]] = ()) -> ColumnElement[bool]:
    """``visible_clause(viewer, union=True)`` for a viewer who does not see every task, with ``narrow`` also
    inside the arms (``ledger_page.visible_among``), so they hand on only the ids that match; the caller may
    still apply ``narrow`` to the union, which then changes nothing."""
    return Task.id.in_(union_all(*_visible_arms(viewer, narrow)).scalar_subquery())


def visible_ids(viewer: Viewer, narrow: Sequence[ColumnElement[bool]]) -> CompoundSelect[Any]:
    """The ids of the tasks ``viewer`` may see that also meet ``narrow``, each once (a UNION of the arms): counting
    a unit's red tasks this way reads the unit's index alone, where ``id IN (visible_union)`` read every matching
    task's row again to apply ``narrow`` (1.5 ms of a 4.6 ms page at 100,000 tasks)."""
    return union(*_visible_arms(viewer, narrow))


# The session, its credential, its person, and how many people's accounts text mentions the account: the
# subquery only when the person's own accounts text does not, so a mapped account costs no scan of people. LIKE
# without escaping is a superset of the exact match ('_' and '%' in an account match more, SQLite ignores case):
# a count of 0 proves that nobody lists the account; anything else is settled by ``owner_of``.
SESSION_SQL = """
SELECT s.token_hash, s.account, s.person_id, s.csrf, s.expires_at, c.must_change,
       p.id, p.roles, p.unit_id, p.accounts,
       CASE WHEN p.accounts LIKE :open || s.account || :close THEN -1
            ELSE (SELECT COUNT(*) FROM people o WHERE o.accounts LIKE :open || s.account || :close) END
FROM web_sessions s
JOIN web_credentials c ON c.account = s.account
LEFT JOIN people p ON p.id = s.person_id
WHERE s.token_hash = :token_hash AND s.ended_at IS NULL AND s.expires_at > :now
"""


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


class WebStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # --- people and tasks, as the rules see them ---------------------------------------------------------

    def viewer(self, person_id: str) -> Viewer | None:
        row = self.conn.execute(select(Person.id, Person.unit_id, Person.roles).where(Person.id == person_id)).first()
        if row is None:
            return None
        return Viewer(row.id, row.unit_id, frozenset(row.roles or ()))

    def person_accounts(self, person_id: str) -> list[str] | None:
        row = self.conn.execute(select(Person.accounts).where(Person.id == person_id)).first()
        return None if row is None else list(row[0] or ())

    def owner_of(self, account: str) -> str | None:
        """The person an account is mapped to in the organisation (accounts: [web:NAME])."""
        query = select(Person.id, Person.accounts).where(Person.accounts.is_not(None))
        if account.isascii() and '"' not in account and "\\" not in account:
            # narrowed in the database by the JSON text, so a county's people are not read on every request;
            # the exact match is made below
            escaped = account.replace("%", "\\%").replace("_", "\\_")
            query = query.where(type_coerce(Person.accounts, Text).like(f'%"{escaped}"%', escape="\\"))
        for pid, accounts in self.conn.execute(query):
            if account in (accounts or ()):
                return str(pid)
        return None

    def task_place(self, code: str) -> TaskPlace | None:
        row = self.conn.execute(
            select(Task.id, Task.unit_id, Task.lead_leader_id, Task.responsible_person_id).where(Task.code == code)
        ).first()
        if row is None:
            return None
        co = self.conn.execute(select(TaskCoUnit.unit_id).where(TaskCoUnit.task_id == row.id)).scalars()
        return TaskPlace(row.unit_id, frozenset(co), row.lead_leader_id, row.responsible_person_id)

    def evidence_places(self, sha256: str) -> list[tuple[str, TaskPlace, str]]:
        """(task code, where it sits, the file's name) for every task whose reports hold this file."""
        rows = self.conn.execute(
            select(Task.code, EvidenceFile.original_name)
            .join(ProgressReport, ProgressReport.id == EvidenceFile.report_id)
            .join(Task, Task.id == ProgressReport.task_id)
            .where(EvidenceFile.sha256 == sha256)
        ).all()
        out = []
        for code, name in rows:
            place = self.task_place(code)
            if place is not None:
                out.append((code, place, name))
        return out

    def pending_extensions(
        self, leader_id: str | None, limit: int | None = None, code: str | None = None
    ) -> list[PendingExtension]:
        """Pending requests on tasks this leader leads (all pending, for ``None``), oldest first; or on one task."""
        query = _pending_extensions_query(leader_id is not None, code is not None, limit is not None)
        values = {"leader": leader_id, "code": code, "limit": limit}
        return [PendingExtension(*r) for r in self.conn.execute(query, values)]

    def decision_events(self, leader_id: str | None) -> list[DecisionEvent]:
        """The events of 转办 proposals and 挂起 requests and of their outcomes (``models.DECISION_TRIGGERS``) on
        the tasks this leader leads (on every task, for ``None``), in order per task: whether a request still
        waits is the service's to tell. Read along ``ix_events_decisions``, which holds those events alone; the
        condition is written out as the index has it, which SQLite needs to see before it uses the index."""
        query = _decision_events_query(leader_id is not None)
        return [DecisionEvent(*r) for r in self.conn.execute(query, {"leader": leader_id})]

    def task_version(self, code: str) -> int | None:
        return self.conn.execute(select(Task.version).where(Task.code == code)).scalar()

    def pending_extension_id(self, code: str) -> int | None:
        return self.conn.execute(
            select(ExtensionRequest.id)
            .join(Task, Task.id == ExtensionRequest.task_id)
            .where(Task.code == code, ExtensionRequest.status == "pending")
        ).scalar()

    # --- credentials --------------------------------------------------------------------------------------

    def credential(self, account: str) -> Credential | None:
        row = self.conn.execute(
            select(
                WebCredential.account, WebCredential.person_id, WebCredential.password_hash, WebCredential.must_change
            ).where(WebCredential.account == account)
        ).first()
        return None if row is None else Credential(row[0], row[1], row[2], bool(row[3]))

    def put_credential(self, account: str, person_id: str, password_hash: str, must_change: bool, at: datetime) -> None:
        self.conn.execute(delete(WebCredential).where(WebCredential.account == account))
        self.conn.execute(
            insert(WebCredential).values(
                account=account,
                person_id=person_id,
                password_hash=password_hash,
                must_change=must_change,
                changed_at=at,
            )
        )

    # --- sessions -----------------------------------------------------------------------------------------

    def add_session(
        self, token_hash: str, account: str, person_id: str, csrf: str, at: datetime, expires: datetime, address: str
    ) -> None:
        self.conn.execute(
            insert(WebSession).values(
                token_hash=token_hash,
                account=account,
                person_id=person_id,
                csrf=csrf,
                created_at=at,
                expires_at=expires,
                address=address[:100],
            )
        )

    def session(self, token_hash: str, now: datetime) -> SessionRow | None:
        row = self.conn.execute(
            select(
                WebSession.token_hash, WebSession.account, WebSession.person_id, WebSession.csrf, WebSession.expires_at
            ).where(WebSession.token_hash == token_hash, WebSession.ended_at.is_(None), WebSession.expires_at > now)
        ).first()
        return None if row is None else SessionRow(*row)

    def live_session(self, token_hash: str, now: datetime) -> LiveSession | None:
        """A session still open, with its credential, its person and whether anyone claims its account, in one
        query on the DBAPI cursor: every page asks this first, and SQLAlchemy Core's per-statement work cost as
        much as the query itself (0.6 ms of a 4 ms ledger page, plus 0.45 ms for ``owner_of`` on a single desk).

        ``unclaimed`` is True only when no person's accounts text mentions the account at all (see SESSION_SQL):
        a test that errs only towards False, when the caller asks ``owner_of`` exactly as before.
        """
        dialect = self.conn.dialect.name
        cur = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cur.execute(
            for_dialect(SESSION_SQL, dialect),
            {"token_hash": token_hash, "now": encode_instant(now, dialect), "open": '%"', "close": '"%'},
        )
        row = cur.fetchone()
        if row is None:
            return None
        token, account, person_id, csrf, expires_at, must_change, pid, roles, unit_id, accounts_text, claims = row
        accounts = tuple(_json(accounts_text) or ())
        # the account's JSON form is its text only when it is ASCII without a quote or a backslash
        plain = account.isascii() and '"' not in account and "\\" not in account
        return LiveSession(
            SessionRow(token, account, person_id, csrf, decode_instant(expires_at)),
            bool(must_change),
            None if pid is None else frozenset(_json(roles) or ()),
            unit_id,
            accounts,
            unclaimed=plain and claims == 0 and account not in accounts,
        )

    def end_session(self, token_hash: str, at: datetime) -> None:
        self.conn.execute(
            update(WebSession)
            .where(WebSession.token_hash == token_hash, WebSession.ended_at.is_(None))
            .values(ended_at=at)
        )

    def end_sessions_of(self, account: str, at: datetime, keep: str | None = None) -> None:
        """After a password change every other browser signed in as this account is signed out."""
        query = update(WebSession).where(WebSession.account == account, WebSession.ended_at.is_(None))
        if keep is not None:
            query = query.where(WebSession.token_hash != keep)
        self.conn.execute(query.values(ended_at=at))

    def forget_expired(self, before: datetime) -> None:
        self.conn.execute(delete(WebSession).where(WebSession.expires_at < before))
        self.conn.execute(delete(SignInAttempt).where(SignInAttempt.at < before))

    # --- throttling ---------------------------------------------------------------------------------------

    def failures_since(self, account: str, address: str, since: datetime) -> tuple[int, int]:
        """(failures for this account, failures from this address) since ``since``."""
        by_account = self.conn.execute(
            select(func.count()).where(SignInAttempt.account == account, SignInAttempt.at >= since)
        ).scalar_one()
        by_address = self.conn.execute(
            select(func.count()).where(SignInAttempt.address == address, SignInAttempt.at >= since)
        ).scalar_one()
        return int(by_account), int(by_address)

    def add_failure(self, account: str, address: str, at: datetime) -> None:
        self.conn.execute(insert(SignInAttempt).values(account=account[:200], address=address[:100], at=at))

    def clear_failures(self, account: str) -> None:
        self.conn.execute(delete(SignInAttempt).where(SignInAttempt.account == account))

    # --- API tokens ---------------------------------------------------------------------------------------

    def add_token(self, token_hash: str, account: str, person_id: str, at: datetime) -> None:
        self.conn.execute(
            insert(ApiToken).values(token_hash=token_hash, account=account, person_id=person_id, created_at=at)
        )

    def token(self, token_hash: str) -> tuple[str, str] | None:
        row = self.conn.execute(
            select(ApiToken.account, ApiToken.person_id).where(
                ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None)
            )
        ).first()
        return None if row is None else (row[0], row[1])

    def tokens(self, account: str | None) -> list[TokenRow]:
        """Every API token (of one account, or all), newest first; only hashes are stored, so none can be shown."""
        query = select(
            ApiToken.token_hash, ApiToken.account, ApiToken.person_id, ApiToken.created_at, ApiToken.revoked_at
        )
        if account is not None:
            query = query.where(ApiToken.account == account)
        return [
            TokenRow(*r) for r in self.conn.execute(query.order_by(ApiToken.created_at.desc(), ApiToken.token_hash))
        ]

    def tokens_by_prefix(self, prefix: str) -> list[TokenRow]:
        query = select(
            ApiToken.token_hash, ApiToken.account, ApiToken.person_id, ApiToken.created_at, ApiToken.revoked_at
        ).where(ApiToken.token_hash.startswith(prefix, autoescape=True))
        return [TokenRow(*r) for r in self.conn.execute(query)]

    def revoke_token(self, token_hash: str, at: datetime) -> None:
        self.conn.execute(
            update(ApiToken)
            .where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None))
            .values(revoked_at=at)
        )

    # --- the sign-in records ------------------------------------------------------------------------------

    def signin_records(self, limit: int = 200) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            select(Record.at, Record.subject, Record.body, Record.account, Record.operator_id, Record.via)
            .where(Record.kind == "signin")
            .order_by(Record.chain_seq.desc())
            .limit(limit)
        ).mappings()
        return [dict(r) for r in rows]


# The inbox asks these on every page a leader opens: the statements are built once per shape, with their
# values bound at execution (building one cost more than SQLite's answering it).
@lru_cache(maxsize=8)
def _pending_extensions_query(by_leader: bool, one_task: bool, limited: bool) -> Executable:
    query = (
        select(
            ExtensionRequest.id,
            Task.code,
            Task.title,
            ExtensionRequest.requested_by,
            ExtensionRequest.requested_deadline,
            ExtensionRequest.current_deadline,
            ExtensionRequest.reason,
        )
        .join(Task, Task.id == ExtensionRequest.task_id)
        .where(ExtensionRequest.status == "pending")
        .order_by(ExtensionRequest.id)
    )
    if by_leader:
        query = query.where(Task.lead_leader_id == bindparam("leader"))
    if one_task:
        query = query.where(Task.code == bindparam("code"))
    if limited:
        query = query.limit(bindparam("limit", type_=Integer))
    return query


@lru_cache(maxsize=2)
def _decision_events_query(by_leader: bool) -> Executable:
    query = (
        select(
            Task.id,
            Task.code,
            Task.title,
            Task.workflow,
            Task.state,
            Task.unit_id,
            Event.trigger,
            Event.to_state,
            Event.data,
            Event.comment,
            Event.at,
            Event.actor_id,
        )
        .join(Task, Task.id == Event.task_id)
        .where(text(DECISIONS_WHERE))
        .order_by(Event.task_id, Event.seq)
    )
    if by_leader:
        query = query.where(Task.lead_leader_id == bindparam("leader"))
    return query
