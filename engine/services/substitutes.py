"""Substitutes (代理): request, approve or deny, cancel, list; and who stands in for whom at an instant.

A person away (leave, training) names a substitute for a range of dates; the head of their unit or an admin
(the policy's ``approve``) approves it. While it is in force the substitute acts for them with ``--for`` and
their roles and relations (see ``identity.acting``), and notifications meant for them go to the substitute
(``redirect``). Each change is a record of kind "substitution" on the chain, in the transaction that makes
it, so ``audit verify`` names an edit behind the engine's back and accepts the substitute's steps for exactly
the dates approved. The end is a date: nothing has to run for a substitution to end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from duban.workflows import BUILTIN_DIR

from ..app import App
from ..domain.errors import InvalidInput, NotPermitted, UnknownPerson
from ..domain.substitution import (
    KIND,
    PREFIX,
    NotStandingIn,
    Substitution,
    SubstitutionDecided,
    SubstitutionPolicy,
    UnknownSubstitution,
    load_substitution_policy,
    may_stand_in,
    range_length,
    stand_ins,
)
from ..domain.text import Bilingual
from ..domain.textcheck import check_text
from ..persistence.outbox import OutboxRepository, OutgoingNotice
from ..persistence.substitutions import SubstitutionRepository
from ..persistence.uow import UnitOfWork
from .chain import record_changes
from .identity import Acting, acting
from .notify import Contact, Directory, cached_org
from .org import resolve_person

if TYPE_CHECKING:
    from .tasks import FireResult

SETTING = "DUBAN_SUBSTITUTION"
BUILTIN = BUILTIN_DIR / "policies" / "substitution.yaml"
STATUS_LABEL = {
    "requested": Bilingual("待审批", "requested"),
    "approved": Bilingual("已批准", "approved"),
    "denied": Bilingual("未批准", "denied"),
    "cancelled": Bilingual("已撤销", "cancelled"),
}
_APPROVER_LABEL = {
    "unit_head": Bilingual("本单位负责人", "the head of their unit"),
    "parent_unit_head": Bilingual("上级单位负责人", "the head of the unit above"),
    "admin": Bilingual("管理员", "an admin"),
    "leader": Bilingual("领导", "a leader"),
}


def substitution_policy(app: App) -> SubstitutionPolicy:
    configured = app.settings.extra.get(SETTING)
    return load_substitution_policy(Path(configured).expanduser() if configured else BUILTIN)


@dataclass(frozen=True)
class SubstitutionView:
    s: Substitution
    absent_name: str
    substitute_name: str
    in_force: bool  # at the instant asked about (now, or the end of the day asked about)


def _today(app: App) -> tuple[datetime, date]:
    now = app.clock.now()
    return now, now.astimezone(app.tz).date()


def _record(app: App, uow: UnitOfWork, repo: SubstitutionRepository, code: str, who: Acting) -> None:
    record_changes(app, uow, KIND, repo.bodies([code]), account=who.account, operator_id=who.operator_id, via=who.via)


def _name(directory: Directory, pid: str | None) -> str:
    found = directory.people.get(pid or "")
    return f"{found.name}({found.id})" if found else str(pid)


def request_substitution(
    app: App,
    actor_id: str | None,
    *,
    substitute: str,
    starts_on: date,
    ends_on: date,
    reason: str,
    person: str | None = None,
) -> str:
    """The absent person (or, for them, someone who may approve it) asks for a substitute; returns its code."""
    policy = substitution_policy(app)
    reason = check_text(reason or "", "--reason", max_len=500)
    if not reason:
        raise InvalidInput(
            what="--reason",
            detail=Bilingual("请写明事由，如 --reason 休假、外出培训", "say why, e.g. --reason 休假 (leave)"),
        )
    if ends_on < starts_on:
        raise InvalidInput(
            what="--to",
            detail=Bilingual(
                f"结束日期 {ends_on} 早于开始日期 {starts_on}",
                f"the last day {ends_on} is before the first day {starts_on}",
            ),
        )
    now, today = _today(app)
    if starts_on < today:
        raise InvalidInput(
            what="--from",
            detail=Bilingual(
                f"{starts_on} 早于今天（{today}）；代理只能从今天或以后开始",
                f"{starts_on} is before today ({today}); a substitution starts today or later",
            ),
        )
    length = range_length(policy, starts_on, ends_on, app.calendar)
    if length > policy.max_days:
        unit = Bilingual("个工作日", " working days") if policy.count == "working_days" else Bilingual("天", " days")
        raise InvalidInput(
            what="--to",
            detail=Bilingual(
                f"代理期共 {length}{unit.zh}，超过规定的最长 {policy.max_days}{unit.zh}",
                f"the range is {length}{unit.en}, more than the {policy.max_days}{unit.en} the policy allows",
            ),
        )
    with app.uow(write=True) as uow:
        who = acting(app, uow, actor_id)
        org = cached_org(app, uow)
        directory = org.directory
        absent_id = resolve_person(org, person) if person else who.actor_id
        substitute_id = resolve_person(org, substitute)
        if substitute_id == absent_id:
            raise InvalidInput(
                what="--substitute",
                detail=Bilingual(
                    f"{_name(directory, absent_id)} 不能做自己的代理人；请指定另一人",
                    f"{_name(directory, absent_id)} cannot be their own substitute; name someone else",
                ),
            )
        if absent_id != who.actor_id and not _may_approve(policy, directory, who.actor_id, absent_id):
            raise NotPermitted(
                actor=_name(directory, who.actor_id),
                action=Bilingual(f"为 {_name(directory, absent_id)} 申请代理", f"ask for a substitute for {absent_id}"),
                code=Bilingual("代理", "substitution"),
                rule=Bilingual("本人，或可审批其代理的人", "the person themselves, or someone who may approve it"),
            )
        absent = directory.people[absent_id]
        sub = directory.people[substitute_id]
        home = directory.units.get(absent.unit_id) if absent.unit_id is not None else None
        if not may_stand_in(policy, absent.unit_id, sub.unit_id, home.parent_id if home else None):
            scope = {
                "same_unit": Bilingual("同一单位的人员", "someone of the same unit"),
                "same_or_parent_unit": Bilingual(
                    "同一单位或上级单位的人员", "someone of the same unit or the unit above"
                ),
            }[policy.scope]
            raise InvalidInput(
                what="--substitute",
                detail=Bilingual(
                    f"{_name(directory, substitute_id)} 不能代理 {_name(directory, absent_id)}：按规定代理人须为{scope.zh}",
                    f"{_name(directory, substitute_id)} may not stand in for {absent_id}: the policy asks for {scope.en}",
                ),
            )
        repo = uow.substitutions
        _refuse_overlap(repo, directory, absent_id, substitute_id, starts_on, ends_on)
        year = now.astimezone(app.tz).year
        code = f"{PREFIX}-{year}-{uow.tasks.next_code_number(PREFIX, year):04d}"
        repo.add(
            Substitution(code, absent_id, substitute_id, starts_on, ends_on, reason, "requested", who.actor_id, now)
        )
        _record(app, uow, repo, code, who)
        approvers = _approvers(policy, directory, absent_id) - {who.actor_id, absent_id}
        _tell(
            app,
            uow.outbox,
            directory,
            [directory.people[p] for p in sorted(approvers) if p in directory.people],
            f"{code}:requested",
            Bilingual(f"代理申请 {code} 待审批", f"substitution {code} awaits approval"),
            Bilingual(
                f"{absent.name} 申请 {starts_on} 至 {ends_on} 由 {sub.name} 代理（{reason}）。"
                f"审批：duban substitute approve {code}",
                f"{absent.name} asks for {sub.name} to stand in from {starts_on} to {ends_on} ({reason}). "
                f"Approve: duban substitute approve {code}",
            ),
            now,
        )
        uow.commit()
    return code


def _refuse_overlap(
    repo: SubstitutionRepository, directory: Directory, absent_id: str, substitute_id: str, start: date, end: date
) -> None:
    """One substitute per person per day, and no chains: the substitute is not away, the absent person stands in
    for nobody, over the same days."""
    for s in repo.listing(absent_id) + repo.listing(substitute_id):
        if s.status not in ("requested", "approved") or not s.overlaps(start, end):
            continue
        if s.absent_id == absent_id:
            zh = f"{_name(directory, absent_id)} 在 {s.starts_on} 至 {s.ends_on} 已有代理 {s.code}，日期不能重叠"
            en = f"{absent_id} already has substitution {s.code} from {s.starts_on} to {s.ends_on}; ranges may not overlap"
        elif s.absent_id == substitute_id:
            zh = f"{_name(directory, substitute_id)} 在 {s.starts_on} 至 {s.ends_on} 本人不在岗（代理 {s.code}），不能做代理人"
            en = (
                f"{substitute_id} is away from {s.starts_on} to {s.ends_on} (substitution {s.code}), so cannot stand in"
            )
        elif s.substitute_id == absent_id:
            zh = f"{_name(directory, absent_id)} 在 {s.starts_on} 至 {s.ends_on} 正代理他人（{s.code}），日期不能重叠"
            en = f"{absent_id} stands in for someone from {s.starts_on} to {s.ends_on} ({s.code}); ranges may not overlap"
        else:
            continue
        raise InvalidInput(what=Bilingual("代理期", "range"), detail=Bilingual(zh, en))


def _approvers(policy: SubstitutionPolicy, directory: Directory, absent_id: str) -> set[str]:
    absent = directory.people.get(absent_id)
    unit = directory.units.get(absent.unit_id) if absent and absent.unit_id is not None else None
    found: set[str] = set()
    for word in policy.approve:
        if word == "unit_head" and unit and unit.head_id:
            found.add(unit.head_id)
        elif word == "parent_unit_head" and unit and unit.parent_id is not None:
            parent = directory.units.get(unit.parent_id)
            if parent and parent.head_id:
                found.add(parent.head_id)
        elif word in ("admin", "leader"):
            found |= set(directory.holders.get(word, []))
    return found


def _may_approve(policy: SubstitutionPolicy, directory: Directory, who: str, absent_id: str) -> bool:
    return who in _approvers(policy, directory, absent_id)


def _deciding(app: App, uow: UnitOfWork, actor_id: str | None, code: str) -> tuple[Acting, Directory, Substitution]:
    """Who decides, the organisation, and the substitution by its code (unknown: refused)."""
    found = uow.substitutions.get(code)
    who = acting(app, uow, actor_id)
    if found is None:
        raise UnknownSubstitution(code=code)
    return who, cached_org(app, uow).directory, found


def decide_substitution(app: App, actor_id: str | None, code: str, *, approve: bool) -> Substitution:
    """Approve or deny a request: someone the policy names, who is neither its requester nor either party."""
    code = check_text(code, "code", max_len=32)
    policy = substitution_policy(app)
    now, today = _today(app)
    with app.uow(write=True) as uow:
        who, directory, s = _deciding(app, uow, actor_id, code)
        repo = uow.substitutions
        action = Bilingual("批准", "approved") if approve else Bilingual("否决", "denied")
        if s.status != "requested":
            raise SubstitutionDecided(code=code, status=STATUS_LABEL[s.status], action=action)
        if who.actor_id in (s.requested_by, s.absent_id, s.substitute_id):
            raise InvalidInput(
                what=code,
                detail=Bilingual(
                    "不能审批自己提出或涉及自己的代理申请；请由本单位负责人或管理员审批",
                    "one may not decide a request one made or is party to; the head of the unit or an admin decides it",
                ),
            )
        if not _may_approve(policy, directory, who.actor_id, s.absent_id):
            raise NotPermitted(
                actor=_name(directory, who.actor_id),
                action=Bilingual("审批代理", "decide the substitution"),
                code=code,
                rule=Bilingual(
                    "或".join(_APPROVER_LABEL[w].zh for w in policy.approve),
                    " or ".join(_APPROVER_LABEL[w].en for w in policy.approve),
                ),
            )
        if approve and s.ends_on < today:
            raise InvalidInput(
                what=code,
                detail=Bilingual(
                    f"代理期已于 {s.ends_on} 结束，不能再批准",
                    f"its range ended on {s.ends_on}; it can no longer be approved",
                ),
            )
        repo.decide(code, "approved" if approve else "denied", who.actor_id, now)
        _record(app, uow, repo, code, who)
        decided = repo.get(code)
        assert decided is not None
        verdict = Bilingual("已批准", "approved") if approve else Bilingual("未获批准", "was denied")
        _tell(
            app,
            uow.outbox,
            directory,
            [directory.people[p] for p in (s.absent_id, s.substitute_id) if p in directory.people],
            f"{code}:{decided.status}",
            Bilingual(f"代理 {code} {verdict.zh}", f"substitution {code} {verdict.en}"),
            Bilingual(
                f"{directory.people[s.substitute_id].name} 代理 {directory.people[s.absent_id].name}，"
                f"{s.starts_on} 至 {s.ends_on}：{verdict.zh}（{_name(directory, who.actor_id)}）。"
                + (f"代理人操作时加 --for {s.absent_id}" if approve else ""),
                f"{s.substitute_id} standing in for {s.absent_id} from {s.starts_on} to {s.ends_on} {verdict.en} "
                f"by {who.actor_id}." + (f" The substitute acts with --for {s.absent_id}" if approve else ""),
            ),
            now,
        )
        uow.commit()
    return decided


def cancel_substitution(app: App, actor_id: str | None, code: str) -> Substitution:
    """End a substitution early (or withdraw a request): the absent person, the requester, the substitute or an
    approver may; it stops being in force at once."""
    code = check_text(code, "code", max_len=32)
    policy = substitution_policy(app)
    now, today = _today(app)
    with app.uow(write=True) as uow:
        who, directory, s = _deciding(app, uow, actor_id, code)
        repo = uow.substitutions
        if s.status not in ("requested", "approved"):
            raise SubstitutionDecided(code=code, status=STATUS_LABEL[s.status], action=Bilingual("撤销", "cancelled"))
        if s.ends_on < today:
            raise InvalidInput(
                what=code,
                detail=Bilingual(f"代理期已于 {s.ends_on} 自然结束，无需撤销", f"it ended by itself on {s.ends_on}"),
            )
        parties = {s.absent_id, s.substitute_id, s.requested_by}
        if who.actor_id not in parties and not _may_approve(policy, directory, who.actor_id, s.absent_id):
            raise NotPermitted(
                actor=_name(directory, who.actor_id),
                action=Bilingual("撤销代理", "cancel the substitution"),
                code=code,
                rule=Bilingual("当事人或可审批的人", "a party to it or someone who may approve it"),
            )
        repo.cancel(code, who.actor_id, now)
        _record(app, uow, repo, code, who)
        cancelled = repo.get(code)
        assert cancelled is not None
        others = [p for p in (s.absent_id, s.substitute_id) if p != who.actor_id and p in directory.people]
        _tell(
            app,
            uow.outbox,
            directory,
            [directory.people[p] for p in others],
            f"{code}:cancelled",
            Bilingual(f"代理 {code} 已撤销", f"substitution {code} cancelled"),
            Bilingual(
                f"{_name(directory, who.actor_id)} 撤销了代理 {code}，即时生效。",
                f"{who.actor_id} cancelled substitution {code}; it ends now.",
            ),
            now,
        )
        uow.commit()
    return cancelled


def list_substitutions(app: App, *, person: str | None = None, on: date | None = None) -> list[SubstitutionView]:
    """Every substitution (or one person's); ``in_force`` now, or at the end of the day ``on`` (a past day reads
    as it did then: a cancellation after it does not reach back)."""
    now, today = _today(app)
    with app.uow(write=False) as uow:
        org = cached_org(app, uow)
        pid = resolve_person(org, person) if person else None
        found = uow.substitutions.listing(pid)
        names = {p: n for p, (n, _u, _r) in org.people().items()}
    if on is not None:
        from .report import end_of_day  # imported here: the circular's module is heavy, and only this needs it

        at, day = end_of_day(on, app.tz), on
        found = [s for s in found if s.requested_at <= at]
    else:
        at, day = now, today
    return [
        SubstitutionView(
            s, names.get(s.absent_id, s.absent_id), names.get(s.substitute_id, s.substitute_id), s.in_force(at, day)
        )
        for s in found
    ]


# --- standing in: acting, the inbox, notifications ------------------------------------------------------


def standing_in(app: App, uow: UnitOfWork, substitute: str, absent: str) -> Substitution:
    """The substitution letting ``substitute`` act for ``absent`` now; refused with one line otherwise."""
    now, today = _today(app)
    for s in uow.outbox.substitutes_on(today):
        if s.absent_id == absent and s.substitute_id == substitute and s.in_force(now, today):
            return s
    if uow.tasks.actor(absent) is None:
        raise UnknownPerson(person=absent, near="")
    raise NotStandingIn(person=substitute, absent=absent, day=today.isoformat())


def standing_for(app: App, uow: UnitOfWork, substitute: str) -> list[Substitution]:
    """Whom ``substitute`` stands in for now: their inbox shows those people's work too."""
    now, today = _today(app)
    return [s for s in uow.outbox.substitutes_on(today) if s.substitute_id == substitute and s.in_force(now, today)]


_IN_FORCE: WeakKeyDictionary[OutboxRepository, tuple[date, dict[str, Substitution]]] = WeakKeyDictionary()


def redirect(
    app: App, outbox: OutboxRepository, directory: Directory, people: list[Contact], now: datetime
) -> list[tuple[Contact, str | None]]:
    """Each recipient, or their substitute while one stands in (with the absent person's name to say so).

    Read once per unit of work (a sweep batch is one), so a thousand notices cost one query.
    """
    day = now.astimezone(app.tz).date()
    held = _IN_FORCE.get(outbox)
    if held is None or held[0] != day:
        held = (day, stand_ins(outbox.substitutes_on(day), now, day))
        _IN_FORCE[outbox] = held
    in_force = {a: s for a, s in held[1].items() if s.in_force(now, day)}
    if not in_force:
        return [(p, None) for p in people]
    out: list[tuple[Contact, str | None]] = []
    seen: set[str] = set()
    for p in people:
        s = in_force.get(p.id)
        target, absent = p, None
        if s is not None and s.substitute_id in directory.people:
            target, absent = directory.people[s.substitute_id], p.name
        if target.id not in seen:
            seen.add(target.id)
            out.append((target, absent))
    return out


def _tell(
    app: App,
    outbox: OutboxRepository,
    directory: Directory,
    people: list[Contact],
    key: str,
    subject: Bilingual,
    body: Bilingual,
    now: datetime,
) -> None:
    lang = app.settings.notify_lang
    for person in people:
        for channel in directory.channels_of(person, app.settings.channels):
            outbox.add(
                OutgoingNotice(
                    dedup_key=f"substitution:{key}:{person.id}:{channel}",
                    task_id=None,
                    rule="substitution",
                    level=0,
                    recipient_id=person.id,
                    channel=channel,
                    address=directory.address(person, channel),
                    subject=subject.pick(lang),
                    body=body.pick(lang),
                ),
                now,
            )


# --- the web workspace: a signed-in substitute's steps on a task page -------------------------------------

# Steps with a form of their own (progress, extension, transfer, verification) are taken at a terminal with --for.
PLAIN_STEPS = frozenset(
    {"start", "submit", "approve", "reject", "close", "reopen", "cancel", "return", "insist", "suspend", "resume"}
)


@dataclass(frozen=True)
class StandInSteps:
    """On a task page: the steps its viewer may take for someone they stand in for now."""

    substitution: str
    absent_id: str
    absent_name: str
    steps: list[str]
    labels: dict[str, Bilingual]


def steps_standing_in(app: App, person_id: str, code: str) -> list[StandInSteps]:
    from .visibility import may_see_task, visible_task  # imported here: visibility reads through queries

    with app.uow(write=False) as uow:
        covering = standing_for(app, uow, person_id)
        names = {p: n for p, (n, _u, _r) in cached_org(app, uow).people().items()} if covering else {}
    found: list[StandInSteps] = []
    for s in covering:
        if not may_see_task(app, s.absent_id, code):
            continue
        detail = visible_task(app, s.absent_id, code)
        steps = [t for t in detail.allowed if t in PLAIN_STEPS]
        if not steps:
            continue
        spec = app.registry.find(detail.summary.workflow)
        labels = {t: spec.trigger_label(t) if spec else Bilingual(t, t) for t in steps}
        found.append(StandInSteps(s.code, s.absent_id, names.get(s.absent_id, s.absent_id), steps, labels))
    return found


def may_see_standing_in(app: App, person_id: str, code: str) -> bool:
    """A substitute sees the tasks of the person they stand in for, for the days they do."""
    from .visibility import may_see_task

    with app.uow(write=False) as uow:
        covering = standing_for(app, uow, person_id)
    return any(may_see_task(app, s.absent_id, code) for s in covering)


def step_for(
    app: App,
    person_id: str,
    absent_id: str,
    code: str,
    trigger: str,
    comment: str | None,
    if_version: int | None,
) -> FireResult:
    """A step the signed-in substitute takes for the absent person: checked and recorded as with --for."""
    from .identity import standing_in_for
    from .steps import take_step_unchecked
    from .visibility import may_see_task

    if trigger not in PLAIN_STEPS or not may_see_task(app, absent_id, code):
        from ..domain.errors import UnknownTask

        raise UnknownTask(code=code)
    with standing_in_for(absent_id):
        return take_step_unchecked(app, person_id, code, trigger, comment, if_version)
