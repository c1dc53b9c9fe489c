"""Ledgers in and out: import a spreadsheet as tasks, export the tasks as a spreadsheet.

Import is all-or-nothing. The file is read and validated in one streaming
pass (the organisation, deadlines, statuses, duplicates and rows already
imported are all checked then), keeping only compact valid rows; every bad row
is reported at once and nothing is written unless all are good, or
``skip_invalid`` names a file for the rejected ones. The write is one
transaction. Imported tasks start with a single ``import`` event into the state
the ledger gives: what happened before lies outside duban and is not made up.
They send no notices (their units know them already); the deadline watch is
planned as for an assignment, so the sweep takes over from its next tick.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import aliased

from ..app import App
from ..domain.deadlines import Deadline
from ..domain.errors import BadFile, InvalidInput, NotPermitted, UnknownPerson, unknown_state
from ..domain.machine import describe_rules
from ..domain.planning import DeadlineClock
from ..domain.text import Bilingual, Lang
from ..domain.textcheck import check_text
from ..domain.watch import clock_runs, next_attention, task_standing
from ..domain.workflow import IMPORT_TRIGGER, WorkflowSpec
from ..ledger import headers as H
from ..ledger.cells import numbered
from ..ledger.reader import open_source
from ..ledger.rows import (
    LedgerInvalid,
    LedgerRow,
    OrgIndex,
    RawRow,
    RowContext,
    RowError,
    RowValidator,
    data_rows,
)
from ..ledger.status import StatusVocabulary
from ..ledger.writer import Cell, Column, export_format, write_ledger
from ..persistence.asof import ledger_as_of
from ..persistence.importing import ImportPlan, LedgerStore, write_rows
from ..persistence.models import Campaign, Event, Person, ProgressReport, Task, TaskCoUnit, Unit
from ..persistence.read.ledger_page import LedgerQuery, ledger_where
from .chain import record_org
from .identity import acting
from .org import resolve_unit
from .tasks import PRIORITIES, _field_value, resolve_deadline

Progress = Callable[[str, int, int | None], None]  # phase ("read" or "write"), done, total (None: unknown)
CHECK_EVERY = 1000  # rows validated between two look-ups of rows imported before
PROGRESS_EVERY = 500


@dataclass(frozen=True)
class ImportOptions:
    sheet: str | None = None
    campaign: str | None = None
    workflow: str = "rectification"
    dry_run: bool = False
    create_units: bool = False
    mapping: Path | None = None
    skip_invalid: Path | None = None  # write rejected rows here, with their reasons, and import the rest
    progress: Progress | None = None
    lang: Lang = "en"  # of the reasons in the rejects file
    assigned_on: date | None = None  # 交办日期 of rows whose ledger gives none


@dataclass
class ImportResult:
    file: str
    sheet: str
    header_row: int
    rows: int  # data rows read
    imported: int  # tasks created (with dry_run: that would be)
    existing: int  # rows imported before: skipped
    rejected: int  # rows left out (with skip_invalid)
    errors: list[RowError]  # why they were left out
    created_units: list[str]
    codes: Sequence[str]  # in row order
    by_state: dict[str, int]
    ignored_columns: list[str]
    dry_run: bool
    rejects_file: str | None = None
    encoding: str | None = None
    warnings: list[RowError] = field(default_factory=list)  # imported anyway: worth a look


@dataclass
class _Pass:
    """What the validating pass found: the compact valid rows, and every problem."""

    path: Path
    spec: WorkflowSpec
    now: datetime
    valid: list[LedgerRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    rejected: list[tuple[RawRow, list[RowError]]] = field(default_factory=list)
    existing: int = 0
    rows: int = 0
    sheet: str = ""
    encoding: str | None = None
    header: H.Header | None = None
    units_to_create: list[str] = field(default_factory=list)
    actor_id: str = ""
    operator_id: str | None = None
    account: str = ""
    via: str | None = None


def import_ledger(app: App, actor_id: str | None, path: Path, options: ImportOptions) -> ImportResult:
    """Validate the whole file, then write every valid row in one transaction (or, with dry_run, nothing)."""
    if options.skip_invalid is not None:
        _check_rejects_path(options.skip_invalid, path)
    found = _validate(app, actor_id, path, options, check_actor=True)
    if found.errors and options.skip_invalid is None:
        raise LedgerInvalid(path.name, found.errors)
    assert found.header is not None
    header, spec, now = found.header, found.spec, found.now
    result = ImportResult(
        file=str(path),
        sheet=found.sheet,
        header_row=header.row,
        rows=found.rows,
        imported=len(found.valid),
        existing=found.existing,
        rejected=len(found.rejected),
        errors=found.errors,
        created_units=found.units_to_create,
        codes=[],
        by_state=dict(Counter(r.state for r in found.valid)),
        ignored_columns=list(header.ignored),
        dry_run=options.dry_run,
        rejects_file=str(options.skip_invalid) if options.skip_invalid is not None and not options.dry_run else None,
        encoding=found.encoding,
        warnings=found.warnings,
    )
    if options.dry_run:
        return result
    with app.uow(write=True) as uow:
        store = LedgerStore(uow)
        units = uow.org.unit_ids()
        created = store.create_units(u for u in found.units_to_create if u not in units)
        units.update(created)
        record_org(app, uow, [], created.values(), account=found.account, operator_id=found.operator_id, via=found.via)
        plan = ImportPlan(
            workflow=spec.name,
            workflow_version=spec.version,
            code_prefix=spec.code_prefix,
            year=now.astimezone(app.tz).year,
            actor_id=found.actor_id,
            operator_id=found.operator_id,
            account=found.account,
            via=found.via,
            now=now,
            file=path.name,
            sheet=found.sheet,
            unit_ids=units,
            attention=lambda state, due: next_attention(
                spec, state, DeadlineClock.started(deadline=due, at=now), calendar=app.calendar, tz=app.tz
            ),
            clock_runs=lambda state: clock_runs(spec, state),
        )
        total = len(found.valid)

        def wrote(done: int) -> None:
            if options.progress is not None:
                options.progress("write", done, total)

        result.codes = write_rows(store, found.valid, plan, progress=wrote)
        if options.skip_invalid is not None:
            _write_rejects(options.skip_invalid, header, found.rejected, options.lang)
        uow.commit()
    return result


def read_ledger(app: App, path: Path, options: ImportOptions) -> list[LedgerRow]:
    """The valid rows of a ledger, checked exactly as an import checks them, without writing anything.

    For callers that turn rows into tasks their own way (the demo assigns them one by one, so its
    story starts with 交办). Any bad row raises LedgerInvalid; rows imported before are left out.
    """
    found = _validate(app, None, path, options, check_actor=False)
    if found.errors:
        raise LedgerInvalid(path.name, found.errors)
    return found.valid


def _validate(app: App, actor_id: str | None, path: Path, options: ImportOptions, *, check_actor: bool) -> _Pass:  # noqa: C901 - to cut once its SQL has moved to persistence
    """The streaming pass: headers, then every row against the organisation, the calendar and the database."""
    machine = app.registry.machine(options.workflow)
    spec = machine.spec
    campaign = check_text(options.campaign, "campaign", max_len=200) or None if options.campaign else None
    extra_headers = H.workflow_headers({k: f.label for k, f in spec.fields.items()})
    mapping, own_words = H.read_mapping(options.mapping, extra_headers) if options.mapping else ({}, {})
    for word, state in own_words.items():
        if state not in spec.states:
            assert options.mapping is not None
            raise BadFile(
                options.mapping,
                f"'{state}' is not a state of {spec.name} (states: {', '.join(spec.states)})",
                key=f"status.{word}",
            )
    vocabulary = H.Vocabulary(mapping=mapping, extra=extra_headers)
    found = _Pass(path=path, spec=spec, now=app.clock.now())
    with app.uow(write=False) as uow:
        if check_actor:
            who = acting(app, uow, actor_id)  # for whom, and who is at the keyboard (代录), as for assign
            actor = uow.tasks.actor(who.actor_id)
            if actor is None:
                raise UnknownPerson(person=who.actor_id, near="")
            found.operator_id = who.operator_id
            found.account = who.account
            found.via = who.via
            # Importing creates tasks: whoever may assign may import; so may an admin (bringing a ledger in is setup).
            if not (machine.may_create(actor) or "admin" in actor.roles):
                rule = describe_rules(spec.create.who)
                raise NotPermitted(
                    actor=f"{actor.name}({actor.id})",
                    action=Bilingual("导入台账", "import a ledger"),
                    code=Bilingual(path.name, path.name),
                    rule=Bilingual(rule.zh + "；或管理员", rule.en + "; or admin"),
                )
            found.actor_id = actor.id
        people = {pid: (name, frozenset(roles)) for pid, (name, _unit, roles) in uow.org.people().items()}
        org = OrgIndex(units=uow.org.unit_ids(), people=people, aliases=uow.org.unit_aliases())
        assigned_on, campaign_start = options.assigned_on, None
        if campaign is not None:
            row = uow.conn.execute(
                select(Campaign.started_on, Campaign.feedback_on).where(Campaign.name == campaign)
            ).first()
            if row is not None:
                campaign_start = row.feedback_on or row.started_on
                if assigned_on is None:
                    assigned_on = row.started_on or row.feedback_on
        store = LedgerStore(uow)
        with open_source(path, options.sheet) as source:
            try:
                header = found.header = H.find_header(path, source.rows, vocabulary)
            except BadFile as exc:
                if len(source.sheets) > 1 and options.sheet is None:  # perhaps the ledger is on another sheet
                    hint = f" (read sheet '{source.sheet}'; the workbook has {', '.join(source.sheets)}: choose with --sheet)"
                    raise BadFile(path, f"{exc.params['detail']}{hint}") from None
                raise
            ctx = RowContext(
                workflow=spec.name,
                initial_state=spec.initial,
                org=org,
                statuses=StatusVocabulary.for_states([(k, s.label) for k, s in spec.states.items()], own_words),
                deadline=_deadline_reader(app, spec, found.now),
                priorities=PRIORITIES,
                field_value=lambda key, text: _field_value(spec.fields[key], text),
                field_labels={k: f.label for k, f in spec.fields.items()},
                required_fields=tuple(k for k, f in spec.fields.items() if f.required),
                campaign=campaign,
                scope=path.stem,
                sheet=source.sheet or path.stem,  # a CSV file is one table, as a sheet is
                create_units=options.create_units,
                assigned_on=assigned_on,
                campaign_start=campaign_start,
                is_working_day=app.calendar.is_working_day,
                sources=tuple(spec.sources),
            )
            validator = RowValidator(ctx, header)
            keep_raw = options.skip_invalid is not None
            pending: list[tuple[LedgerRow, RawRow | None]] = []
            for raw in data_rows(header, source.rows):
                found.rows += 1
                checked = validator.validate(raw)
                if isinstance(checked, list):
                    found.errors += checked
                    if keep_raw:
                        found.rejected.append((raw, checked))
                else:
                    pending.append((checked, raw if keep_raw else None))
                    if len(pending) >= CHECK_EVERY:
                        _sort_out(store, pending, found, validator)
                        pending = []
                if options.progress is not None and found.rows % PROGRESS_EVERY == 0:
                    options.progress("read", source.position(), source.size)
            _sort_out(store, pending, found, validator)
            if options.progress is not None:
                options.progress("read", source.size or source.position(), source.size)
            found.sheet, found.encoding = source.sheet, source.encoding
            found.warnings = validator.warnings
    used = {r.unit for r in found.valid} | {u for r in found.valid for u in r.co_units}
    found.units_to_create = [u for u in validator.units_to_create if u in used]
    return found


def _deadline_reader(app: App, spec: WorkflowSpec, now: datetime) -> Callable[[str, str | None, date | None], Deadline]:
    """立行立改 and 10个工作日内 count from the assignment date where the ledger gives one, not from the import day."""

    def read(text: str, campaign: str | None, since: date | None) -> Deadline:
        when = now if since is None else datetime.combine(since, time(12), app.tz)
        deadline = resolve_deadline(app, spec, text, campaign, when)
        if deadline is None:  # pragma: no cover - empty cells never get here
            raise InvalidInput(what="deadline", detail="is empty")
        return deadline

    return read


def _problem_key(text: str | None) -> str:
    return re.sub(r"\s+", "", text or "")


def _sort_out(
    store: LedgerStore, pending: list[tuple[LedgerRow, RawRow | None]], found: _Pass, v: RowValidator
) -> None:
    """Rows imported before are skipped; a row whose key was taken by a different problem is an error."""
    if not pending:
        return
    known = store.known([r.key for r, _raw in pending], [r.code for r, _raw in pending if r.code])
    for row, raw in pending:
        before = known.by_key.get(row.key)
        if before is not None:
            code, problem = before
            if _problem_key(problem) == _problem_key(row.problem or row.title):
                found.existing += 1
                continue
            error = RowError(
                row.row,
                v.column("seq") if v.header.column_of("seq") is not None else v.column("problem"),
                Bilingual(
                    f"此行曾以任务 {code} 导入，但问题描述不同；导入只新增任务、不修改已有任务："
                    f"请在 duban 中修改 {code}，或用另一个 --campaign 导入",
                    f"this row was imported before as {code} with a different problem; import adds tasks "
                    f"but never changes them: change {code} in duban, or import under another --campaign",
                ),
            )
            found.errors.append(error)
            if raw is not None:
                found.rejected.append((raw, [error]))
            continue
        if (
            row.code
            and row.code in known.by_code
            and _problem_key(known.by_code[row.code]) == _problem_key(row.problem or row.title)
        ):
            found.existing += 1  # a row of this database's own export: the task is here already
            continue
        found.valid.append(row)


def _check_rejects_path(rejects: Path, source: Path) -> None:
    if rejects.suffix.lower() != ".csv":
        raise BadFile(rejects, "the rejected rows are written as CSV; give a file name ending in .csv")
    if rejects.is_dir():
        raise BadFile(rejects, "is a folder; give a file name ending in .csv")
    if rejects.resolve() == source.resolve():
        raise BadFile(rejects, "is the ledger being imported; name another file for the rejected rows")
    folder = rejects.parent if str(rejects.parent) else Path(".")
    if not folder.is_dir():
        raise BadFile(rejects, f"no folder {folder} to write the rejected rows into")


def _write_rejects(path: Path, header: H.Header, rejected: list[tuple[RawRow, list[RowError]]], lang: Lang) -> None:
    """Every column of the ledger, in its order and under its header, so a fixed row imports as it would have.

    The section a row sat under (一、民生问题) becomes its 问题类别 where the ledger has no such column.
    """
    order = sorted([*((i, f) for i, f in header.columns.items()), *((i, None) for i in header.extras)])
    columns = [Column(f or "", header.texts[i] if f else header.extras[i], 20) for i, f in order]
    add_category = "category" not in header.columns.values() and any(raw.section for raw, _e in rejected)
    if add_category:
        columns.append(Column("category", H.label("category").zh, 12))
    columns.append(Column("source_row", H.label("source_row").pick(lang), 8))
    columns.append(Column("reason", H.label("reason").pick(lang), 60))

    def rows() -> Iterator[tuple[list[Cell], bool]]:
        for raw, errors in sorted(rejected, key=lambda r: r[0].row):
            reasons = "；".join(
                f"“{e.column}”：{e.reason.zh}" if lang == "zh" else f"{e.column}: {e.reason.en}" for e in errors
            )
            extra = dict(raw.extra)
            cells: list[Cell] = [raw.values.get(f, "") if f else extra.get(header.extras[i], "") for i, f in order]
            if add_category:
                cells.append(raw.section or "")
            yield [*cells, raw.row, reasons], False

    write_ledger(path, columns, rows())


# --- export -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportFilter:
    campaign: str | None = None
    states: tuple[str, ...] = ()
    unit: str | None = None
    workflow: str | None = None
    as_of: date | None = None  # the ledger as it stood at the end of that day
    lang: Lang = "zh"
    page: LedgerQuery | None = None  # the web ledger's filters, visibility included: the file is what the page lists
    source: str | None = None  # 问题来源; NO_SOURCE ('-'): tasks that cite none


@dataclass(frozen=True)
class ExportResult:
    file: str
    format: str
    rows: int
    as_of: date | None


_WIDTHS = {
    "seq": 6,
    "problem": 40,
    "measures": 50,
    "leader": 10,
    "unit": 16,
    "co_units": 18,
    "person": 10,
    "deadline": 12,
    "status": 24,
    "category": 12,
    "code": 15,
    "state": 10,
    "light": 6,
    "days_overdue": 8,
    "note": 30,
    "closed_on": 12,
    "campaign": 20,
    "priority": 8,
    "title": 30,
    "deadline_date": 12,
    "assigned_on": 12,
    "target": 30,
    "sign_by": 12,
    "signed_at": 17,
    "source": 12,
    "source_ref": 24,
    "source_date": 12,
}
EXPORT_FIELDS = (
    "seq",
    "problem",
    "measures",
    "leader",
    "unit",
    "co_units",
    "person",
    "deadline",
    "status",
    "category",
    "code",
    "state",
    "light",
    "days_overdue",
    "note",
    "closed_on",
    "campaign",
    "priority",
    "title",
    "deadline_date",  # the date in force; 整改时限 keeps the deadline as the ledger wrote it
    "assigned_on",
    "target",
    "sign_by",
    "signed_at",  # as of the export's day: a task signed for later was not yet signed for then
    "source",
    "source_ref",
    "source_date",
)
WRAPPED = {"problem", "measures", "status", "note", "co_units", "target", "source_ref"}
LEDGER_COLUMN_WIDTH = 16
LIGHT_WORDS = {"red": Bilingual("红", "red"), "yellow": Bilingual("黄", "yellow"), "green": Bilingual("绿", "green")}


def export_ledger(app: App, path: Path, flt: ExportFilter) -> ExportResult:  # noqa: C901 - to cut once its SQL has moved to persistence
    """One row per task with the ledger's own columns, in the chosen language; ``as_of`` reads states from events."""
    kind = export_format(path)
    for s in flt.states:
        known = {k for spec in app.registry.specs for k in spec.states}
        if s not in known:
            raise InvalidInput(what=Bilingual("状态", "state"), detail=unknown_state(s, known))
    if flt.workflow:
        app.registry.machine(flt.workflow)
    lang = flt.lang
    if flt.as_of is not None:
        end = datetime.combine(flt.as_of + timedelta(days=1), time(0), app.tz).astimezone(UTC) - timedelta(
            microseconds=1
        )
        today = flt.as_of
    else:
        end = None
        today = app.clock.now().astimezone(app.tz).date()
    with app.uow(write=False) as uow:
        query, state_col, deadline_col = _export_query(end)
        if flt.campaign:
            query = query.where(Task.campaign == flt.campaign)
        if flt.workflow:
            query = query.where(Task.workflow == flt.workflow)
        if flt.unit:
            query = query.where(Task.unit_id == resolve_unit(uow.org, flt.unit))
        if flt.states:
            query = query.where(state_col.in_(flt.states))
        if flt.page is not None:
            query = query.where(*ledger_where(flt.page))
        if flt.source is not None:
            query = query.where(Task.source.is_(None) if flt.source == NO_SOURCE else Task.source == flt.source)
        tasks = uow.conn.execute(query.order_by(Task.id)).all()
        ids = [t.id for t in tasks]
        co_units = _co_units(uow.conn, ids)
        notes = _last_notes(uow.conn, ids, end)
        imported = _import_data(uow.conn, ids)
        closed_on = _closed_on(uow.conn, ids, end)
    specs = {t.workflow: app.registry.find(t.workflow) for t in tasks}
    field_keys: dict[str, Bilingual] = {}
    for spec in specs.values():
        if spec is not None:
            for k, f in spec.fields.items():
                field_keys.setdefault(k, f.label)
    columns = [Column(f, H.label(f).pick(lang), _WIDTHS[f], f in WRAPPED) for f in EXPORT_FIELDS]
    columns += [Column(H.FIELD_PREFIX + k, lab.pick(lang), 14) for k, lab in field_keys.items()]
    # the ledger's own other columns, under their own headers, in the order they first appear
    kept: dict[str, None] = {}
    for t in tasks:
        for pair in t.ledger_columns or ():
            kept.setdefault(str(pair[0]), None)
    taken = {c.header for c in columns}
    kept_headers = [h for h in kept if h not in taken]
    columns += [Column("ledger:" + h, h, LEDGER_COLUMN_WIDTH, True) for h in kept_headers]

    def rows() -> Iterator[tuple[list[Cell], bool]]:
        for i, t in enumerate(tasks, 1):
            spec = specs[t.workflow]
            state, deadline = t.state_at, t.deadline_at
            label = spec.state_label(state).pick(lang) if spec else state
            stand = task_standing(spec, state, deadline, today, app.calendar) if spec else None
            data = imported.get(t.id) or {}
            note = notes.get(t.id) or data.get("note")
            closed: date | None = None
            if state == "closed":
                closed = _closed_date(closed_on.get(t.id), data, app)
            values: list[Cell] = [
                i,
                t.problem,  # blank for a task assigned without one: its title is in the title column
                numbered(list(t.measures or [])),
                t.leader_name or t.lead_leader_id or "",
                t.unit_name,
                "、".join(co_units.get(t.id, [])),
                t.person_name or t.responsible_person_id or "",
                _deadline_cell(t.deadline_expr, deadline, bool(t.ongoing)),
                f"{label}{'：' if lang == 'zh' else ': '}{note}" if note else label,
                t.category,
                t.code,
                label,
                LIGHT_WORDS[stand.light].pick(lang) if stand and stand.light else None,
                stand.days_overdue if stand else None,
                note,
                closed,
                t.campaign,
                t.priority,
                t.title,
                deadline,
                t.assigned_on,
                t.target,
                t.sign_by,
                _signed_cell(t.signed_at, end, app),
                t.source,
                t.source_ref,
                t.source_date,
            ]
            values += [_field_cell((t.fields or {}).get(k)) for k in field_keys]
            if kept_headers:
                own = {str(h): v for h, v in (t.ledger_columns or ())}
                values += [own.get(h) for h in kept_headers]
            yield values, bool(stand and stand.light == "red")

    sheet = "整改台账" if lang == "zh" else "Ledger"
    n = write_ledger(path, columns, rows(), sheet_title=sheet)
    return ExportResult(file=str(path), format=kind, rows=n, as_of=flt.as_of)


def _signed_cell(signed_at: datetime | None, end: datetime | None, app: App) -> str | None:
    """签收时间 in the zone, to the minute; blank where it came after the day the export stands at."""
    if signed_at is None or (end is not None and signed_at > end):
        return None
    return signed_at.astimezone(app.tz).strftime("%Y-%m-%d %H:%M")


NO_SOURCE = "-"  # `--source -`: tasks that cite no source

_Leader = aliased(Person)
_Responsible = aliased(Person)


def _export_query(end: datetime | None) -> tuple[Select[Any], Any, Any]:
    columns = (
        Task.id,
        Task.code,
        Task.workflow,
        Task.title,
        Task.problem,
        Task.measures,
        Task.category,
        Task.campaign,
        Task.lead_leader_id,
        Task.responsible_person_id,
        Task.ongoing,
        Task.fields,
        Task.priority,
        Task.deadline_expr,
        Task.assigned_on,
        Task.target,
        Task.ledger_columns,
        Task.sign_by,
        Task.signed_at,
        Task.source,
        Task.source_ref,
        Task.source_date,
        Unit.name.label("unit_name"),
        _Leader.name.label("leader_name"),
        _Responsible.name.label("person_name"),
    )
    state_col: Any
    deadline_col: Any
    if end is None:
        query = select(*columns, Task.state.label("state_at"), Task.deadline.label("deadline_at"))
        state_col, deadline_col = Task.state, Task.deadline
    else:
        asof = ledger_as_of(end)
        query = select(*columns, asof.c.state.label("state_at"), asof.c.deadline.label("deadline_at")).join(
            asof, asof.c.task_id == Task.id
        )
        state_col, deadline_col = asof.c.state, asof.c.deadline
    query = (
        query.join(Unit, Unit.id == Task.unit_id)
        .outerjoin(_Leader, _Leader.id == Task.lead_leader_id)
        .outerjoin(_Responsible, _Responsible.id == Task.responsible_person_id)
    )
    return query, state_col, deadline_col


def _chunks(ids: list[int], size: int = 500) -> Iterator[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _co_units(conn: Any, ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for chunk in _chunks(ids):
        for task_id, name in conn.execute(
            select(TaskCoUnit.task_id, Unit.name)
            .join(Unit, Unit.id == TaskCoUnit.unit_id)
            .where(TaskCoUnit.task_id.in_(chunk))
            .order_by(TaskCoUnit.task_id, Unit.id)
        ):
            out.setdefault(task_id, []).append(name)
    return out


def _last_notes(conn: Any, ids: list[int], end: datetime | None) -> dict[int, str]:
    out: dict[int, str] = {}
    for chunk in _chunks(ids):
        latest = select(func.max(ProgressReport.id)).where(ProgressReport.task_id.in_(chunk))
        if end is not None:
            latest = latest.where(ProgressReport.at <= end)
        latest = latest.group_by(ProgressReport.task_id)
        for task_id, note in conn.execute(
            select(ProgressReport.task_id, ProgressReport.note).where(ProgressReport.id.in_(latest.scalar_subquery()))
        ):
            out[task_id] = note
    return out


def _import_data(conn: Any, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The import event's data: the ledger's own progress note and closing date, where the task came from one."""
    out: dict[int, dict[str, Any]] = {}
    for chunk in _chunks(ids):
        for task_id, data in conn.execute(
            select(Event.task_id, Event.data).where(
                Event.task_id.in_(chunk), Event.seq == 1, Event.trigger == IMPORT_TRIGGER
            )
        ):
            out[task_id] = data or {}
    return out


def _closed_on(conn: Any, ids: list[int], end: datetime | None) -> dict[int, tuple[datetime, str]]:
    """When each task last entered 'closed' (by the end of the as-of day), and by which trigger."""
    out: dict[int, tuple[datetime, str]] = {}
    for chunk in _chunks(ids):
        query = select(Event.task_id, Event.at, Event.trigger).where(
            Event.task_id.in_(chunk),
            Event.to_state == "closed",
            or_(Event.from_state.is_(None), and_(Event.from_state != "closed")),
        )
        if end is not None:
            query = query.where(Event.at <= end)
        for task_id, at, trigger in conn.execute(query.order_by(Event.task_id, Event.seq)):
            out[task_id] = (at, trigger)
    return out


def _closed_date(entered: tuple[datetime, str] | None, data: dict[str, Any], app: App) -> date | None:
    if entered is None:
        return None
    at, trigger = entered
    if trigger == IMPORT_TRIGGER and data.get("closed_on"):
        try:
            return date.fromisoformat(str(data["closed_on"]))
        except ValueError:
            pass
    return at.astimezone(app.tz).date()


def _deadline_cell(expression: str | None, due: date | None, ongoing: bool) -> Cell:
    """整改时限 as the ledger wrote it (立行立改, 6月底前); a plain date where it was one."""
    if expression and expression.strip():
        text = expression.strip()
        if due is not None and text == due.isoformat():
            return due
        return text
    return due if due is not None else ("长期坚持" if ongoing else None)


def _field_cell(value: Any) -> Cell:
    if value is None:
        return None
    if isinstance(value, list):
        return "、".join(map(str, value))
    if isinstance(value, int):
        return value
    return str(value)
