"""The schema, as SQLAlchemy 2.x typed models; Alembic migrations are written against it.

The ORM is used for the schema, the organisation and reads; the firing hot
path writes through the repository's prepared SQL (see repository.py).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .types import JSONText, UTCDateTime


class Base(DeclarativeBase):
    pass


class Unit(Base):
    __tablename__ = "units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    head_id: Mapped[str | None] = mapped_column(ForeignKey("people.id", use_alter=True, name="fk_units_head_id_people"))
    channels: Mapped[list[str] | None] = mapped_column(JSONText)  # how its people are told, unless their own say
    aliases: Mapped[list[str] | None] = mapped_column(JSONText)  # the short names ledgers use (县住建局, 住建局)
    digest: Mapped[str | None] = mapped_column(String(10))  # daily: its people get a daily digest (migration 0017)


class Person(Base):
    __tablename__ = "people"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    roles: Mapped[list[str]] = mapped_column(JSONText, default=list)
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    wecom: Mapped[str | None] = mapped_column(String(200))
    dingtalk: Mapped[str | None] = mapped_column(String(200))
    channels: Mapped[list[str] | None] = mapped_column(JSONText)
    # Operating-system accounts and database roles that are this person (os:name, pg:role): who operates.
    accounts: Mapped[list[str] | None] = mapped_column(JSONText)
    digest: Mapped[str | None] = mapped_column(String(10))  # daily or none; NULL: as the unit says (0017)
    notify: Mapped[str | None] = mapped_column(String(10))  # digest (fold into it) or each; NULL: digest (0017)


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_state", "state"),
        Index("ix_tasks_unit_id_state", "unit_id", "state"),
        Index("ix_tasks_campaign", "campaign"),
        Index("ix_tasks_next_action_at", "next_action_at"),
        Index("ix_tasks_updated_at", "updated_at"),  # as-of reports read events only for tasks moved since
        # who may see a task (web_store.visible_clause): each arm of its OR has an index (migration 0009)
        # and the inbox (read/inbox_page.py): a workflow state's tasks by deadline, for all and per lead leader (0018)
        Index("ix_tasks_lead_leader_workflow_state_deadline", "lead_leader_id", "workflow", "state", "deadline", "id"),
        Index("ix_tasks_workflow_state_deadline", "workflow", "state", "deadline", "id"),
        Index("ix_tasks_unit_workflow_state_deadline", "unit_id", "workflow", "state", "deadline", "id"),
        Index("ix_tasks_responsible_person_id", "responsible_person_id"),
        Index("ix_tasks_source", "source"),
        Index("ix_tasks_instruction", "instruction"),
        Index("ix_tasks_parent_id", "parent_id"),  # 分解: a parent's sub-tasks (migration 0015)
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    workflow: Mapped[str] = mapped_column(String(64))
    workflow_version: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    problem: Mapped[str | None] = mapped_column(Text)
    measures: Mapped[list[str]] = mapped_column(JSONText, default=list)
    category: Mapped[str | None] = mapped_column(String(100))
    campaign: Mapped[str | None] = mapped_column(String(200))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    responsible_person_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    lead_leader_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    deadline: Mapped[date | None] = mapped_column(Date)  # in force: moved by extensions and stopped clocks
    original_deadline: Mapped[date | None] = mapped_column(Date)  # as assigned: the on-time rate uses it
    deadline_expr: Mapped[str | None] = mapped_column(String(100))  # as written, e.g. 2026年6月底前
    ongoing: Mapped[bool] = mapped_column(Boolean, default=False)  # 长期坚持: no deadline, periodic reports
    deadline_version: Mapped[int] = mapped_column(Integer, default=1)
    watch_from: Mapped[datetime] = mapped_column(UTCDateTime)  # deadline actions up to here are handled
    next_action_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when the sweep must look again
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    named_in_circular: Mapped[bool] = mapped_column(Boolean, default=False)
    last_progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    clock_stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    priority: Mapped[str | None] = mapped_column(String(20))
    # An imported ledger row: importing the same file again adds nothing.
    source_key: Mapped[str | None] = mapped_column(String(250), unique=True)
    head_hash: Mapped[str | None] = mapped_column(String(64))  # the last event's hash: the next one chains to it
    # TaskContent.digest() of the row as written: the next event binds it without reading the content.
    content_hash: Mapped[str | None] = mapped_column(String(64))
    assigned_on: Mapped[date | None] = mapped_column(Date)  # 交办日期: from the ledger for imported tasks
    closed_on: Mapped[date | None] = mapped_column(Date)  # 销号日期 as the ledger gave it (imported tasks only)
    target: Mapped[str | None] = mapped_column(Text)  # 整改目标 / 销号标准
    ledger_columns: Mapped[list[Any] | None] = mapped_column(
        JSONText
    )  # other columns of the ledger: [[header, value]…]
    fields: Mapped[dict[str, Any]] = mapped_column(JSONText, default=dict)
    sign_by: Mapped[date | None] = mapped_column(Date)  # 签收时限: sign for by this day (the workflow's policy)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # 签收时间: when the unit signed for it
    source: Mapped[str | None] = mapped_column(String(50))  # 问题来源 (立项): 巡视巡察反馈, 领导批示, …
    source_ref: Mapped[str | None] = mapped_column(String(200))  # its document number: 县委巡察反馈意见 第3条
    source_date: Mapped[date | None] = mapped_column(Date)  # the source document's date
    instruction: Mapped[str | None] = mapped_column(String(32))  # the 领导批示 it was turned from (PS-2026-0001)
    # 分解/多级交办: the task this one was split from (None: a top task); written once, never moved
    parent_id: Mapped[int | None] = mapped_column(Integer)  # a tasks.id; no constraint (see migration 0015)
    state: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Instruction(Base):
    """领导批示: a leader's instruction, registered first and turned into tasks that point back to it.

    A projection of its chained record (kind "instruction"): ``audit verify`` compares the two.
    """

    __tablename__ = "instructions"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    leader_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    text: Mapped[str] = mapped_column(Text)
    ref: Mapped[str | None] = mapped_column(String(200))  # 文号 or where it was written: 批示件 2026-10-12
    issued_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Substitution(Base):
    """代理: a person away and who stands in for them over a range of dates, once approved.

    A projection of its chained record (kind "substitution"): ``audit verify`` compares the two, and
    replays the records in order to know who stood in for whom when each event was written.
    """

    __tablename__ = "substitutions"
    __table_args__ = (
        Index("ix_substitutions_absent_id", "absent_id"),
        Index("ix_substitutions_substitute_id", "substitute_id"),
    )

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    absent_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    substitute_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)  # the last day it is in force (in the workspace's zone)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # requested, approved, denied, cancelled
    requested_by: Mapped[str] = mapped_column(ForeignKey("people.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TaskCoUnit(Base):
    """Co-units (配合单位): they help, but do not fire the task's transitions."""

    __tablename__ = "task_co_units"
    __table_args__ = (
        Index("ix_task_co_units_unit_id", "unit_id"),  # a unit's co-tasks (visible_clause)
        Index("ix_task_co_units_state_report_by", "state", "report_by"),  # the sweep's open parts (0014)
    )

    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    # The co-unit's part (migration 0014): assigned → signed → reported, or waived by the lead leader.
    state: Mapped[str] = mapped_column(String(16), default="assigned", server_default="assigned")
    sign_by: Mapped[date | None] = mapped_column(Date)  # 签收时限 of the part, as the policy set it
    report_by: Mapped[date | None] = mapped_column(Date)  # the day its report is due to the lead unit
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # reported or waived
    chased: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # 1: late to sign, 2: late to report


# The requests a lead leader decides (转办 proposed by a supervisor, 挂起 asked by the unit) and their outcomes:
# the inbox lists the requests still waiting (services/decisions.py, migration 0019). Only these events are in
# the partial index, so an ordinary step writes nothing to it.
DECISION_TRIGGERS = ("propose_transfer", "transfer", "decline_transfer", "ask_suspension", "suspend", "resume")
DECISIONS_WHERE = '"trigger" IN (' + ", ".join(f"'{t}'" for t in DECISION_TRIGGERS) + ")"


class Event(Base):
    """Append-only history; ``seq`` is the task's version after the event."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("task_id", "seq", name="uq_events_task_id_seq"),
        UniqueConstraint("chain_seq", name="uq_events_ledger_seq"),
        Index("ix_events_at", "at"),
        Index(
            "ix_events_decisions",
            "task_id",
            "seq",
            sqlite_where=text(DECISIONS_WHERE),
            postgresql_where=text(DECISIONS_WHERE),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    seq: Mapped[int] = mapped_column(Integer)
    trigger: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[str] = mapped_column(ForeignKey("people.id"))  # for whom: whose decision it is
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONText)
    # The deadline in force after this event: an as-of report rebuilds the ledger from events alone.
    deadline: Mapped[date | None] = mapped_column(Date)
    # Who recorded it (代录: a clerk for a leader); None where the person acted themselves.
    operator_id: Mapped[str | None] = mapped_column(ForeignKey("people.id", name="fk_events_operator_id_people"))
    hash: Mapped[str] = mapped_column(String(64))  # over its content and the task's previous event
    chain_seq: Mapped[int] = mapped_column(Integer)  # its place in the whole chain
    chain_hash: Mapped[str] = mapped_column(String(64))  # the chain after it
    # The account that wrote it: os:NAME from the real uid, or on PostgreSQL pg:ROLE stamped by a trigger
    # from session_user, which the client cannot choose. None before schema 0005.
    account: Mapped[str | None] = mapped_column(String(200))
    row_facts: Mapped[dict[str, Any] | None] = mapped_column(JSONText)  # RowFacts after the event
    via: Mapped[str | None] = mapped_column(String(200))  # the signed-in account, when a service wrote it
    # The responsible unit after the event (its row facts' unit): as-of reports credit the unit of the day.
    # None before schema 0007, when a task never changed unit.
    unit_id: Mapped[int | None] = mapped_column(Integer)


class ProgressReport(Base):
    __tablename__ = "progress_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    event_seq: Mapped[int] = mapped_column(Integer)
    percent: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class EvidenceFile(Base):
    """A file attached to a progress report; its bytes live in the content-addressed store."""

    __tablename__ = "evidence_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("progress_reports.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    original_name: Mapped[str] = mapped_column(String(500))


class CodeSequence(Base):
    __tablename__ = "code_sequences"

    prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class WorkflowVersion(Base):
    """Which definition versions this database has seen, so a changed one is checked once."""

    __tablename__ = "workflow_versions"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(16), primary_key=True)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ExtensionRequest(Base):
    """延期申请: a unit asks for a new deadline; a leader grants or denies it."""

    __tablename__ = "extension_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    requested_by: Mapped[str] = mapped_column(ForeignKey("people.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    current_deadline: Mapped[date | None] = mapped_column(Date)
    requested_deadline: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending, approved, denied
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str | None] = mapped_column(Text)


class Notification(Base):
    """The outbox: written in the transaction that causes it, delivered later, once."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(250), unique=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"), index=True)
    rule: Mapped[str] = mapped_column(String(20))  # remind, escalate, stale, manual, event
    level: Mapped[int] = mapped_column(Integer, default=0)
    recipient_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))  # pending, sending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # not before: backoff after a transient failure
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a worker holds it until then
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the channel attaches, by reference, rendered when sent: notice:KEY is a 督办单 as Word and PDF (0017).
    attachment: Mapped[str | None] = mapped_column(String(250))


class Circular(Base):
    """通报: a report as issued, its figures frozen, so it reads the same whenever it is looked at again."""

    __tablename__ = "circulars"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_key: Mapped[str] = mapped_column(String(250), unique=True)  # schedule + period: issued once
    schedule: Mapped[str] = mapped_column(String(64))  # the configured schedule's name, or "manual"
    period_kind: Mapped[str] = mapped_column(String(16))
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    campaign: Mapped[str | None] = mapped_column(String(200))
    lang: Mapped[str] = mapped_column(String(5))
    figures: Mapped[dict[str, Any]] = mapped_column(JSONText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issue_no: Mapped[int | None] = mapped_column(Integer)  # 第N期: numbered per schedule


class CircularFile(Base):
    """A rendered circular (DOCX, XLSX, PNG…), kept with its figures in the same transaction."""

    __tablename__ = "circular_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    circular_id: Mapped[int] = mapped_column(ForeignKey("circulars.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class ChainHead(Base):
    """The head of the chain over every event: one row, moved by each event in its own transaction."""

    __tablename__ = "chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class Record(Base):
    """A chained record that is not a task's event (organisation, workspace settings, campaigns, refusals,
    task baselines): it takes its place in the same chain as the events, so one anchor covers both.

    Append-only, like events. The tables of people, units, settings and campaigns are projections of these
    records, and ``audit verify`` compares them.
    """

    __tablename__ = "records"
    __table_args__ = (
        UniqueConstraint("chain_seq", name="uq_records_ledger_seq"),
        Index("ix_records_kind_subject", "kind", "subject"),
        Index("ix_records_kind_id", "kind", "id"),  # the organisation's version: its latest record, by kind
        Index("ix_records_at", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # person, unit, workspace, campaign, refusal, task
    subject: Mapped[str] = mapped_column(String(250))
    body: Mapped[dict[str, Any] | None] = mapped_column(JSONText)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    account: Mapped[str | None] = mapped_column(String(200))
    operator_id: Mapped[str | None] = mapped_column(String(64))
    via: Mapped[str | None] = mapped_column(String(200))  # the signed-in account, when a service wrote it
    hash: Mapped[str] = mapped_column(String(64))
    chain_seq: Mapped[int] = mapped_column(Integer)
    chain_hash: Mapped[str] = mapped_column(String(64))


class StoredAnchor(Base):
    """An anchor the beat (or ``audit anchor``) took: the chain head signed with a key the database never holds."""

    __tablename__ = "anchors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain_seq: Mapped[int] = mapped_column(Integer)
    chain_hash: Mapped[str] = mapped_column(String(64))
    entries: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    mac: Mapped[str] = mapped_column(String(64))


class Campaign(Base):
    """A campaign (整改专项): when its feedback came and from where; deadlines such as 立行立改 count from it."""

    __tablename__ = "campaigns"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    feedback_on: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(Text)
    started_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WorkspaceSetting(Base):
    """Settings of the workspace itself (single-desk mode), kept with its data."""

    __tablename__ = "workspace"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# --- the web workspace (schema 0006) ------------------------------------------------------------------------


class WebCredential(Base):
    """A web account's password (Argon2 hash): who may sign in, and whether they must choose a new one first."""

    __tablename__ = "web_credentials"

    account: Mapped[str] = mapped_column(String(200), primary_key=True)  # web:zhangwei
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    password_hash: Mapped[str] = mapped_column(Text)
    must_change: Mapped[bool] = mapped_column(Boolean, default=True)  # set by someone else: change at first sign-in
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebSession(Base):
    """A signed-in browser: only the token's hash is kept, so a copy of the database signs nobody in."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account: Mapped[str] = mapped_column(String(200), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    csrf: Mapped[str] = mapped_column(String(64))  # the per-session token every form must carry back
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    address: Mapped[str | None] = mapped_column(String(100))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # signed out


class SignInAttempt(Base):
    """Failed sign-ins, per account and address: the throttle every worker reads the same."""

    __tablename__ = "web_signin_attempts"
    __table_args__ = (
        Index("ix_web_signin_attempts_account_at", "account", "at"),
        Index("ix_web_signin_attempts_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiToken(Base):
    """A token for scripts and mini-programs: shown once, kept hashed, acting as its person through the API."""

    __tablename__ = "web_api_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account: Mapped[str] = mapped_column(String(200), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# A person's contact facts: what notifications need, and (with accounts) what the chain records of a person.
PERSON_CONTACT = (
    Person.id,
    Person.name,
    Person.unit_id,
    Person.roles,
    Person.email,
    Person.phone,
    Person.wecom,
    Person.dingtalk,
    Person.channels,
    Person.digest,
    Person.notify,
)
