"""Proving the history: verify the chains, anchor the chain's head, read who did what (refusals included).

Verification streams the events in two orders (per task, and the chain's
own) so memory stays flat however long the history. An anchor is the head
signed with ``DUBAN_AUDIT_KEY``, a secret the database never sees: someone able
to rewrite the whole database could recompute every hash, but not the
signature of an anchor taken before.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from ..app import App
from ..domain.audit import GENESIS, Anchor, Break, ChainWalk, EventFacts, StoredEvent, compare_projection, verify_tasks
from ..domain.errors import AnchorForged, BadFile, InvalidInput
from ..domain.text import Bilingual
from ..persistence.binding import content_of, row_facts_of
from ..persistence.types import decode_date, decode_instant
from .accountability import accountability_policy

KEY_SETTING = "DUBAN_AUDIT_KEY"
MIN_KEY = 16


@dataclass
class Verdict:
    tasks: int = 0
    events: int = 0
    breaks: list[Break] = field(default_factory=list)
    anchor_checked: bool = False

    @property
    def ok(self) -> bool:
        return not self.breaks


def _stored(row: Any) -> StoredEvent:
    facts = EventFacts(
        row.code,
        row.seq,
        row.trigger,
        row.from_state,
        row.to_state,
        row.actor_id,
        row.operator_id,
        row.comment,
        decode_instant(row.at),
        row.data,
        row.deadline,
        account=row.account,
        row=row.row_facts,
        via=row.via,
    )
    return StoredEvent(facts, row.hash, row.chain_seq, row.chain_hash)


@dataclass(slots=True)
class _Seen:
    """What the walk over a task's events leaves for the comparison with its row."""

    count: int
    first_at: datetime
    last_hash: str
    state: str
    deadline: date | None
    row: dict[str, Any] | None


def verify(app: App, campaign: str | None = None, anchor: Anchor | None = None) -> Verdict:
    """Every task's chain and the row people read, the progress reports, the organisation and settings,
    the chain over all of it with who wrote each entry, its head, and the anchor if given."""
    verdict = Verdict()
    with app.uow(write=False) as uow:
        reads = uow.audit
        seen: dict[str, _Seen] = {}
        progress_events: set[tuple[str, int]] = set()
        unit_copies: list[Break] = []

        def counting() -> Iterator[StoredEvent]:
            for row in reads.events_by_task(campaign):
                verdict.events += 1
                stored = _stored(row)
                f = stored.facts
                if row.unit_id is not None and (not isinstance(f.row, dict) or f.row.get("unit") != row.unit_id):
                    # the as-of circular reads this copy of the bound unit: it must say what the event binds
                    unit_copies.append(
                        Break(f.task, f.seq, row.chain_seq, "its unit differs from the unit its row facts bind")
                    )
                was = seen.get(f.task)
                seen[f.task] = _Seen(
                    count=(was.count if was else 0) + 1,
                    first_at=was.first_at if was else f.at,
                    last_hash=stored.hash,
                    state=f.to_state,
                    deadline=decode_date(f.deadline),
                    row=f.row,
                )
                if isinstance(f.data, dict) and "percent" in f.data:
                    progress_events.add((f.task, f.seq))
                yield stored

        verdict.breaks += verify_tasks(counting())
        verdict.breaks += unit_copies
        broken = {b.code for b in verdict.breaks}
        baselines = {r.subject: r.body for r in reads.records_of("task")}
        co_units = reads.co_units()
        for task in reads.tasks(campaign):
            verdict.tasks += 1
            if task.code not in broken:
                found = _row_break(task, seen.get(task.code), baselines.get(task.code), co_units.get(task.id, ()))
                if found is not None:
                    verdict.breaks.append(found)
        verdict.breaks += _progress_breaks(reads, campaign, progress_events)

        walk = ChainWalk(zone=app.tz, accountability=accountability_policy(app))
        for r in reads.chain():
            walk.entry(
                chain_seq=r.chain_seq,
                hash=r.hash,
                chained=r.chain_hash,
                kind=r.kind,
                subject=r.subject,
                seq=r.seq,
                at=decode_instant(r.at),
                account=r.account,
                actor_id=r.actor_id,
                operator_id=r.operator_id,
                body=json.loads(r.body) if isinstance(r.body, str) else r.body,
                via=r.via,
            )
        verdict.breaks += walk.breaks
        for kind, now in uow.records.projections().items():
            verdict.breaks += compare_projection(kind, walk.projections[kind], now)
        last_seq, last_hash = walk.last
        if walk.chain_broken:  # the walk's last entry is still the last by position
            last_seq, last_hash = reads.last_entry() or (0, GENESIS)
        head = reads.head()
        if head is None or head != (last_seq, last_hash):
            verdict.breaks.append(
                Break(
                    None,
                    None,
                    last_seq,
                    "the chain head does not match the last entry (entries removed at the end)",
                    "链头与最后一条记录不符（末尾有记录被删除）",
                )
            )
        if anchor is not None:
            verdict.anchor_checked = True
            at = reads.entry_hash(anchor.chain_seq)
            if at is None:
                verdict.breaks.append(
                    Break(
                        None,
                        None,
                        anchor.chain_seq,
                        "the anchored entry is gone (the history was cut short)",
                        "锚点所指的记录已不存在（历史被截短）",
                    )
                )
            elif at != anchor.chain_hash:
                verdict.breaks.append(
                    Break(
                        None,
                        None,
                        anchor.chain_seq,
                        "the chain differs from the anchor (the history was rewritten)",
                        "哈希链与锚点不符（历史被改写）",
                    )
                )
    return verdict


def _row_break(task: Any, seen: _Seen | None, baseline: dict[str, Any] | None, co_units: Any) -> Break | None:
    """The task's row against its replayed history: what ``show``, ``list`` and the circular read."""
    have = seen.count if seen else 0
    if have != task.version:
        return Break(
            task.code,
            have + 1,
            None,
            f"the task is at version {task.version} but its history has {have} events",
            f"任务版本为 {task.version}，但其历史只有 {have} 条事件",
        )
    assert seen is not None
    if (task.head_hash or GENESIS) != seen.last_hash:
        return Break(
            task.code,
            task.version,
            None,
            "the task's record of its last event does not match",
            "任务所记的最后一条事件与历史不符",
        )
    bound = seen.row
    expected_state, expected_deadline = seen.state, seen.deadline
    if bound is None and baseline is not None:  # last moved before rows were bound: the upgrade's baseline
        bound = baseline.get("row")
    differs = []
    if task.state != expected_state:
        differs.append(f"state ({task.state}, history: {expected_state})")
    if decode_date(task.deadline) != expected_deadline:
        differs.append(f"deadline ({task.deadline}, history: {expected_deadline})")
    if task.created_at != seen.first_at:
        differs.append("created_at")
    if bound is None:
        differs.append("its row is bound to no event or baseline")
    else:
        content = content_of(_columns(task), co_units).digest()
        now = row_facts_of(_columns(task), content).to_json()
        names = {"content": "title or content", "unit": "unit", "leader": "lead leader"}
        keys = list(now) + [k for k in bound if k not in now]  # a fact bound but gone from the row counts too
        differs += [names.get(k, k.replace("_", " ")) for k in keys if now.get(k) != bound.get(k)]
    if not differs:
        return None
    return Break(
        task.code,
        task.version,
        None,
        f"the task's row differs from its history: {', '.join(differs)}",
        f"任务数据与其历史不符：{'、'.join(differs)}",
    )


def _columns(task: Any) -> Any:
    return task._mapping


def _progress_breaks(reads: Any, campaign: str | None, progress_events: set[tuple[str, int]]) -> list[Break]:
    """Each progress report and its evidence against the event that recorded it, and no such event without one."""
    breaks = []
    evidence = reads.evidence()
    for r in reads.progress(campaign):
        progress_events.discard((r.code, r.event_seq))
        data = r.event_data if isinstance(r.event_data, dict) else None
        if data is None or "percent" not in data:
            breaks.append(
                Break(
                    r.code,
                    r.event_seq,
                    None,
                    "a progress report has no event recording it (added)",
                    "有一条进展报送没有对应的事件（被添加）",
                )
            )
            continue
        differs = []
        if r.percent != data.get("percent"):
            differs.append("percent")
        if r.note != str(data.get("note") or "").strip():
            differs.append("note")
        if r.actor_id != r.event_actor:
            differs.append("who reported")
        if decode_instant(r.at) != decode_instant(r.event_at):
            differs.append("when")
        files = sorted(evidence.get(r.id, []))
        if "files" in data:
            recorded = sorted((f["sha256"], f["size"], f["name"]) for f in data["files"])
            if files != recorded:
                differs.append("evidence files")
        elif sorted(f[0] for f in files) != sorted(data.get("evidence") or []):
            differs.append("evidence files")
        if differs:
            breaks.append(
                Break(
                    r.code,
                    r.event_seq,
                    None,
                    f"the progress report differs from its event: {', '.join(differs)}",
                    f"进展报送与其事件不符：{'、'.join(differs)}",
                )
            )
    for code, seq in sorted(progress_events):
        breaks.append(
            Break(
                code,
                seq,
                None,
                "the progress report this event recorded is missing (deleted)",
                "此事件所记的进展报送已不存在（被删除）",
            )
        )
    return breaks


def audit_key(app: App) -> bytes:
    key = app.settings.extra.get(KEY_SETTING, "")
    if len(key) < MIN_KEY:
        raise InvalidInput(
            what=KEY_SETTING,
            detail=Bilingual(
                f"请在环境变量或 DUBAN_CONFIG 文件中设置 {KEY_SETTING}（至少 {MIN_KEY} 个字符）；密钥不要与数据库放在一起",
                f"set {KEY_SETTING} (at least {MIN_KEY} characters) in the environment or the DUBAN_CONFIG file; "
                "keep it away from the database",
            ),
        )
    return key.encode("utf-8")


def take_anchor(app: App, *, store: bool = False) -> Anchor:
    """The head signed now; ``store`` keeps it in the workspace too, where ``verify --since-anchor`` finds it."""
    key = audit_key(app)
    with app.uow(write=store) as uow:
        head = uow.audit.head()
        assert head is not None  # created with the schema
        anchor = Anchor(head[0], head[1], uow.audit.entries(), app.clock.now()).signed(key)
        if store:
            uow.audit.store_anchor(anchor.chain_seq, anchor.chain_hash, anchor.events, anchor.at, anchor.mac)
            uow.commit()
    return anchor


def anchor_if_due(app: App, every: timedelta) -> Anchor | None:
    """What the beat runs each tick: with DUBAN_AUDIT_KEY set, a stored anchor once ``every`` has passed since
    the last one and the head has moved. Without a key there is nothing to sign with, so nothing is done."""
    if len(app.settings.extra.get(KEY_SETTING, "")) < MIN_KEY:
        return None
    with app.uow(write=False) as uow:
        last = uow.audit.latest_anchor()
        head = uow.audit.head()
    if last is not None and head is not None and (last.chain_seq == head[0] or app.clock.now() - last.at < every):
        return None
    return take_anchor(app, store=True)


def latest_anchor(app: App) -> Anchor:
    """The latest anchor the workspace keeps, its signature checked: a database writer cannot make one."""
    key = audit_key(app)
    with app.uow(write=False) as uow:
        stored = uow.audit.latest_anchor()
    if stored is None:
        raise InvalidInput(
            what="--since-anchor",
            detail=Bilingual(
                "此工作区尚未保存锚点；设置 DUBAN_AUDIT_KEY 后，定时任务每隔 DUBAN_ANCHOR_SECONDS 秒生成一个，"
                "或执行 'duban audit anchor --store'",
                "this workspace keeps no anchor yet; the beat takes one every DUBAN_ANCHOR_SECONDS "
                "when DUBAN_AUDIT_KEY is set, or run duban audit anchor --store",
            ),
        )
    anchor = Anchor(stored.chain_seq, stored.chain_hash, stored.entries, stored.at, stored.mac)
    if not anchor.genuine(key):
        raise AnchorForged(at=anchor.at.isoformat(), seq=anchor.chain_seq)
    return anchor


def read_anchor(app: App, path: Path) -> Anchor:
    try:
        anchor = Anchor.from_json(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise BadFile(path, Bilingual("锚点文件不存在", "no such anchor file")) from None
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise BadFile(
            path,
            Bilingual(
                f"不是督办系统的锚点文件（“{exc.__class__.__name__}: {exc}”）；请给出 'duban audit anchor' 生成的文件",
                f"is not a duban anchor ({exc.__class__.__name__}: {exc})",
            ),
        ) from None
    if not anchor.genuine(audit_key(app)):
        raise BadFile(
            path,
            Bilingual(
                "签名不符：锚点文件被改动过，或 DUBAN_AUDIT_KEY 不是生成它时的密钥",
                "its signature does not match: it was altered, or DUBAN_AUDIT_KEY is not the one it was made with",
            ),
        )
    return anchor


# --- refusals and the log -----------------------------------------------------------------------


@dataclass(frozen=True)
class LogEntry:
    at: datetime
    actor: str | None
    operator: str | None
    action: str
    task: str | None
    outcome: str  # done, or refused
    detail: str | None
    order: int = 0  # its place on the chain: ties of the same instant come newest first


def audit_log(
    app: App,
    actor: str | None = None,
    task: str | None = None,
    since: datetime | None = None,
    limit: int = 200,
) -> list[LogEntry]:
    """Steps and refusals, newest first: both are on the chain, so neither can quietly go missing."""
    with app.uow(write=False) as uow:
        done = uow.audit.log_events(actor, task, since, limit)
        refused = uow.audit.log_refusals(task, since)
    out = [
        LogEntry(
            at=decode_instant(r.at),
            actor=r.actor_id,
            operator=r.operator_id,
            action=r.trigger,
            task=r.code,
            outcome="done",
            detail=r.comment,
            order=r.chain_seq,
        )
        for r in done
    ]
    for r in refused:
        body = r.body or {}
        if actor and body.get("actor") != actor:
            continue
        out.append(
            LogEntry(
                at=decode_instant(r.at),
                actor=body.get("actor"),
                operator=body.get("operator"),
                action=str(body.get("action")),
                task=r.subject or None,
                outcome="refused",
                detail=body.get("reason"),
                order=r.chain_seq,
            )
        )
    out.sort(key=lambda e: (e.at, e.order), reverse=True)
    return out[:limit]
