"""Importing a generated 100,000-row ledger, beside a raw-driver baseline in the same run.

Engine: ``duban.engine.services.ledger_import.import_ledger`` on a CSV file — stream the file, recognise the
headers, validate every row (organisation, deadline expressions, status words, duplicates, rows
imported before), then write the tasks, their co-units and one ``import`` event each in one
transaction. Raw: the driver alone (``sqlite3`` / ``psycopg``) running ``executemany`` of the very
same rows (read back from the engine's database beforehand, so nothing is left out) into the same
tables of a fresh database, in one transaction, with the same durability settings.
Peak Python memory (tracemalloc) is measured in separate, traced runs at 25k, 50k and 100k rows.

    python benchmarks/import_bench.py [--rows 100000] [--no-pg] [--xlsx] [--memory 25000 50000 100000]

Not a test: run it by hand; figures go to benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine  # noqa: E402

from benchmarks.scratch import Scratch  # noqa: E402
from duban.engine.app import App  # noqa: E402
from duban.engine.config.settings import Settings  # noqa: E402
from duban.engine.domain.clock import FixedClock  # noqa: E402
from duban.engine.persistence.db import normalise_url  # noqa: E402
from duban.engine.persistence.importing import CO_UNIT_COLUMNS, EVENT_COLUMNS, TASK_COLUMNS, insert_sql  # noqa: E402
from duban.engine.services.ledger_import import ImportOptions, import_ledger  # noqa: E402
from duban.engine.services.workspace import init_workspace  # noqa: E402

ORG = ROOT / "examples" / "org.yaml"
LEADER = "wangjun"
START = datetime(2026, 9, 7, 1, 0, tzinfo=UTC)
CAMPAIGN = "2026年主题教育整改"
UNITS = [
    "社会事务科",
    "阳光社区党支部",
    "和平社区党支部",
    "东城社区党支部",
    "综合办公室",
    "党建办公室",
    "阳光社区第一网格",
]
LEADERS = ["张伟", "陈静", "李红", "王军"]
PEOPLE = ["冯磊", "刘霞", "徐明", "宋杰", "赵敏", "吴海燕", "林芳"]
DEADLINES = [
    "2026-10-09",
    "2026年11月底前",
    "12月底前",
    "年底前",
    "第四季度末",
    "立行立改",
    "长期坚持",
    "2026年10月30日",
]
STATUSES = ["正在整改", "已完成", "未启动", "基本完成", "整改中，已完成排查", "持续推进", "已销号"]
CATEGORIES = ["民生问题", "领导班子问题", "专项整治问题"]


def generate_csv(path: Path, n: int) -> None:
    """A ledger as offices write them: a title row, Chinese headers, numbered measures, co-units, every form."""
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([f"{CAMPAIGN}问题整改台账"])
        w.writerow(
            [
                "序号",
                "问题类别",
                "存在问题",
                "整改举措",
                "牵头领导",
                "责任部门",
                "配合单位",
                "责任人",
                "完成时限",
                "完成情况",
            ]
        )
        for i in range(1, n + 1):
            u = i % len(UNITS)
            w.writerow(
                [
                    i,
                    CATEGORIES[i % 3],
                    f"针对第{i}号网格部分老旧小区路灯损坏、夜间照明不足、群众反映强烈的问题",
                    f"1.组织网格员开展第{i}轮全面排查，建立损坏清单\n2.协调供电部门限期维修更换\n3.建立日常巡查报修机制",
                    LEADERS[i % len(LEADERS)],
                    UNITS[u],
                    "、".join(UNITS[(u + 1) % len(UNITS) : (u + 1) % len(UNITS) + 1 + i % 2]),
                    PEOPLE[u],
                    DEADLINES[i % len(DEADLINES)],
                    STATUSES[i % len(STATUSES)],
                ]
            )


def generate_xlsx(source: Path, path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("台账")
    with source.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.reader(fh):
            ws.append(row)
    wb.save(path)


def fresh_app(url: str) -> App:
    app = App.build(Settings(database_url=url), clock=FixedClock(START))
    init_workspace(app, ORG, single_desk=True)  # people act as typed (--as): no OS accounts to map here
    return app


def engine_import(url: str, ledger: Path, again: bool = False) -> tuple[float, int, float | None]:
    """(seconds, rows imported, seconds to import the same file again, which must add nothing)."""
    app = fresh_app(url)
    gc.collect()
    t0 = time.perf_counter()
    result = import_ledger(app, LEADER, ledger, ImportOptions(campaign=CAMPAIGN))
    seconds = time.perf_counter() - t0
    repeat = None
    if again:
        t0 = time.perf_counter()
        second = import_ledger(app, LEADER, ledger, ImportOptions(campaign=CAMPAIGN))
        repeat = time.perf_counter() - t0
        assert second.imported == 0 and second.existing == result.imported
    app.close()
    return seconds, result.imported, repeat


def rows_of(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """The rows the engine wrote, as the driver returns them: what the raw baseline inserts again."""
    engine = create_engine(normalise_url(url))
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table, columns in (("tasks", TASK_COLUMNS), ("task_co_units", CO_UNIT_COLUMNS), ("events", EVENT_COLUMNS)):
            cols = ", ".join(columns)
            out[table] = [tuple(r) for r in conn.exec_driver_sql(f"SELECT {cols} FROM {table} ORDER BY 1, 2")]
    engine.dispose()
    return out


def raw_sqlite(path: Path, rows: dict[str, list[tuple[Any, ...]]]) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    gc.collect()
    t0 = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(insert_sql("tasks", TASK_COLUMNS, "sqlite"), rows["tasks"])
    conn.executemany(insert_sql("task_co_units", CO_UNIT_COLUMNS, "sqlite"), rows["task_co_units"])
    conn.executemany(insert_sql("events", EVENT_COLUMNS, "sqlite"), rows["events"])
    conn.execute("COMMIT")
    seconds = time.perf_counter() - t0
    conn.close()
    return seconds


def raw_postgres(url: str, rows: dict[str, list[tuple[Any, ...]]]) -> float:
    import psycopg

    dsn, _, query = url.replace("postgresql+psycopg://", "postgresql://").partition("?")
    options = dict(p.split("=", 1) for p in query.split("&") if p)
    conn = psycopg.connect(dsn, options=options.get("options", "").replace("%3D", "="))
    gc.collect()
    t0 = time.perf_counter()
    with conn.cursor() as cur:
        cur.executemany(insert_sql("tasks", TASK_COLUMNS, "postgresql"), rows["tasks"])
        cur.executemany(insert_sql("task_co_units", CO_UNIT_COLUMNS, "postgresql"), rows["task_co_units"])
        cur.executemany(insert_sql("events", EVENT_COLUMNS, "postgresql"), rows["events"])
    conn.commit()
    seconds = time.perf_counter() - t0
    conn.close()
    return seconds


def traced_peak(url: str, ledger: Path) -> float:
    """Peak Python heap of one import, in MiB (a separate run: tracing slows everything down)."""
    app = fresh_app(url)
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    import_ledger(app, LEADER, ledger, ImportOptions(campaign=CAMPAIGN))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    app.close()
    return peak / 2**20


def bench(
    name: str,
    url_for: Callable[[str], str],
    raw: Callable[[str, dict[str, list[tuple[Any, ...]]]], float],
    ledger: Path,
    cleanup: Callable[[str], None],
    rounds: int,
) -> dict[str, float]:
    results: dict[str, float] = {}
    for i in range(rounds):  # alternated; the best of each counts (disk times vary from run to run)
        url = url_for("engine")
        seconds, n, repeat = engine_import(url, ledger, again=i == 0)
        results["engine"] = min(results.get("engine", float("inf")), seconds)
        if repeat is not None:
            results["reimport"] = repeat
        rows = rows_of(url)
        cleanup(url)
        target = url_for("raw")
        fresh_app(target).close()  # the same schema and organisation, no tasks
        results["raw"] = min(results.get("raw", float("inf")), raw(target, rows))
        cleanup(target)
        del rows
    results["ratio"] = results["engine"] / results["raw"]
    results["rows"] = n
    print(
        f"{name:10} rows {n:>7,}   raw {results['raw']:6.2f} s   engine {results['engine']:6.2f} s   "
        f"engine/raw {results['ratio']:4.2f}×   engine {n / results['engine']:8,.0f} rows/s   "
        f"again (adds nothing) {results['reimport']:5.2f} s"
    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--memory", type=int, nargs="*", default=[25_000, 50_000, 100_000])
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--xlsx", action="store_true", help="also time the engine on the same ledger as XLSX")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="duban-import-bench-"))
    ledger = tmp / "ledger.csv"
    generate_csv(ledger, args.rows)
    out: dict[str, Any] = {
        "rows": args.rows,
        "file_mib": ledger.stat().st_size / 2**20,
        "when": datetime.now(UTC).isoformat(),
    }
    print(f"ledger: {args.rows:,} rows, {out['file_mib']:.1f} MiB CSV")

    scratch = Scratch(args.pg, "duban-import-bench-")
    out["sqlite"] = bench(
        "sqlite", scratch.sqlite, lambda url, rows: raw_sqlite(Path(url), rows), ledger, scratch.drop, args.rounds
    )
    if not args.no_pg:
        out["postgres"] = bench("postgres", scratch.postgres, raw_postgres, ledger, scratch.drop, args.rounds)
    if args.xlsx:
        book = tmp / "ledger.xlsx"
        generate_xlsx(ledger, book)
        url = scratch.sqlite("xlsx")
        seconds, n, _again = engine_import(url, book)
        scratch.drop(url)
        out["xlsx_sqlite_seconds"] = seconds
        print(f"xlsx       rows {n:>7,}   engine {seconds:6.2f} s ({book.stat().st_size / 2**20:.1f} MiB workbook)")
    memory = {}
    for n in args.memory:
        part = tmp / f"ledger-{n}.csv"
        generate_csv(part, n)
        url = scratch.sqlite(f"mem{n}")
        peak = traced_peak(url, part)
        scratch.drop(url)
        memory[n] = {"peak_mib": peak, "file_mib": part.stat().st_size / 2**20}
        print(
            f"memory     rows {n:>7,}   peak heap {peak:6.1f} MiB   "
            f"({peak * 2**20 / n:5.0f} B/row; the CSV is {memory[n]['file_mib']:.1f} MiB, "
            f"{part.stat().st_size / n:4.0f} B/row)"
        )
    out["memory"] = memory
    scratch.close()
    results = ROOT / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    (results / "import.json").write_text(json.dumps(out, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
