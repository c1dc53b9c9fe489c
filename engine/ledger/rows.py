"""One ledger row → a typed LedgerRow, or every reason it cannot be imported.

Validation never stops at the first problem of a row or of a file: an office
fixing a ledger wants the whole list at once, each with its row number as the
sheet shows it and the column as the sheet heads it.

The organisation, the deadline reader and the workflow's field rules are
handed in (``RowContext``), so this module stays free of the database.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from ..domain.deadlines import Deadline, campaign_year
from ..domain.errors import DubanError
from ..domain.org import close_units, near
from ..domain.text import Bilingual
from ..domain.textcheck import check_text
from .cells import is_number, row_number, section_title, split_measures, split_units
from .headers import FIELD_PREFIX, Header, label
from .status import StatusVocabulary

TITLE_MAX = 100
_WHAT = {k: label(k).en.lower() for k in ("problem", "title", "campaign", "category", "unit", "note", "deadline")}


@dataclass(frozen=True, slots=True)
class RowError:
    row: int  # as the sheet numbers it
    column: str  # as the sheet heads it
    reason: Bilingual


@dataclass(frozen=True, slots=True)
class RawRow:
    row: int
    values: dict[str, str]  # field → cell text (non-empty cells only)
    section: str | None  # the section heading above it ("一、民生问题"), if any
    extra: tuple[tuple[str, str], ...] = ()  # (header, cell) of the columns no field was found for


@dataclass(slots=True)
class LedgerRow:
    """A valid row, kept small: 100,000 of them are held between validation and the write."""

    row: int
    key: str  # the source row key: importing the same file again adds nothing
    title: str | None  # None: derived from the problem (derive_title)
    problem: str | None  # None only where a title column names the task instead
    measures_json: str  # the measures as a JSON list, as stored: one string instead of a tuple of strings
    category: str | None
    campaign: str | None
    unit: str  # a unit name of the organisation, or one to be created
    co_units: tuple[str, ...]
    leader_id: str
    person_id: str | None
    deadline: date | None
    deadline_expr: str | None
    ongoing: bool
    priority: str | None
    state: str
    status_word: str | None  # the word the state was read from, as written
    note: str | None
    closed_on: date | None
    fields: dict[str, Any] | None
    code: str | None  # the 编号 column of an export: the task it came from
    assigned_on: date | None = None  # 交办日期, else --assigned-on, else the campaign's dates
    target: str | None = None  # 整改目标 / 销号标准
    ledger_columns: list[list[str]] | None = None  # [header, cell] of the other columns, in order
    flags: dict[str, Any] | None = None  # what the status word says besides the state: behind, percent, …
    source: str | None = None  # 问题来源, one of the workflow's sources
    source_ref: str | None = None
    source_date: date | None = None

    @property
    def measures(self) -> list[str]:
        return list(json.loads(self.measures_json))


@dataclass(frozen=True)
class OrgIndex:
    """The organisation as matching needs it."""

    units: Mapping[str, int]  # name → id
    people: Mapping[str, tuple[str, frozenset[str]]]  # id → (name, roles)
    aliases: Mapping[str, str] = field(default_factory=dict)  # alias → unit name (县住建局 → 县住房和城乡建设局)

    def by_name(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for pid, (name, _roles) in self.people.items():
            out.setdefault(name, []).append(pid)
        return out


@dataclass
class RowContext:
    workflow: str
    initial_state: str
    org: OrgIndex
    statuses: StatusVocabulary
    deadline: Callable[[str, str | None, date | None], Deadline]  # (cell, campaign, counted from) → deadline
    priorities: Mapping[str, str]
    field_value: Callable[[str, str], Any]  # a workflow field's text → its value; raises DubanError
    field_labels: Mapping[str, Bilingual]  # the workflow's own fields (帮扶户 / household …)
    required_fields: tuple[str, ...]
    campaign: str | None  # --campaign; a 批次 column overrides it per row
    scope: str  # what keys are unique within, besides the campaign: the file's name when no campaign is given
    sheet: str  # the sheet, or the file name of a CSV: numbering restarts in each
    create_units: bool = False
    assigned_on: date | None = None  # --assigned-on, else the campaign's start or feedback date
    campaign_start: date | None = None  # the campaign's feedback (or start) date, for the warnings
    is_working_day: Callable[[date], bool] | None = None
    sources: tuple[str, ...] = ()  # the workflow's sources (问题来源); empty: any


_COLLECTIVE = re.compile(r"^(?:各|全体|所有|相关|有关|其他|其它)|各有关|各相关|各级")


def is_collective(name: str) -> bool:
    """各乡镇, 各区县(市), 各有关单位: many units at once, kept as text rather than matched."""
    return bool(_COLLECTIVE.search(name.strip()))


def derive_title(problem: str) -> str:
    """'针对部分老旧小区路灯损坏的问题' → '部分老旧小区路灯损坏': a ledger has problems, tasks have titles."""
    first = problem.strip().splitlines()[0].strip() if problem.strip() else problem
    first = re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+", " ", first).strip()  # a title is one clean line
    title = re.sub(r"^针对", "", first)
    title = re.sub(r"的?问题[。.]?$", "", title).strip() or first
    return title if len(title) <= TITLE_MAX else title[: TITLE_MAX - 1] + "…"


def source_key(workflow: str, scope: str, sheet: str, section: str | None, identity: str) -> str:
    """Stable across re-imports of the same ledger; hashed to a fixed size whatever the campaign's length."""
    raw = "\x1f".join((workflow, scope, sheet, section or "", identity))
    return "ledger:" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:40]


_DAY = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?")


# An Excel date serial (days since 1899-12-30) from 2000-01-01 to 2099-12-31: a number typed or
# pasted into a date column without a date format. Anything else of five digits is no date.
EXCEL_SERIALS = (36526, 73050)
_SERIAL = re.compile(r"(\d{5})(?:\.\d+)?")
DATE_FIELDS = ("deadline", "closed_on", "assigned_on", "deadline_date", "source_date")


def excel_serial(text: str) -> date | None:
    m = _SERIAL.fullmatch(text.strip())
    if m is None or not EXCEL_SERIALS[0] <= int(m[1]) <= EXCEL_SERIALS[1]:
        return None
    return date(1899, 12, 30) + timedelta(days=int(m[1]))


def parse_day(text: str) -> date | None:
    serial = excel_serial(text)
    if serial is not None:
        return serial
    m = _DAY.fullmatch(unicodedata.normalize("NFKC", text).strip().split(" ")[0])
    if not m:
        return None
    try:
        day = date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None
    return day if 2000 <= day.year <= 2100 else None


def data_rows(header: Header, rows: Iterable[tuple[int, list[str]]]) -> Iterator[RawRow]:
    """The data rows under the header, with section headings ("一、民生问题（5个）") taken out and remembered."""
    section: str | None = None
    columns = list(header.columns.items())
    extras = list(header.extras.items())
    seq_col = header.column_of("seq")
    problem_col = header.column_of("problem")
    for number, cells in rows:
        n = len(cells)
        problem = cells[problem_col] if problem_col is not None and problem_col < n else ""
        if problem and any(c and c != problem for c in cells):
            pass  # the common case: a data row; the checks below are for rows with little in them
        else:
            filled = [(i, c) for i, c in enumerate(cells) if c]
            if not filled:
                continue
            if len(filled) == 1 and filled[0][0] == seq_col and is_number(filled[0][1]):
                continue  # a numbered row of a template, never filled in
            distinct = {c for _i, c in filled}
            merged_across = len(filled) >= 2 and len(distinct) == 1
            lone_heading = len(filled) == 1 and filled[0][0] in (seq_col, 0) and not is_number(filled[0][1])
            if merged_across or lone_heading:
                section = section_title(filled[0][1]) or None
                continue
        extra = tuple((h, cells[i]) for i, h in extras if i < n and cells[i]) if extras else ()
        yield RawRow(number, {f: cells[i] for i, f in columns if i < n and cells[i]}, section, extra)


class _Row:
    """One row being read: its cells (date serials read as dates) and its problems so far, in column order."""

    __slots__ = ("errors", "raw", "v", "validator")

    def __init__(self, validator: RowValidator, raw: RawRow) -> None:
        self.validator = validator
        self.raw = raw
        self.errors: list[RowError] = []
        v = raw.values
        for f in DATE_FIELDS:  # a date serial reads as its date, in every column that holds one
            if f in v and (serial := excel_serial(v[f])) is not None:
                v = {**v, f: serial.isoformat()}  # a copy: the rejects file keeps the cell as it was
        self.v = v

    def fail(self, field_key: str, zh: str, en: str) -> None:
        self.errors.append(RowError(self.raw.row, self.validator.column(field_key), Bilingual(zh, en)))

    def failed(self, field_key: str, exc: DubanError) -> None:
        self.fail(field_key, exc.render("zh"), exc.render("en"))

    def text(self, field_key: str, max_len: int, multiline: bool = False) -> str | None:
        value = self.v.get(field_key)
        if value is None:
            return None
        try:
            return check_text(value, _WHAT.get(field_key, field_key), max_len=max_len, multiline=multiline) or None
        except DubanError as exc:
            self.failed(field_key, exc)
            return None

    def day(self, field_key: str, zh: str, default: date | None = None) -> date | None:
        """A date column: ``default`` when the column is absent; a cell that is no date is a problem (``zh`` names
        the column's date, ``{}`` the cell)."""
        cell = self.v.get(field_key)
        if cell is None:
            return default
        day = parse_day(cell)
        if day is None:
            self.fail(field_key, zh.format(cell), f"'{cell}' is not a date such as 2026-06-30")
        return day


class RowValidator:
    """Stateful over one file: it remembers each row key to catch a 序号 given twice."""

    def __init__(self, ctx: RowContext, header: Header) -> None:
        self.ctx = ctx
        self.header = header
        self.units_to_create: dict[str, None] = {}
        self._first_row: dict[str, int] = {}
        self._shared: dict[Any, Any] = {}
        self._units: dict[str, str | Bilingual] = {}
        self._people: dict[tuple[str, bool], str | Bilingual] = {}
        self._co: dict[str, tuple[tuple[str, ...], list[Bilingual], tuple[str, ...]]] = {}
        self._deadlines: dict[tuple[str, int | None, date | None], Deadline | Bilingual] = {}
        self.warnings: list[RowError] = []  # kept, shown in the summary, never a reason to refuse
        self._statuses: dict[str, tuple[str, str, str | None] | None] = {}
        self._by_name = ctx.org.by_name()
        self._unit_names = set(ctx.org.units)
        self._unit_ids = {i: n for n, i in ctx.org.units.items()}
        self._aliases = dict(ctx.org.aliases)

    def column(self, field_key: str) -> str:
        """The column as the sheet heads it; a missing column by its usual name."""
        if self.header.column_of(field_key) is not None:
            return self.header.text_of(field_key)
        own = self.ctx.field_labels.get(field_key.removeprefix(FIELD_PREFIX))
        return own.zh if own is not None and field_key.startswith(FIELD_PREFIX) else label(field_key).zh

    def _share(self, value: Any) -> Any:
        """One object for each repeated value (units, leaders, deadlines): 100,000 rows repeat them a lot."""
        return self._shared.setdefault(value, value)

    def validate(self, raw: RawRow) -> LedgerRow | list[RowError]:
        """Every group of columns is read in turn, each adding its problems to the row's list in column order."""
        row = _Row(self, raw)
        problem, title, measures = self._problem(row)
        campaign = row.text("campaign", 200) or self.ctx.campaign
        category = self._category(row)
        unit = self._responsible_unit(row)
        co_units, kept = self._co_units_of(row, unit)
        kept += [[h, c] for h, c in raw.extra]
        target = row.text("target", 4000, multiline=True)
        assigned_on = row.day("assigned_on", "无法识别的交办日期“{}”；请写成 2026-06-30", self.ctx.assigned_on)
        source, source_ref, source_date = self._source(row)
        leader_id = self._person_field("leader", row.v, row.errors, raw.row, required=True, leader=True)
        person_id = self._person_field("person", row.v, row.errors, raw.row, required=False, leader=False)
        deadline = self._deadline(row, campaign, assigned_on)
        state, word, note, flags = self._status(row)
        priority = self._priority(row)
        closed_on = row.day("closed_on", "无法识别的销号日期“{}”") if state == "closed" else None
        fields = self._fields(row.v, row.errors, raw.row)
        key = self._key(raw, problem or title, unit, campaign, row.errors)
        if row.errors or (problem is None and title is None) or unit is None or leader_id is None or key is None:
            return row.errors
        return LedgerRow(
            row=raw.row,
            key=key,
            title=title,
            problem=problem,
            measures_json=json.dumps(measures, ensure_ascii=False),
            category=self._share(category),
            campaign=self._share(campaign),
            unit=unit,
            co_units=co_units,
            leader_id=leader_id,
            person_id=person_id,
            deadline=deadline.due if deadline else None,
            deadline_expr=deadline.expression.strip() if deadline else None,
            ongoing=bool(deadline and deadline.ongoing),
            priority=priority,
            state=state,
            status_word=self._share(word),
            note=note,
            closed_on=closed_on,
            fields=fields,
            code=row.v.get("code"),
            assigned_on=assigned_on,
            target=target,
            ledger_columns=kept or None,
            flags=flags or None,
            source=self._share(source),
            source_ref=source_ref,
            source_date=source_date,
        )

    # --- the groups of columns -------------------------------------------------------------------

    def _problem(self, row: _Row) -> tuple[str | None, str | None, list[str]]:
        """问题 / 任务名称 / 整改措施: what the task is, and the measures taken against it."""
        problem = row.text("problem", 4000, multiline=True)
        title = row.text("title", 500)
        if "problem" not in row.v and "title" not in row.v:
            row.fail("problem", "缺少问题描述", "the problem is missing")
        measures: list[str] = []
        for m in split_measures(row.v.get("measures")):
            try:
                measures.append(check_text(m, "measure", max_len=2000, multiline=True))
            except DubanError as exc:
                row.failed("measures", exc)
        return problem, title, measures

    def _category(self, row: _Row) -> str | None:
        """问题类别: the column, else the section heading the row stands under."""
        category = row.text("category", 100)
        section = row.raw.section
        if category is None and "category" not in row.v and section and len(section) <= 100:
            category = section
        return category

    def _responsible_unit(self, row: _Row) -> str | None:
        """责任单位: one unit of the organisation (or one to create), as the one shared copy of its name."""
        unit = row.text("unit", 200)
        if unit is None:
            if "unit" not in row.v:
                row.fail("unit", "缺少责任单位", "the responsible unit is missing")
            return None
        found = self._unit(unit)
        if isinstance(found, Bilingual):
            row.errors.append(RowError(row.raw.row, self.column("unit"), found))
            return None
        return found

    def _co_units_of(self, row: _Row, unit: str | None) -> tuple[tuple[str, ...], list[list[str]]]:
        """配合单位: the units matched, and the [header, cell] kept for the names outside the organisation."""
        if "co_units" not in row.v:
            return (), []
        co_units, co_errors, unmatched = self._co_units(row.v["co_units"])
        row.errors.extend(RowError(row.raw.row, self.column("co_units"), e) for e in co_errors)
        if unit in co_units:
            co_units = tuple(u for u in co_units if u != unit)
        if not unmatched:
            return co_units, []
        strangers = [u for u in unmatched if not is_collective(u)]
        if strangers:
            self.warnings.append(
                RowError(
                    row.raw.row,
                    self.column("co_units"),
                    Bilingual(
                        f"配合单位“{'、'.join(strangers)}”不在组织中，按文字保留",
                        f"co-unit '{', '.join(strangers)}' is not in the organisation; kept as text",
                    ),
                )
            )
        return co_units, [[self.column("co_units") + "(未匹配)", "、".join(unmatched)]]

    def _source(self, row: _Row) -> tuple[str | None, str | None, date | None]:
        """问题来源, its reference (文号) and its date: a reference or date needs the source itself."""
        sources = self.ctx.sources
        source = row.text("source", 50)
        if source is not None and sources and source not in sources:
            row.fail(
                "source",
                f"“{source}”不是问题来源之一（可选：{'、'.join(sources)}）",
                f"'{source}' is not one of the sources ({', '.join(sources)})",
            )
        source_ref = row.text("source_ref", 200)
        source_date = row.day("source_date", "无法识别的来源日期“{}”；请写成 2026-06-30")
        if source is None and (source_ref or source_date):
            row.fail(
                "source", "写了来源文号或日期，却未写问题来源", "a source reference or date without the source itself"
            )
        return source, source_ref, source_date

    def _deadline(self, row: _Row, campaign: str | None, assigned_on: date | None) -> Deadline | None:
        """整改时限 as written, or an export's computed date (the deadline as it was, whatever today is)."""
        cell = row.text("deadline", 100) if "deadline" in row.v else None  # the expression is kept as written
        deadline = self._deadline_expr(row, cell, campaign, assigned_on) if cell is not None else None
        if "deadline_date" in row.v:
            due = row.day("deadline_date", "无法识别的日期“{}”")
            if due is not None and (deadline is None or deadline.due != due):
                deadline = Deadline(due, deadline.expression if deadline else due.isoformat())
        if deadline is not None and deadline.due is not None:
            self._deadline_warnings(row.raw.row, deadline.due, assigned_on, campaign)
        return deadline

    def _deadline_expr(self, row: _Row, cell: str, campaign: str | None, assigned_on: date | None) -> Deadline | None:
        memo_key = (cell, campaign_year(campaign), assigned_on)
        parsed = self._deadlines.get(memo_key)
        if parsed is None:
            try:
                parsed = self.ctx.deadline(cell, campaign, assigned_on)
            except DubanError as exc:
                parsed = Bilingual(exc.render("zh"), exc.render("en"))
            self._deadlines[memo_key] = parsed
        if isinstance(parsed, Bilingual):
            row.errors.append(RowError(row.raw.row, self.column("deadline"), parsed))
            return None
        return parsed

    def _status(self, row: _Row) -> tuple[str, str | None, str | None, dict[str, Any]]:
        """整改状态 / 进展情况: (state, the word it was read from, the progress note, what else the word says)."""
        ctx, v = self.ctx, row.v
        state, word, note = ctx.initial_state, None, None
        flags: dict[str, Any] = {}
        status_field = "state" if "state" in v else "status" if "status" in v else None
        if status_field is not None:
            read = self._read_status(v[status_field], flags)
            if read is None:
                word = ctx.statuses.leading_word(v[status_field])
                row.fail(
                    status_field,
                    f"无法识别的整改状态“{word}”；可用：{ctx.statuses.describe().zh}",
                    f"unknown status '{word}'; known: {ctx.statuses.describe().en}",
                )
            else:
                state, word, note = read
                flags.update(ctx.statuses.flags(word))
                if status_field == "state" and "status" in v:  # an export: the progress column repeats the state
                    again = ctx.statuses.read(v["status"])
                    note = again[2] if again else v["status"]
        if "note" in v:
            note = row.text("note", 4000, multiline=True)
        elif note is not None:
            try:
                note = check_text(note, "progress note", max_len=4000, multiline=True) or None
            except DubanError as exc:
                row.failed(status_field or "status", exc)
        return state, word, note, flags

    def _read_status(self, cell: str, flags: dict[str, Any]) -> tuple[str, str, str | None] | None:
        """Most cells repeat a few words: each is read once. A percentage (完成60%) reads as in progress."""
        if cell in self._statuses:
            read = self._statuses[cell]
        else:
            read = self.ctx.statuses.read(cell)
            if len(self._statuses) < 10_000:
                self._statuses[cell] = read
        if read is None and (pct := self.ctx.statuses.read_percent(cell)) is not None:
            read = pct[:3]
            flags["percent_done"] = pct[3]
        return read

    def _priority(self, row: _Row) -> str | None:
        if "priority" not in row.v:
            return None
        cell = row.v["priority"]
        priority = self.ctx.priorities.get(cell.strip().lower())
        if priority is None:
            row.fail(
                "priority",
                f"优先级“{cell}”无效：应为 高、中 或 低",
                f"'{cell}' is not 高, 中 or 低 (high, medium, low)",
            )
        return priority

    # --- the parts -----------------------------------------------------------------------------

    def _key(
        self, raw: RawRow, problem: str | None, unit: str | None, campaign: str | None, errors: list[RowError]
    ) -> str | None:
        ctx = self.ctx
        scope = campaign or ctx.scope
        seq = raw.values.get("seq")
        if seq is not None:
            number = row_number(seq)
            key = source_key(ctx.workflow, scope, ctx.sheet, raw.section, "#" + number)
            what = ("序号 " + number + " ", "No. " + number)
            column = "seq"
        elif problem is not None and unit is not None:
            # No 序号: the row is known by what it says, so the same problem for the same unit is one row.
            identity = re.sub(r"\s+", "", problem) + "\x1f" + unit
            key = source_key(ctx.workflow, scope, ctx.sheet, raw.section, identity)
            what = ("同一单位的同一问题", "the same problem for the same unit")
            column = "problem"
        else:
            return None
        first = self._first_row.setdefault(key, raw.row)
        if first != raw.row:
            errors.append(
                RowError(
                    raw.row,
                    self.column(column),
                    Bilingual(
                        f"{what[0]}重复出现（第 {first} 行已有）", f"{what[1]} appears twice (also in row {first})"
                    ),
                )
            )
        return key

    def _unit(self, name: str) -> str | Bilingual:
        known = self._units.get(name)
        if known is not None:
            return known
        by_id = self._unit_ids.get(int(name)) if name.isdecimal() and name not in self._unit_names else None
        if by_id is not None:  # a unit by its id in the database
            result: str | Bilingual = self._share(by_id)
        elif name in self._unit_names:
            result = self._share(name)
        elif name in self._aliases:  # 住建局 for 县住房和城乡建设局
            result = self._share(self._aliases[name])
        elif is_collective(name):  # 各乡镇 is many units: --create-units must not make it one
            result = Bilingual(
                f"责任单位“{name}”是统称，不是一个单位：请按单位拆成多行，或写明牵头单位（统称可写在配合单位中，按文字保留）",
                f"'{name}' names many units, not one: split the row per unit, or name the lead unit "
                "(a collective name may stand among the co-units, kept as text)",
            )
        elif self.ctx.create_units and not (close_list := self._close(name)):
            self.units_to_create[name] = None
            result = self._share(name)
        elif self.ctx.create_units:
            close = " / ".join(close_list)
            result = Bilingual(
                f"不新建单位“{name}”：组织中已有相近的 {close}；请写该单位的名称，或在组织文件中把“{name}”加为它的别名（aliases）",
                f"will not create unit '{name}': the organisation has {close}, which is close; write that name, "
                f"or add '{name}' to its aliases in the organisation file",
            )
        else:
            close_list = self._close(name)
            close = " / ".join(close_list)
            hint = f" (did you mean {close}?)" if close else ""
            result = Bilingual(
                f"组织中没有单位“{name}”" + (f"（是否为 {close}？）" if close else "") + "；或加 --create-units 新建",
                f"no unit '{name}' in the organisation{hint}; or add --create-units to create it",
            )
        self._units[name] = result
        return result

    def _close(self, name: str) -> list[str]:
        """Units (by name or alias) close to ``name``, best first, named as the organisation names them."""
        out: list[str] = []
        for c in close_units(name, [*self._unit_names, *self._aliases]):
            full = self._aliases.get(c, c)
            label = full if c == full else f"{full}（{c}）"
            if label not in out:
                out.append(label)
        return out

    def _co_units(self, cell: str) -> tuple[tuple[str, ...], list[Bilingual], tuple[str, ...]]:
        """(units matched, errors, names kept as text): a co-unit outside the organisation is no reason to refuse."""
        known = self._co.get(cell)
        if known is None:
            names: list[str] = []
            errors: list[Bilingual] = []
            unmatched: list[str] = []
            for name in split_units(cell):
                try:
                    name = check_text(name, "co-unit", max_len=200)
                except DubanError as exc:
                    errors.append(Bilingual(exc.render("zh"), exc.render("en")))
                    continue
                if is_collective(name):
                    unmatched.append(name)
                    continue
                found = self._unit(name)
                if isinstance(found, Bilingual):
                    if self.ctx.create_units:
                        errors.append(found)  # asked to create it, and it is too close to one there is
                    else:
                        unmatched.append(name)
                else:
                    names.append(found)
            known = self._co[cell] = (tuple(names), errors, tuple(unmatched))
        return known

    def _deadline_warnings(self, row: int, due: date, assigned_on: date | None, campaign: str | None) -> None:
        col = self.column("deadline")

        def warn(zh: str, en: str) -> None:
            self.warnings.append(RowError(row, col, Bilingual(zh, en)))

        if assigned_on is not None and due < assigned_on:
            warn(
                f"时限 {due} 早于交办日期 {assigned_on}",
                f"the deadline {due} is before the assignment date {assigned_on}",
            )
        start = self.ctx.campaign_start
        year = campaign_year(campaign)
        if (start is not None and due.year < start.year) or (start is None and year is not None and due.year < year):
            warn(
                f"时限 {due} 早于批次（{campaign or start}）所在年份",
                f"the deadline {due} is in a year before the campaign ({campaign or start})",
            )
        if self.ctx.is_working_day is not None and not self.ctx.is_working_day(due):
            warn(f"时限 {due} 是周末或节假日", f"the deadline {due} falls on a weekend or holiday")

    def _person_field(
        self, field_key: str, v: dict[str, str], errors: list[RowError], row: int, *, required: bool, leader: bool
    ) -> str | None:
        ref = v.get(field_key, "").strip()
        if not ref:
            if required:
                what = label(field_key)
                errors.append(
                    RowError(
                        row, self.column(field_key), Bilingual(f"缺少{what.zh}", f"the {what.en.lower()} is missing")
                    )
                )
            return None
        found = self._people.get((ref, leader))
        if found is None:
            found = self._person(ref, leader)
            self._people[(ref, leader)] = found
        if isinstance(found, Bilingual):
            errors.append(RowError(row, self.column(field_key), found))
            return None
        return found

    def _person(self, ref: str, leader: bool) -> str | Bilingual:
        people = self.ctx.org.people
        if ref in people:
            pid = ref
        else:
            ids = self._by_name.get(ref, [])
            if len(ids) > 1:
                return Bilingual(
                    f"“{ref}”对应 {len(ids)} 人（{'、'.join(ids)}）；请填写人员编号",
                    f"'{ref}' names {len(ids)} people ({', '.join(ids)}); write the id",
                )
            if not ids:
                hint = near(ref, set(people) | set(self._by_name))
                close = hint.removeprefix(" (did you mean ").removesuffix("?)")
                return Bilingual(
                    f"组织中没有人员“{ref}”" + (f"（是否为 {close}？）" if close else ""),
                    f"no person '{ref}' in the organisation{hint}",
                )
            pid = ids[0]
        if leader and "leader" not in people[pid][1]:
            return Bilingual(
                f"{people[pid][0]}({pid}) 不具有领导角色，不能担任责任领导",
                f"{people[pid][0]} ({pid}) does not have the leader role",
            )
        return self._share(pid)  # type: ignore[no-any-return]

    def _fields(self, v: dict[str, str], errors: list[RowError], row: int) -> dict[str, Any] | None:
        if not self.ctx.field_labels:
            return None
        out: dict[str, Any] = {}
        for f, value in v.items():
            if f.startswith(FIELD_PREFIX):
                key = f.removeprefix(FIELD_PREFIX)
                try:
                    out[key] = self.ctx.field_value(key, value)
                except DubanError as exc:
                    errors.append(RowError(row, self.column(f), Bilingual(exc.render("zh"), exc.render("en"))))
        for key in self.ctx.required_fields:
            if FIELD_PREFIX + key not in v:
                lab = self.ctx.field_labels[key]
                errors.append(
                    RowError(
                        row, self.column(FIELD_PREFIX + key), Bilingual(f"缺少{lab.zh}", f"the {lab.en} is missing")
                    )
                )
        return out or None


class LedgerInvalid(DubanError):
    """Some rows cannot be imported: each is reported on its own line, then this one sums up."""

    exit_code = 2
    zh = "{file}：{rows} 行有误（共 {problems} 处），未导入任何内容；改正后重新导入，或加 --skip-invalid 拒收.csv 导入其余各行"
    en = (
        "{file}: {rows} row(s) invalid ({problems} problem(s)); nothing was imported; "
        "fix them and import again, or add --skip-invalid REJECTS.csv to import the rest"
    )

    def __init__(self, file: object, errors: list[RowError]) -> None:
        super().__init__(file=file, rows=len({e.row for e in errors}), problems=len(errors))
        self.errors = errors


def describe_error(error: RowError, lang: str, file: object = "") -> str:
    """One line per problem, with the row as the sheet numbers it and the column as the sheet heads it."""
    if lang == "zh":
        return f"{file}{' ' if file else ''}第 {error.row} 行“{error.column}”：{error.reason.zh}"
    return f"{file}{': ' if file else ''}row {error.row}, {error.column}: {error.reason.en}"
