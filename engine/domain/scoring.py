"""Scoring (考核评分): a policy as YAML data, and each unit's score with every point accounted for.

The policy says what each fact is worth: a task closed on time, a working day
overdue, the escalation level reached, a late progress report, a task sent back
at review, an accountability record (问责); caps per rule, a floor and a ceiling,
weights by task priority and the bands a score falls in (优秀/良好/合格/不合格).
The facts arrive per task, already replayed for the as-of date by the store, so
the same date gives the same score next year. Every point is an ``Item`` naming
its task and rule; caps and the floor are items too, so a breakdown always adds
up to the score. Decimal arithmetic: 0.1 + 0.2 is 0.3 in a leader's eyes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .errors import BadFile
from .text import Bilingual
from .yamlload import load_yaml_file

# The rules a policy may state, in the order a breakdown lists them.
RULES: tuple[str, ...] = (
    "closed_on_time",
    "overdue_working_day",
    "escalation",
    "late_progress",
    "sent_back",
    "accountability",
    "late_reply",
)
RULE_LABELS: dict[str, tuple[str, str]] = {
    "closed_on_time": ("按期销号", "closed on time"),
    "overdue_working_day": ("逾期工作日", "working days overdue"),
    "escalation": ("督办层级", "escalation level reached"),
    "late_progress": ("进展迟报漏报", "late or missing progress report"),
    "sent_back": ("验收退回", "sent back at review"),
    "accountability": ("问责", "accountability record"),
    "late_reply": ("督办单迟复", "late reply to a supervision notice"),
    "cap": ("封顶", "cap"),
    "floor": ("保底", "floor"),
    "ceiling": ("上限", "ceiling"),
}
_ORDER = {name: n for n, name in enumerate(RULES)}
_TOP_KEYS = {"name", "version", "campaign", "workflows", "base", "floor", "ceiling", "weights", "rules", "bands"}
_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Rule:
    """Points per occurrence (positive: earned; deductions are written as positive numbers and subtracted)."""

    points: Decimal
    cap: Decimal | None = None  # the most this rule can move one unit's score, either way
    per_level: dict[int, Decimal] = field(default_factory=dict)  # escalation: points by the highest level reached
    per_kind: dict[str, Decimal] = field(default_factory=dict)  # accountability: points by kind of record
    triggers: tuple[str, ...] = ()  # sent_back / late_progress: the workflow triggers that count
    after_days: int = 14  # late_progress: days allowed between progress reports


@dataclass(frozen=True, slots=True)
class Band:
    """Scores in [low, below): ``low`` None is no lower bound, ``below`` None no upper bound."""

    name: str
    low: Decimal | None
    below: Decimal | None

    def holds(self, score: Decimal) -> bool:
        return (self.low is None or score >= self.low) and (self.below is None or score < self.below)


@dataclass(frozen=True, slots=True)
class ScoringPolicy:
    name: str
    version: str
    digest: str  # sha256 of the policy's canonical content: a past circular names the exact rules it used
    base: Decimal
    rules: dict[str, Rule]
    bands: tuple[Band, ...]
    weights: dict[str, Decimal]
    campaign: str | None = None
    workflows: tuple[str, ...] = ("rectification",)
    floor: Decimal | None = None
    ceiling: Decimal | None = None
    source: dict[str, Any] = field(default_factory=dict)  # the policy as written, kept with each circular

    def weight(self, priority: str | None) -> Decimal:
        return self.weights.get(priority or "", Decimal(1))

    def band(self, score: Decimal) -> str | None:
        return next((b.name for b in self.bands if b.holds(score)), None)

    def label(self) -> str:
        return f"{self.name} v{self.version} ({self.digest[:12]})"


# --- loading --------------------------------------------------------------------------------------------


def load_policies(path: Path) -> list[ScoringPolicy]:
    return parse_policies(load_yaml_file(path), path)


def parse_policies(doc: Any, source: object) -> list[ScoringPolicy]:
    """``scoring:`` a list of policies: at most one without a campaign (the default), one per campaign."""

    def fail(key: str, detail: Bilingual) -> BadFile:
        return BadFile(source, detail, key=key)

    if not isinstance(doc, dict) or not isinstance(doc.get("scoring"), list) or not doc["scoring"]:
        raise fail(
            "scoring",
            Bilingual("应在 scoring: 之下列出评分办法", "expected a list of scoring policies under 'scoring:'"),
        )
    extra = sorted(set(map(str, doc)) - {"scoring"})
    if extra:
        raise fail(extra[0], Bilingual("无此键（本文件只含 scoring:）", "unknown key (the file holds 'scoring:' only)"))
    out: list[ScoringPolicy] = []
    campaigns: set[str | None] = set()
    for i, raw in enumerate(doc["scoring"]):
        policy = parse_policy(raw, f"scoring[{i}]", fail)
        if policy.campaign in campaigns:
            which = f"campaign '{policy.campaign}'" if policy.campaign else "every campaign (no campaign: key)"
            which_zh = f"专项“{policy.campaign}”" if policy.campaign else "所有专项（不带 campaign: 键）"
            raise fail(
                f"scoring[{i}].campaign",
                Bilingual(f"{which_zh}有两个评分办法；请只保留一个", f"a second policy for {which}; keep one"),
            )
        campaigns.add(policy.campaign)
        out.append(policy)
    return out


def _number(value: Any, key: str, fail: Any, *, minimum: Decimal | None = Decimal(0)) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise fail(key, Bilingual(f"应为数字，实为 {value!r}", f"expected a number, found {value!r}"))
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise fail(key, Bilingual(f"应为数字，实为 {value!r}", f"expected a number, found {value!r}")) from None
    if not number.is_finite() or (minimum is not None and number < minimum):
        raise fail(
            key,
            Bilingual(f"应为不小于 {minimum} 的数，实为 {value!r}", f"expected a number ≥ {minimum}, found {value!r}"),
        )
    return number


def _mapping(value: Any, key: str, fail: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise fail(key, Bilingual("应为映射（键: 值）", "expected a mapping"))
    extra = sorted(set(map(str, value)) - allowed)
    if extra:
        raise fail(
            f"{key}.{extra[0]}",
            Bilingual(
                f"无此键（可用：{'、'.join(sorted(allowed))}）", f"unknown key (allowed: {', '.join(sorted(allowed))})"
            ),
        )
    return value


def parse_policy(raw: Any, key: str, fail: Any) -> ScoringPolicy:
    raw = _mapping(raw, key, fail, _TOP_KEYS)
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise fail(
            f"{key}.name",
            Bilingual(
                "必须填写评分办法的名称，如 2026年度整改考核", "is required: the policy's name, e.g. 2026年度整改考核"
            ),
        )
    version = raw.get("version")
    if isinstance(version, bool) or not isinstance(version, (int, str)) or not str(version).strip():
        raise fail(
            f"{key}.version",
            Bilingual(
                "必须填写版本号，规则每次修改都须调高，如 1、2 或 2026-1",
                "is required: raise it whenever the rules change, e.g. 1, 2 or 2026-1",
            ),
        )
    campaign = raw.get("campaign")
    if campaign is not None and (not isinstance(campaign, str) or not campaign.strip()):
        raise fail(f"{key}.campaign", Bilingual("应为整改专项的名称", "expected the campaign's name"))
    workflows = raw.get("workflows", ["rectification"])
    if not isinstance(workflows, list) or not workflows or not all(isinstance(w, str) for w in workflows):
        raise fail(
            f"{key}.workflows",
            Bilingual(
                "应为流程名称列表，如 [rectification]", "expected a list of workflow names, e.g. [rectification]"
            ),
        )
    base = _number(raw.get("base", 100), f"{key}.base", fail)
    floor = _number(raw["floor"], f"{key}.floor", fail, minimum=None) if raw.get("floor") is not None else None
    ceiling = _number(raw["ceiling"], f"{key}.ceiling", fail, minimum=None) if raw.get("ceiling") is not None else None
    if floor is not None and ceiling is not None and floor > ceiling:
        raise fail(
            f"{key}.floor", Bilingual(f"下限 {floor} 高于上限 {ceiling}", f"{floor} is above the ceiling {ceiling}")
        )
    weights_raw = raw.get("weights", {}) or {}
    if not isinstance(weights_raw, dict):
        raise fail(
            f"{key}.weights",
            Bilingual(
                "应为各优先级及其权重，如 {高: 1.5, 中: 1, 低: 0.5}",
                "expected priorities and their weights, e.g. {高: 1.5, 中: 1, 低: 0.5}",
            ),
        )
    weights = {str(k): _number(v, f"{key}.weights.{k}", fail) for k, v in weights_raw.items()}
    rules = _rules(raw.get("rules"), f"{key}.rules", fail)
    bands = _bands(raw.get("bands"), f"{key}.bands", fail)
    source = json.loads(json.dumps(raw, ensure_ascii=False, default=str))
    digest = hashlib.sha256(json.dumps(source, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()
    return ScoringPolicy(
        name=name.strip(),
        version=str(version).strip(),
        digest=digest,
        base=base,
        rules=rules,
        bands=bands,
        weights=weights,
        campaign=campaign.strip() if campaign else None,
        workflows=tuple(workflows),
        floor=floor,
        ceiling=ceiling,
        source=source,
    )


def _rules(raw: Any, key: str, fail: Any) -> dict[str, Rule]:
    raw = _mapping(raw if raw is not None else {}, key, fail, set(RULES))
    out: dict[str, Rule] = {}
    for name, body in raw.items():
        k = f"{key}.{name}"
        allowed = {"points", "cap"}
        if name == "escalation":
            allowed = {"levels", "cap"}
        elif name == "accountability":
            allowed = {"kinds", "cap"}
        elif name == "sent_back":
            allowed |= {"triggers"}
        elif name == "late_progress":
            allowed |= {"triggers", "after_days"}
        body = _mapping(body, k, fail, allowed)
        cap = _number(body["cap"], f"{k}.cap", fail) if body.get("cap") is not None else None
        per_level: dict[int, Decimal] = {}
        per_kind: dict[str, Decimal] = {}
        if name == "escalation":
            levels = body.get("levels")
            if not isinstance(levels, dict) or not levels:
                raise fail(
                    f"{k}.levels",
                    Bilingual(
                        "应为各督办级别的扣分，如 {1: 1, 2: 3, 3: 5}",
                        "expected points by level, e.g. {1: 1, 2: 3, 3: 5}",
                    ),
                )
            for level, pts in levels.items():
                if isinstance(level, bool) or not isinstance(level, int) or level < 1:
                    raise fail(
                        f"{k}.levels",
                        Bilingual(
                            f"'{level}' 不是督办级别（1、2、3 …）", f"'{level}' is not an escalation level (1, 2, 3 …)"
                        ),
                    )
                per_level[level] = _number(pts, f"{k}.levels.{level}", fail)
        elif name == "accountability":
            kinds = body.get("kinds")
            if not isinstance(kinds, dict) or not kinds:
                raise fail(
                    f"{k}.kinds",
                    Bilingual(
                        "应为各问责方式的扣分，如 {约谈: 2, 通报批评: 3}",
                        "expected points by kind, e.g. {约谈: 2, 通报批评: 3}",
                    ),
                )
            per_kind = {str(kind): _number(pts, f"{k}.kinds.{kind}", fail) for kind, pts in kinds.items()}
        elif "points" not in body:
            raise fail(f"{k}.points", Bilingual("必须填写", "is required"))
        triggers = body.get("triggers", ["reject"] if name == "sent_back" else ["progress"])
        if not isinstance(triggers, list) or not triggers or not all(isinstance(t, str) for t in triggers):
            raise fail(
                f"{k}.triggers",
                Bilingual("应为流程操作列表，如 [reject]", "expected a list of workflow triggers, e.g. [reject]"),
            )
        after = body.get("after_days", 14)
        if isinstance(after, bool) or not isinstance(after, int) or after < 1:
            raise fail(
                f"{k}.after_days",
                Bilingual(
                    f"应为不小于 1 的整数天数，实为 {after!r}", f"expected a whole number of days ≥ 1, found {after!r}"
                ),
            )
        points = _number(body["points"], f"{k}.points", fail) if "points" in body else Decimal(0)
        out[name] = Rule(points, cap, per_level, per_kind, tuple(triggers), after)
    return out


def _bands(raw: Any, key: str, fail: Any) -> tuple[Band, ...]:
    """Each band [from, below); two bands that share a score are refused, as are scores no band holds."""
    if not isinstance(raw, list) or not raw:
        raise fail(
            key,
            Bilingual(
                "应为等次列表，如 [{name: 优秀, from: 90}, {name: 良好, from: 80, below: 90}]",
                "expected a list of bands, e.g. [{name: 优秀, from: 90}, {name: 良好, from: 80, below: 90}]",
            ),
        )
    bands: list[Band] = []
    for i, item in enumerate(raw):
        k = f"{key}[{i}]"
        item = _mapping(item, k, fail, {"name", "from", "below"})
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise fail(f"{k}.name", Bilingual("必须填写，如 优秀", "is required, e.g. 优秀"))
        low = _number(item["from"], f"{k}.from", fail, minimum=None) if item.get("from") is not None else None
        below = _number(item["below"], f"{k}.below", fail, minimum=None) if item.get("below") is not None else None
        if low is not None and below is not None and low >= below:
            raise fail(f"{k}.below", Bilingual(f"{below} 不高于 from: {low}", f"{below} is not above from: {low}"))
        if any(b.name == name.strip() for b in bands):
            raise fail(f"{k}.name", Bilingual(f"'{name}' 重复使用；等次名称须唯一", f"'{name}' is used twice"))
        bands.append(Band(name.strip(), low, below))
    ordered = sorted(bands, key=lambda b: Decimal("-Infinity") if b.low is None else b.low)
    for a, b in zip(ordered, ordered[1:], strict=False):
        where = f"{key}[{bands.index(b)}]"
        if a.below is None or b.low is None or a.below > b.low:
            raise fail(
                where,
                Bilingual(
                    f"等次“{b.name}”与“{a.name}”的分数段重叠；每个分数只能落在一个等次",
                    f"band '{b.name}' overlaps band '{a.name}'; each score must fall in one band only",
                ),
            )
        if a.below < b.low:
            raise fail(
                where,
                Bilingual(
                    f"{a.below} 到 {b.low} 分（“{a.name}”与“{b.name}”之间）不属于任何等次",
                    f"no band holds scores from {a.below} to {b.low} (between '{a.name}' and '{b.name}')",
                ),
            )
    if ordered[0].low is not None or ordered[-1].below is not None:
        raise fail(
            key,
            Bilingual(
                "最低等次不写 from、最高等次不写 below，使每个分数都有等次",
                "the lowest band needs no 'from' and the highest no 'below', so every score has a band",
            ),
        )
    return tuple(sorted(bands, key=lambda b: Decimal("Infinity") if b.low is None else -b.low))


# --- the facts and the arithmetic -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TaskFacts:
    """One task as it stood on the as-of date, as the store replayed it."""

    code: str
    unit: str
    priority: str | None
    closed_on_time: bool  # in a closed state, closed by its original deadline
    working_days_overdue: int  # open: past the deadline in force; closed: how late it closed (0 if on time)
    escalation_level: int  # the highest level the deadline policy reached (open: now; closed: when it closed)
    sent_back: int  # returns at review up to the date
    late_reports: int  # progress reports that came late, and the one missing now
    accountability: tuple[tuple[str, str], ...] = ()  # (record id, kind) opened by the date
    late_replies: int = 0  # supervision notices replied to after their reply-by day, or unanswered past it


@dataclass(frozen=True, slots=True)
class Item:
    """One line of a breakdown: which task (None for a cap or the floor), which rule, how many points."""

    task: str | None
    rule: str
    points: Decimal
    detail: str


@dataclass(frozen=True, slots=True)
class UnitScore:
    unit: str
    score: Decimal
    band: str | None
    rank: int
    tasks: int
    items: tuple[Item, ...]

    def by_rule(self) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for item in self.items:
            out[item.rule] = out.get(item.rule, Decimal(0)) + item.points
        return out


def _q(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


Memo = dict[tuple[str, str | None, object], tuple[Decimal, str] | None]


def task_items(policy: ScoringPolicy, t: TaskFacts, memo: Memo | None = None) -> list[Item]:
    """Every point one task earns or loses, weighted by its priority.

    ``memo`` keeps each (rule, priority, count) worked out once: a million tasks share a few hundred of them.
    """
    memo = {} if memo is None else memo
    out: list[Item] = []
    code, priority = t.code, t.priority
    for rule, count in (
        ("closed_on_time", 1 if t.closed_on_time else 0),
        ("overdue_working_day", t.working_days_overdue),
        ("escalation", t.escalation_level),
        ("late_progress", t.late_reports),
        ("sent_back", t.sent_back),
        ("late_reply", t.late_replies),
    ):
        if not count:
            continue
        key = (rule, priority, count)
        if key not in memo:
            memo[key] = _worked_out(policy, rule, priority, count)
        found = memo[key]
        if found is not None:
            out.append(Item(code, rule, found[0], found[1]))
    counted = policy.rules.get("accountability")
    for record, kind in t.accountability:
        points = counted.per_kind.get(kind, Decimal(0)) if counted else Decimal(0)
        if points:
            w = policy.weight(priority)
            out.append(Item(code, "accountability", _q(-points * w), f"{record} {kind}" + _times(w)))
    return out


def _times(w: Decimal) -> str:
    return f" ×{w.normalize()}" if w != 1 else ""


def _worked_out(
    policy: ScoringPolicy, rule_name: str, priority: str | None, count: object
) -> tuple[Decimal, str] | None:
    """The points and the words of one rule for so many occurrences at one priority; None: nothing to count."""
    rule = policy.rules.get(rule_name)
    if rule is None:
        return None
    n = int(count)  # type: ignore[call-overload]
    if rule_name == "escalation":
        reached = max((lv for lv in rule.per_level if lv <= n), default=None)
        if reached is None:
            return None
        points, detail = -rule.per_level[reached], f"level {n}"
    elif rule_name == "closed_on_time":
        points, detail = rule.points, "closed by the deadline"
    else:
        words = {
            "overdue_working_day": "working days",
            "late_progress": "late",
            "sent_back": "returned",
            "late_reply": "notices replied late",
        }[rule_name]
        points, detail = -rule.points * n, f"{n} {words}"
    if not points:
        return None
    w = policy.weight(priority)
    return _q(points * w), detail + _times(w)


def score_units(policy: ScoringPolicy, facts: Iterable[TaskFacts]) -> list[UnitScore]:
    """Each unit's score: base, plus every task's items, each rule held to its cap, then floor and ceiling.

    Ranked by score, highest first; equal scores share a rank (1, 1, 3).
    """
    items: dict[str, list[Item]] = {}
    counts: dict[str, int] = {}
    memo: Memo = {}
    for t in facts:
        counts[t.unit] = counts.get(t.unit, 0) + 1
        found = task_items(policy, t, memo)
        if found:
            items.setdefault(t.unit, []).extend(found)
    scored: list[tuple[str, Decimal, list[Item]]] = []
    for unit in counts:
        lines = sorted(items.get(unit, []), key=lambda i: (i.task or "", _ORDER[i.rule]))  # stable on any store
        totals: dict[str, Decimal] = {}
        for i in lines:
            totals[i.rule] = totals.get(i.rule, Decimal(0)) + i.points
        for name in RULES:
            rule = policy.rules.get(name)
            if rule is None or rule.cap is None:
                continue
            total = totals.get(name, Decimal(0))
            if abs(total) > rule.cap:
                back = (rule.cap if total > 0 else -rule.cap) - total
                lines.append(Item(None, "cap", back, f"{name} capped at {rule.cap.normalize()}"))
        score = (
            policy.base
            + sum(totals.values(), Decimal(0))
            + sum((i.points for i in lines if i.rule == "cap"), Decimal(0))
        )
        if policy.floor is not None and score < policy.floor:
            lines.append(Item(None, "floor", policy.floor - score, f"not below {policy.floor.normalize()}"))
            score = policy.floor
        if policy.ceiling is not None and score > policy.ceiling:
            lines.append(Item(None, "ceiling", policy.ceiling - score, f"not above {policy.ceiling.normalize()}"))
            score = policy.ceiling
        scored.append((unit, _q(score), lines))
    scored.sort(key=lambda s: (-s[1], s[0]))
    out: list[UnitScore] = []
    rank, previous = 0, None
    for position, (unit, score, lines) in enumerate(scored, start=1):
        if score != previous:
            rank, previous = position, score
        out.append(UnitScore(unit, score, policy.band(score), rank, counts[unit], tuple(lines)))
    return out


# --- JSON, stored with a circular -----------------------------------------------------------------------


def number(value: Decimal) -> float | int:
    """A score as JSON holds it: 92.5, or 100 when whole."""
    q = _q(value)
    return int(q) if q == q.to_integral_value() else float(q)


def policy_dict(policy: ScoringPolicy) -> dict[str, Any]:
    return {"name": policy.name, "version": policy.version, "hash": policy.digest, "campaign": policy.campaign}


def scores_dict(policy: ScoringPolicy, scores: list[UnitScore], *, items: bool = True) -> dict[str, Any]:
    return {
        "policy": {**policy_dict(policy), "rules": policy.source},
        "units": [
            {
                "unit": s.unit,
                "rank": s.rank,
                "score": number(s.score),
                "band": s.band,
                "tasks": s.tasks,
                "by_rule": {k: number(v) for k, v in s.by_rule().items()},
                **(
                    {
                        "items": [
                            {"task": i.task, "rule": i.rule, "points": number(i.points), "detail": i.detail}
                            for i in s.items
                        ]
                    }
                    if items
                    else {}
                ),
            }
            for s in scores
        ],
    }


@dataclass(frozen=True, slots=True)
class ScoreLine:
    """A unit's line in a circular's ranking table, as stored: enough to render it again."""

    unit: str
    rank: int
    score: float | int
    band: str | None
    by_rule: dict[str, float | int]


@dataclass(frozen=True, slots=True)
class ScoreTable:
    policy: dict[str, Any]  # name, version, hash, campaign, and the rules as written
    lines: tuple[ScoreLine, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "units": [
                {"unit": s.unit, "rank": s.rank, "score": s.score, "band": s.band, "by_rule": s.by_rule}
                for s in self.lines
            ],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ScoreTable:
        return cls(
            dict(d["policy"]),
            tuple(
                ScoreLine(u["unit"], u["rank"], u["score"], u.get("band"), dict(u.get("by_rule", {})))
                for u in d["units"]
            ),
        )

    @classmethod
    def of(cls, policy: ScoringPolicy, scores: list[UnitScore]) -> ScoreTable:
        d = scores_dict(policy, scores, items=False)
        return cls.from_dict(d)
