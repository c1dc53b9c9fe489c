"""Tamper-evident history: each event hashes its content and the task's previous event (a chain per task),
and each event's hash is folded into one chain over everything, in the order events were written.

Editing an event breaks its task's chain; deleting or reordering events breaks
the task's chain or the chain; deleting a task with its whole history
leaves a gap in the chain. Someone who can write the database could
recompute every hash; an anchor (the chain head signed with a key kept
outside the database) catches that, and truncation, when verified later.
Pure functions: the store feeds rows in, the verdicts come out.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from .accountability import KIND as ACCOUNTABILITY
from .accountability import AccountabilityPolicy
from .instants import utc_text
from .jsontext import compact, compact_value

GENESIS = "0" * 64  # the "previous hash" of a task's first event, and of the chain's first


@dataclass(frozen=True, slots=True)
class EventFacts:
    """What an event's hash covers: everything that says who did what to which task, when."""

    task: str  # the task's code: known before its row exists, and what people quote
    seq: int
    trigger: str
    from_state: str | None
    to_state: str
    actor_id: str
    operator_id: str | None
    comment: str | None
    at: datetime
    data: dict[str, Any] | None
    deadline: date | None
    # The account that wrote it (os:NAME, or pg:ROLE stamped by the database itself) and the task row as it
    # stands after the event (see ``RowFacts``). Both are None on events written before schema 0005, whose
    # hashes therefore stay as they were.
    account: str | None = None
    row: dict[str, Any] | None = None
    # Through what the operator was signed in when the account is a service's (web:zhangwei through the web
    # server's role): only a service account may carry one, and verify checks it like an account.
    via: str | None = None


def _instant(at: datetime) -> str:
    """UTC to the microsecond, ``%Y-%m-%dT%H:%M:%S.%fZ``, written from ``instants.utc_text`` at a fraction of
    ``strftime``'s cost (``strftime`` writes years before 1000 unpadded, so those still go through it)."""
    text = utc_text(at)
    if text[0] == "0":
        return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return text[:10] + "T" + text[11:] + "Z"


def canonical(e: EventFacts) -> bytes:
    """One byte string per event, the same on every database and Python: sorted keys, UTC to the microsecond.

    ``account`` and ``row`` are included only when present, so events from before they existed keep their hashes.
    It is ``json.dumps`` of the dict below with ``sort_keys``, compact and unescaped (``canonical_dict``), written
    out in key order here because it is on every firing; tests hold the two to the same bytes.
    """
    value = compact_value
    text = "".join(
        (
            "{" if e.account is None else '{"account":' + value(e.account) + ",",
            '"actor":',
            value(e.actor_id),
            ',"at":"',
            _instant(e.at),
            '","comment":',
            value(e.comment),
            ',"data":',
            value(e.data),
            ',"deadline":',
            '"' + e.deadline.isoformat() + '"' if e.deadline else "null",
            ',"from":',
            value(e.from_state),
            ',"operator":',
            value(e.operator_id),
            "" if e.row is None else ',"row":' + value(e.row),
            ',"seq":',
            value(e.seq),
            ',"task":',
            value(e.task),
            ',"to":',
            value(e.to_state),
            ',"trigger":',
            value(e.trigger),
            "" if e.via is None else ',"via":' + value(e.via),
            "}",
        )
    )
    return text.encode("utf-8")


def canonical_dict(e: EventFacts) -> dict[str, Any]:
    """What ``canonical`` writes, as a dict: the definition its bytes are held to."""
    content: dict[str, Any] = {
        "task": e.task,
        "seq": e.seq,
        "trigger": e.trigger,
        "from": e.from_state,
        "to": e.to_state,
        "actor": e.actor_id,
        "operator": e.operator_id,
        "comment": e.comment,
        "at": _instant(e.at),
        "data": e.data,
        "deadline": e.deadline.isoformat() if e.deadline else None,
    }
    if e.account is not None:
        content["account"] = e.account
    if e.row is not None:
        content["row"] = e.row
    if e.via is not None:
        content["via"] = e.via
    return content


def _compact(value: Any) -> bytes:
    """``json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))`` in UTF-8 (see jsontext)."""
    return compact(value).encode("utf-8")


def event_hash(e: EventFacts, previous: str) -> str:
    return hashlib.sha256(previous.encode("ascii") + canonical(e)).hexdigest()


def chain_hash(previous: str, event: str) -> str:
    return hashlib.sha256((previous + event).encode("ascii")).hexdigest()


# --- what people read, bound to the history -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TaskContent:
    """What a task says about itself and nothing moves but an event: hashed into ``RowFacts.content``.

    Everything shown or exported about a task is here or in ``RowFacts``, so a row edited behind the
    engine's back no longer matches its history.
    """

    workflow: str
    title: str
    problem: str | None
    measures: tuple[str, ...]
    category: str | None
    campaign: str | None
    priority: str | None
    fields: dict[str, Any]
    responsible_person: str | None
    co_units: tuple[int, ...]
    deadline_expr: str | None
    ongoing: bool
    source_key: str | None
    target: str | None = None
    ledger_columns: list[Any] | None = None
    assigned_on: date | None = None
    closed_on: date | None = None
    # 问题来源 (立项): bound only when given, so tasks written before they existed keep their digests.
    source: str | None = None
    source_ref: str | None = None
    source_date: date | None = None
    instruction: str | None = None
    # 分解: the task it was split from (tasks.id), bound only when there is one, like the source above.
    parent_id: int | None = None

    def digest(self) -> str:
        optional: dict[str, Any] = {
            "source": self.source,
            "source_ref": self.source_ref,
            "source_date": self.source_date.isoformat() if self.source_date else None,
            "instruction": self.instruction,
            "parent_id": self.parent_id,
        }
        return hashlib.sha256(
            _compact(
                {
                    **{k: v for k, v in optional.items() if v is not None},
                    "workflow": self.workflow,
                    "title": self.title,
                    "problem": self.problem,
                    "measures": list(self.measures),
                    "category": self.category,
                    "campaign": self.campaign,
                    "priority": self.priority,
                    "fields": self.fields or {},
                    "responsible_person": self.responsible_person,
                    "co_units": sorted(self.co_units),
                    "deadline_expr": self.deadline_expr,
                    "ongoing": bool(self.ongoing),
                    "source_key": self.source_key,
                    "target": self.target,
                    "ledger_columns": self.ledger_columns,
                    "assigned_on": self.assigned_on.isoformat() if self.assigned_on else None,
                    "closed_on": self.closed_on.isoformat() if self.closed_on else None,
                }
            )
        ).hexdigest()


@dataclass(frozen=True, slots=True)
class RowFacts:
    """The task row after an event, beside the state and deadline the event already carries."""

    content: str  # TaskContent.digest()
    unit_id: int
    lead_leader: str | None
    original_deadline: date | None
    deadline_version: int
    # 签收时限 and 签收时间: bound only once set, so rows bound before they existed keep their hashes.
    sign_by: date | None = None
    signed_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return row_json(
            self.content,
            self.unit_id,
            self.lead_leader,
            self.original_deadline,
            self.deadline_version,
            self.sign_by,
            self.signed_at,
        )


def row_json(
    content: str,
    unit_id: int,
    lead_leader: str | None,
    original_deadline: date | None,
    deadline_version: int,
    sign_by: date | None,
    signed_at: datetime | None,
) -> dict[str, Any]:
    """``RowFacts.to_json``: the row as an event binds it. The firing calls it directly from the task it read,
    so no frozen ``RowFacts`` is built on every firing only to be turned into this dict."""
    out: dict[str, Any] = {
        "content": content,
        "unit": unit_id,
        "leader": lead_leader,
        "original_deadline": original_deadline.isoformat() if original_deadline else None,
        "deadline_version": deadline_version,
    }
    if sign_by is not None:
        out["sign_by"] = sign_by.isoformat()
    if signed_at is not None:
        out["signed_at"] = _instant(signed_at)
    return out


@dataclass(frozen=True, slots=True)
class RecordFacts:
    """A chained record that is not a task's event: an organisation change, a workspace setting, a refusal,
    a campaign, or the baseline of a task taken when the history began to bind its row.

    ``body`` is the subject's whole state after the change (or the refusal itself), so the current tables
    can be compared with the last record of each subject.
    """

    kind: str
    subject: str
    body: dict[str, Any] | None
    at: datetime
    account: str | None
    operator_id: str | None
    via: str | None = None


def record_hash(r: RecordFacts) -> str:
    content = {
        "kind": r.kind,
        "subject": r.subject,
        "body": r.body,
        "at": _instant(r.at),
        "account": r.account,
        "operator": r.operator_id,
    }
    if r.via is not None:
        content["via"] = r.via
    return hashlib.sha256(b"duban-record-v1|" + _compact(content)).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredEvent:
    facts: EventFacts
    hash: str
    chain_seq: int
    chain_hash: str


@dataclass(frozen=True, slots=True)
class Break:
    """The first place a chain does not hold."""

    code: str | None
    seq: int | None
    chain_seq: int | None
    what: str  # English: the --json value and the log's words
    zh: str = ""  # the same in Chinese, for `audit verify --lang zh` and a refused restore

    def said(self, lang: str) -> str:
        return self.zh if lang == "zh" and self.zh else self.what


# The chain's record kinds as a Chinese reader names them.
RECORD_KIND_ZH = {
    "person": "人员",
    "unit": "单位",
    "workspace": "工作区设置",
    "campaign": "整改专项",
    "refusal": "拒绝记录",
    "accountability": "问责记录",
    "supervision_notice": "督办单",
    "substitution": "代理",
    "instruction": "领导批示",
    "event": "事件",
}


def _kind_zh(kind: str) -> str:
    return RECORD_KIND_ZH.get(kind, kind)


def verify_tasks(events: Iterable[StoredEvent]) -> list[Break]:
    """Per task, in seq order: positions 1, 2, 3… and each hash over its content and the one before.

    ``events`` must come ordered by task, then seq. Returns the first break of each broken task.
    """
    breaks: list[Break] = []
    task: str | None = None
    previous, expected_seq, broken = GENESIS, 1, False
    previous_at: datetime | None = None
    for ev in events:
        f = ev.facts
        if f.task != task:
            task, previous, expected_seq, broken, previous_at = f.task, GENESIS, 1, False, None
        if broken:
            continue
        if f.seq != expected_seq:
            what = "missing" if f.seq > expected_seq else "out of order"
            what_zh = "缺失" if f.seq > expected_seq else "顺序错乱"
            breaks.append(
                Break(
                    f.task,
                    expected_seq,
                    ev.chain_seq,
                    f"event {expected_seq} is {what}",
                    f"第 {expected_seq} 条事件{what_zh}",
                )
            )
            broken = True
            continue
        if event_hash(f, previous) != ev.hash:
            breaks.append(
                Break(
                    f.task,
                    f.seq,
                    ev.chain_seq,
                    "its content does not match its hash (edited)",
                    "内容与其哈希值不符（被改动过）",
                )
            )
            broken = True
            continue
        if previous_at is not None and f.at < previous_at:
            breaks.append(
                Break(
                    f.task,
                    f.seq,
                    ev.chain_seq,
                    "it is dated before the event it follows (backdated)",
                    "时间早于前一条事件（被倒签）",
                )
            )
            broken = True
            continue
        previous, expected_seq, previous_at = ev.hash, expected_seq + 1, f.at
    return breaks


def verify_chain(chain: Iterable[tuple[int, str, str, str | None, int | None]]) -> Break | None:
    """The chain: (chain_seq, event hash, chain hash, code, seq) in chain order, gap-free from 1."""
    previous, expected = GENESIS, 1
    for chain_seq, ev_hash, chained, code, seq in chain:
        if chain_seq != expected:
            return Break(
                None,
                None,
                expected,
                f"chain entries {expected}–{chain_seq - 1} are missing (events deleted)",
                f"哈希链第 {expected}–{chain_seq - 1} 条缺失（事件被删除）",
            )
        if chain_hash(previous, ev_hash) != chained:
            return Break(
                code,
                seq,
                chain_seq,
                "the chain does not follow here (an event changed or moved)",
                "哈希链在此处断开（有事件被改动或挪动）",
            )
        previous, expected = chained, expected + 1
    return None


# --- the chain as a whole: who wrote each entry, and what the records say the tables hold ----------------

RECORDER_ROLE = "recorder"
# kinds whose tables are compared with their records
PROJECTED = ("person", "unit", "workspace", "campaign", "instruction", "substitution")
SERVICE_ACCOUNTS = "service_accounts"  # workspace setting: comma-separated accounts of services (pg:duban_web)
WRITERS = {  # who may write each kind of record, once the organisation exists
    "person": frozenset({"admin"}),
    "workspace": frozenset({"admin"}),
    "unit": frozenset({"admin", "leader"}),  # a leader's import may create units (--create-units)
    "campaign": frozenset({"admin", "leader"}),
    "instruction": frozenset({"admin", "leader", "supervisor"}),  # 督查室 registers leaders' instructions
}


@dataclass
class ChainWalk:
    """Walks the chain in order, replaying the organisation as it stood at each entry.

    Checks each entry's link, each record's own hash, and that the account that wrote an event was, at
    that moment, the person recorded as operating (and a recorder where they acted for someone else).
    On a single-desk workspace accounts are not checked, as the README says.
    """

    breaks: list[Break] = field(default_factory=list)
    projections: dict[str, dict[str, dict[str, Any] | None]] = field(default_factory=lambda: {k: {} for k in PROJECTED})
    last: tuple[int, str] = (0, GENESIS)
    chain_broken: bool = False
    _owners: dict[str, str] = field(default_factory=dict)  # account -> person, as recorded so far
    _roles: dict[str, frozenset[str]] = field(default_factory=dict)
    _bootstrap: tuple[datetime, str] | None = None  # the first organisation load: (instant, account)
    zone: tzinfo = UTC  # the workspace's zone: a substitution's range is in its dates
    # who may open and close an accountability record (问责); None: the records' writers are not re-checked
    accountability: AccountabilityPolicy | None = None
    _records: dict[str, dict[str, Any]] = field(default_factory=dict)  # accountability records as they stand

    def entry(
        self,
        *,
        chain_seq: int,
        hash: str,
        chained: str,
        kind: str,
        subject: str,
        seq: int | None,
        at: datetime,
        account: str | None,
        actor_id: str | None,
        operator_id: str | None,
        body: dict[str, Any] | None,
        via: str | None = None,
    ) -> None:
        previous_seq, previous_hash = self.last
        self.last = (chain_seq, chained)
        if not self.chain_broken:
            if chain_seq != previous_seq + 1:
                self._break(
                    None,
                    None,
                    previous_seq + 1,
                    f"chain entries {previous_seq + 1}–{chain_seq - 1} are missing (deleted)",
                    f"哈希链第 {previous_seq + 1}–{chain_seq - 1} 条缺失（被删除）",
                )
            elif chain_hash(previous_hash, hash) != chained:
                code = subject if kind == "event" else None
                self._break(
                    code,
                    seq,
                    chain_seq,
                    "the chain does not follow here (an entry changed or moved)",
                    "哈希链在此处断开（有记录被改动或挪动）",
                )
        if kind == "event":
            self._check_operator(subject, seq, chain_seq, account, actor_id, operator_id, via, at)
            return
        facts = RecordFacts(kind, subject, body, at, account, operator_id, via)
        if record_hash(facts) != hash:
            self.breaks.append(
                Break(
                    None,
                    None,
                    chain_seq,
                    f"the {kind} record of '{subject}' does not match its hash (edited)",
                    f"“{subject}”的{_kind_zh(kind)}记录与其哈希值不符（被改动过）",
                )
            )
        self._check_writer(kind, subject, chain_seq, at, self._signed_in(account, via))
        if kind == "substitution" and body is not None:
            self._check_substitution(subject, chain_seq, self._signed_in(account, via), body)
        if kind == ACCOUNTABILITY and body is not None:
            self._check_accountability(subject, chain_seq, at, self._signed_in(account, via), body)
        if kind in self.projections:
            self.projections[kind][subject] = body
        if kind == "person":
            self._owners = {a: p for a, p in self._owners.items() if p != subject}
            if body is not None:
                for account_name in body.get("accounts") or ():
                    self._owners.setdefault(account_name, subject)
                self._roles[subject] = frozenset(body.get("roles") or ())

    def _check_writer(self, kind: str, subject: str, chain_seq: int, at: datetime, account: str | None) -> None:
        """Who may change the organisation, the settings and the campaigns: the roles of ``WRITERS``.

        The first load of an organisation has nobody to check against; its records share one instant and
        one account, and are let through as the workspace's beginning.
        """
        allowed = WRITERS.get(kind)
        if allowed is None or account is None or account.startswith("upgrade:") or self._single_desk():
            return
        if self._bootstrap is None and not self._owners:
            self._bootstrap = (at, account)
        if self._bootstrap == (at, account):
            return
        person = self._owners.get(account)
        if person is None or not (self._roles.get(person, frozenset()) & allowed):
            who = f"{account} ({person})" if person else account
            self.breaks.append(
                Break(
                    None,
                    None,
                    chain_seq,
                    f"the {kind} record of '{subject}' was written by {who}, who was not {' or '.join(sorted(allowed))} then",
                    f"“{subject}”的{_kind_zh(kind)}记录由 {who} 写入，而其当时不具有 {'、'.join(sorted(allowed))} 角色",
                )
            )

    def _break(self, code: str | None, seq: int | None, chain_seq: int, what: str, zh: str = "") -> None:
        self.breaks.append(Break(code, seq, chain_seq, what, zh))
        self.chain_broken = True

    def _check_substitution(self, subject: str, chain_seq: int, account: str | None, body: dict[str, Any]) -> None:
        """A substitution's record is written by whoever its body says took that step, and nobody decides a
        request they made or are party to: a forged approval cannot make a substitute's steps pass."""
        if account is None or account.startswith("upgrade:") or self._single_desk():
            return
        person = self._owners.get(account)
        status = body.get("status")
        by = {"requested": "requested_by", "approved": "decided_by", "denied": "decided_by"}.get(str(status))
        claimed = body.get(by) if by else body.get("cancelled_by")
        parties = {body.get("absent_id"), body.get("substitute_id"), body.get("requested_by")}
        keyed_in = person is not None and RECORDER_ROLE in self._roles.get(person, frozenset())  # 代录
        if person is not None and (person == claimed or keyed_in) and not (by == "decided_by" and person in parties):
            return
        self.breaks.append(
            Break(
                None,
                None,
                chain_seq,
                f"the substitution record of '{subject}' ({status}) was written by {account} ({person}), "
                f"not by {claimed} as it says, or by a party to it",
                f"代理记录“{subject}”（{status}）由 {account}（{person}）写入，与记录所称的 {claimed} 不符，或由当事人自行审批",
            )
        )

    def _check_accountability(
        self, number: str, chain_seq: int, at: datetime, account: str | None, body: dict[str, Any]
    ) -> None:
        """An accountability record is opened, then closed, by people the policy allows, as their roles stood
        then, and written by them (or keyed in by a recorder, or by their substitute): a record inserted with a
        valid chain continuation by someone else is named. The red level at opening is not replayed here."""
        if self.accountability is None:
            return
        was = self._records.get(number)
        self._records[number] = body
        steps = []
        if was is None:
            steps.append(("open", "opened_by", self.accountability.may_open))
        elif was.get("status") == "closed" or body.get("status") != "closed" or _unclosed(was) != _unclosed(body):
            self._say(chain_seq, *_changed(number))
            return
        if body.get("status") == "closed":
            steps.append(("close", "closed_by", self.accountability.may_close))
        for step, by, allowed in steps:
            claimed = str(body.get(by) or "")
            if not self._roles.get(claimed, frozenset()) & allowed:
                self._say(chain_seq, *_not_allowed(number, step, claimed, allowed))
            writer = self._writer_break(account, claimed, at)
            if writer is not None:
                self._say(chain_seq, *_not_written_by(number, step, claimed, writer))

    def _writer_break(self, account: str | None, claimed: str, at: datetime) -> tuple[str, str | None] | None:
        """Who wrote a step, named, when it was neither the person it names nor a recorder or substitute for them."""
        if account is None or account.startswith("upgrade:") or self._single_desk():
            return None
        person = self._owners.get(account)
        if person is not None and (
            person == claimed
            or RECORDER_ROLE in self._roles.get(person, frozenset())
            or self._stood_in(person, claimed, at)
        ):
            return None
        return account, person

    def _say(self, chain_seq: int, what: str, zh: str) -> None:
        self.breaks.append(Break(None, None, chain_seq, what, zh))

    def _stood_in(self, person: str, actor_id: str | None, at: datetime | None) -> bool:
        """An approved substitute (代理) acting for the absent person within the range, as recorded by then."""
        if at is None:
            return False
        day = at.astimezone(self.zone).date()
        return any(_stands_in(b, person, actor_id, at, day) for b in self.projections["substitution"].values())

    def _single_desk(self) -> bool:
        setting = self.projections["workspace"].get("single_desk")
        return bool(setting and setting.get("value") == "true")

    def _services(self) -> set[str]:
        """Accounts that act for signed-in people (the web server's role), as the workspace records them."""
        setting = self.projections["workspace"].get(SERVICE_ACCOUNTS)
        value = setting.get("value") if setting else None
        return {a.strip() for a in str(value or "").split(",") if a.strip()}

    def _signed_in(self, account: str | None, via: str | None) -> str | None:
        """The account whose person is answerable: ``via`` when a service wrote it, else the account itself."""
        if via is not None and account in self._services():
            return via
        return account

    def _check_operator(
        self,
        code: str,
        seq: int | None,
        chain_seq: int,
        account: str | None,
        actor_id: str | None,
        operator_id: str | None,
        via: str | None = None,
        at: datetime | None = None,
    ) -> None:
        if account is None or self._single_desk():  # written before accounts were bound, or by design unchecked
            return
        if via is not None and account not in self._services():
            what = f"it claims the signed-in account {via}, but {account} is not a service that may say so"
            zh = f"记录声称登录账号为 {via}，但 {account} 不是可代为声明的服务账号"
            self.breaks.append(Break(code, seq, chain_seq, what, zh))
            return
        if via is None and account in self._services():
            what = f"the service account {account} wrote it without saying who was signed in"
            zh = f"服务账号 {account} 写入时未注明登录的是谁"
            self.breaks.append(Break(code, seq, chain_seq, what, zh))
            return
        account = self._signed_in(account, via) or account
        person = self._owners.get(account)
        if person is None:
            what = f"it was written by the account {account}, which was nobody in the organisation then"
            zh = f"写入它的账号 {account} 当时不对应组织中的任何人员"
        elif operator_id != person:
            what = f"it says {operator_id or actor_id} operated, but the account {account} that wrote it is {person}"
            zh = f"记录称操作人为 {operator_id or actor_id}，但写入它的账号 {account} 属于 {person}"
        elif (
            actor_id != person
            and RECORDER_ROLE not in self._roles.get(person, frozenset())
            and not self._stood_in(person, actor_id, at)
        ):
            what = f"{person} recorded it for {actor_id} without the recorder role"
            zh = f"{person} 没有代录员（recorder）角色，却代 {actor_id} 录入"
        else:
            return
        self.breaks.append(Break(code, seq, chain_seq, what, zh))


_STEP_ZH = {"open": "启动", "close": "办结"}
_CLOSING = ("status", "closed_by", "closed_on", "closing_note")


def _unclosed(body: dict[str, Any]) -> dict[str, Any]:
    """What closing a record leaves as it was: everything but the closing fields."""
    return {k: v for k, v in body.items() if k not in _CLOSING}


def _not_allowed(number: str, step: str, who: str, allowed: frozenset[str]) -> tuple[str, str]:
    roles_en, roles_zh = " or ".join(sorted(allowed)), "、".join(sorted(allowed))
    verb = {"open": "opened", "close": "closed"}[step]
    return (
        f"accountability record {number} {verb} by {who}, whom the policy does not allow to {step} one "
        f"({step}: {roles_en})",
        f"问责记录 {number} 由 {who} {_STEP_ZH[step]}，而问责政策不允许其{_STEP_ZH[step]}问责（可{_STEP_ZH[step]}：{roles_zh}）",
    )


def _not_written_by(number: str, step: str, claimed: str, writer: tuple[str, str | None]) -> tuple[str, str]:
    verb = {"open": "opened", "close": "closed"}[step]
    account, person = writer
    en, zh = (f"{account} ({person})", f"{account}（{person}）") if person else (account, account)
    return (
        f"accountability record {number} says it was {verb} by {claimed}, but it was written by {en}",
        f"问责记录 {number} 称由 {claimed} {_STEP_ZH[step]}，但写入它的是 {zh}",
    )


def _changed(number: str) -> tuple[str, str]:
    return (
        f"accountability record {number} was changed other than by closing it (written behind the engine's back)",
        f"问责记录 {number} 被以办结以外的方式改动（被绕过系统写入）",
    )


def _stands_in(body: dict[str, Any] | None, substitute: str, absent: str | None, at: datetime, day: date) -> bool:
    """Whether a substitution's record (as it stood then) let ``substitute`` act for ``absent`` at ``at``."""
    if not body or body.get("substitute_id") != substitute or body.get("absent_id") != absent:
        return False
    decided, cancelled = body.get("decided_at"), body.get("cancelled_at")
    if body.get("status") not in ("approved", "cancelled") or not decided or at < datetime.fromisoformat(decided):
        return False
    if cancelled and at >= datetime.fromisoformat(cancelled):
        return False
    return str(body.get("starts_on")) <= day.isoformat() <= str(body.get("ends_on"))


def compare_projection(
    kind: str, recorded: dict[str, dict[str, Any] | None], now: dict[str, dict[str, Any]]
) -> list[Break]:
    """The table of ``kind`` as it stands against its records' replay: a row changed, added or removed behind
    the engine's back is named."""
    breaks = []
    for subject in sorted(set(recorded) | set(now), key=str):
        was, is_ = recorded.get(subject), now.get(subject)
        if was == is_:
            continue
        if is_ is None:
            what = f"the {kind} '{subject}' is on record but missing from its table (deleted)"
            zh = f"{_kind_zh(kind)}“{subject}”有记录，但数据表中已没有（被删除）"
        elif was is None:
            what = f"the {kind} '{subject}' is in its table but not on record (added behind the engine's back)"
            zh = f"{_kind_zh(kind)}“{subject}”在数据表中，但没有记录（被绕过系统添加）"
        else:
            fields = sorted(k for k in set(was) | set(is_) if was.get(k) != is_.get(k))
            what = f"the {kind} '{subject}' differs from its record in {', '.join(fields)} (changed behind the engine's back)"
            named = "、".join(f"'{name}'" for name in fields)
            zh = f"{_kind_zh(kind)}“{subject}”的字段 {named} 与记录不符（被绕过系统改动）"
        breaks.append(Break(None, None, None, what, zh))
    return breaks


# --- anchors ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Anchor:
    """The chain's head at a moment, signed with a key the database never holds."""

    chain_seq: int
    chain_hash: str
    events: int
    at: datetime
    mac: str = ""

    def message(self) -> bytes:
        return f"duban-anchor-v1|{self.chain_seq}|{self.chain_hash}|{self.events}|{_instant(self.at)}".encode()

    def signed(self, key: bytes) -> Anchor:
        mac = hmac.new(key, self.message(), hashlib.sha256).hexdigest()
        return Anchor(self.chain_seq, self.chain_hash, self.events, self.at, mac)

    def genuine(self, key: bytes) -> bool:
        return hmac.compare_digest(self.signed(key).mac, self.mac)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": "duban-anchor-v1",
            "ledger_seq": self.chain_seq,
            "ledger_hash": self.chain_hash,
            "events": self.events,
            "at": _instant(self.at),
            "hmac_sha256": self.mac,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Anchor:
        if d.get("format") != "duban-anchor-v1":
            raise ValueError("not a duban anchor (format duban-anchor-v1)")
        at = datetime.strptime(str(d["at"]), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        return cls(int(d["ledger_seq"]), str(d["ledger_hash"]), int(d["events"]), at, str(d["hmac_sha256"]))
