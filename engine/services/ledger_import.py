"""Ledgers in: import a spreadsheet as tasks (the export is ledger_export.py).

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
from datetime import date, datetime, time
from pathlib import Path

from ..app import App
from ..domain.deadlines import Deadline
from ..domain.errors import BadFile, InvalidInput, NotPermitted, UnknownPerson
from ..domain.machine import describe_rules
from ..domain.planning import DeadlineClock
from ..domain.text import Bilingual, Lang
from ..domain.textcheck import check_text
from ..domain.watch import clock_runs, next_attention
from ..domain.workflow import WorkflowSpec
from ..ledger import headers as H
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
from ..ledger.writer import Cell, Column, write_ledger
from ..persistence.importing import ImportPlan, LedgerStore, write_rows
from .chain import record_org
from .identity import acting
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


def _validate(app: App, actor_id: str | None, path: Path, options: ImportOptions, *, check_actor: bool) -> _Pass:  # noqa: C901 - one pass over the rows that checks every group of fields; cut next
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
            row = uow.campaigns.get(campaign)
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
