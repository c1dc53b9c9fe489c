"""`duban list` over a large ledger: the first page, and `list --all --json`, beside the raw driver's scan.

The script writes *n* open tasks straight into the table (``sweep_bench.populate``), then, alternated:
- **first page**: ``duban.engine.services.queries.list_page`` in this process (what `duban list` calls), and the
  whole `duban list` process, against the raw driver reading the first 51 rows of the same columns by code.
- **all**: the whole `duban list --all --json` process writing to /dev/null, with its peak resident memory
  (``ru_maxrss`` of the child), against a raw process: ``sqlite3`` scanning the same columns and joins in code
  order and writing each row as a JSON line (and, beside it, the shorter 17-column scan of the first figures).

    python benchmarks/list_bench.py [--tasks 1000000] [--rounds 3]
    python benchmarks/list_bench.py --quick
    python benchmarks/list_bench.py --tasks 1000000 --keep /tmp/list-1m.db   # populate once, reuse after
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.scratch import Scratch  # noqa: E402
from benchmarks.sweep_bench import NOW, populate  # noqa: E402
from duban.engine.app import App  # noqa: E402
from duban.engine.config.settings import Settings  # noqa: E402
from duban.engine.domain.clock import FixedClock  # noqa: E402
from duban.engine.services import queries  # noqa: E402
from duban.engine.services.workspace import init_workspace  # noqa: E402

ORG = ROOT / "examples" / "org.yaml"
DUBAN = [sys.executable, "-c", "from duban.cli.main import run; run()"]
COLUMNS = (
    "t.id, t.code, t.title, t.workflow, t.state, u.name, p.name, t.deadline, t.deadline_expr, t.category, "
    "t.campaign, t.priority, t.escalation_level, t.updated_at, t.version, t.original_deadline, t.lead_leader_id"
)
# The columns and joins `list --all` reads (engine/persistence/read/task_list.py, _SHOWN and the parent's code):
# the baseline the goal names ("the raw driver's scan of the same columns"). COLUMNS above is the older, shorter
# baseline of the first figures, kept beside it so the two runs compare.
LISTED = (
    COLUMNS + ", t.closed_on, t.sign_by, t.signed_at, t.source, t.source_ref, t.source_date, t.instruction, "
    "t.ongoing, pa.code"
)
RAW_SCAN = """
import json, sqlite3, sys
con = sqlite3.connect(sys.argv[1])
out = open('/dev/null', 'w')
columns = sys.argv[2]
names = [c.strip() for c in columns.split(',')]
for row in con.execute(f"SELECT {columns} FROM tasks t JOIN units u ON u.id = t.unit_id "
                       "LEFT JOIN people p ON p.id = t.lead_leader_id LEFT JOIN tasks pa ON pa.id = t.parent_id "
                       "ORDER BY t.code"):
    out.write(json.dumps(dict(zip(names, row)), ensure_ascii=False) + '\\n')
"""


def child(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak resident MiB of one child process (GNU time: a child forked from this big process
    would otherwise report this process's resident size as its own peak)."""
    report = Path(os.environ.get("TMPDIR", "/tmp")) / f"list-bench-{os.getpid()}.time"
    t0 = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "%M", "-o", str(report), *argv],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{argv[-3:]} failed: {proc.stderr.decode(errors='replace')}")
    kib = float(report.read_text().split()[-1])
    report.unlink()
    return elapsed, kib / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="20,000 tasks, one round")
    parser.add_argument(
        "--keep",
        metavar="FILE",
        help="measure on this SQLite file: populated if absent, kept afterwards (populate once)",
    )
    args = parser.parse_args()
    if args.quick:
        args.tasks, args.rounds = 20_000, 1
    scratch = Scratch("", "duban-list-")
    db = args.keep or scratch.sqlite("list")
    fresh = not Path(db).exists()
    app = App.build(Settings(database_url=db), clock=FixedClock(NOW))
    if fresh:
        init_workspace(app, ORG, single_desk=True)
        t0 = time.perf_counter()
        populate(app, args.tasks, 0.01)
        print(f"populated {args.tasks:,} tasks in {time.perf_counter() - t0:.0f} s", flush=True)
    else:
        with app.db.engine.connect() as conn:
            args.tasks = conn.exec_driver_sql("SELECT count(*) FROM tasks").scalar_one()
        print(f"reusing {db}: {args.tasks:,} tasks", flush=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8"}
    for name in ("DUBAN_NOW", "DUBAN_USER", "DUBAN_DATABASE_URL"):
        env.pop(name, None)
    import sqlite3

    raw = sqlite3.connect(db)
    first_sql = (
        f"SELECT {COLUMNS} FROM tasks t JOIN units u ON u.id = t.unit_id LEFT JOIN people p ON p.id = t.lead_leader_id "
        "ORDER BY t.code LIMIT 51"
    )
    load_before = os.getloadavg()[0]
    runs: dict[str, list[float]] = {
        k: [] for k in ("page", "page_raw", "page_process", "all", "all_raw", "all_raw_short")
    }
    peaks: dict[str, list[float]] = {"all": [], "all_raw": [], "all_raw_short": []}
    list_argv = [*DUBAN, "--db", db, "list"]
    child(list_argv, env)  # compile bytecode, warm the page cache
    for _ in range(args.rounds):
        t = time.perf_counter()
        page = queries.list_page(app, queries.TaskFilter(), limit=50)
        runs["page"].append(time.perf_counter() - t)
        assert len(page.rows) == 50 and page.more
        t = time.perf_counter()
        rows = raw.execute(first_sql).fetchall()
        runs["page_raw"].append(time.perf_counter() - t)
        assert len(rows) == 51
        runs["page_process"].append(child(list_argv, env)[0])
        s, peak = child([*DUBAN, "--db", db, "list", "--all", "--json"], env)
        runs["all"].append(s)
        peaks["all"].append(peak)
        for key, columns in (("all_raw", LISTED), ("all_raw_short", COLUMNS)):
            s, peak = child([sys.executable, "-c", RAW_SCAN, db, columns], env)
            runs[key].append(s)
            peaks[key].append(peak)
    med = {k: statistics.median(v) for k, v in runs.items()}
    peak = {k: max(v) for k, v in peaks.items()}
    load = (load_before, os.getloadavg()[0])
    print(
        f"\n{args.tasks:,} tasks, SQLite file; medians of {args.rounds} alternated rounds; "
        f"load {load[0]:.1f} before, {load[1]:.1f} after\n"
    )
    print(f"{'figure':<44}{'engine':>12}{'raw':>12}{'ratio':>8}")
    print(
        f"{'first page, in process (list_page)':<44}{med['page'] * 1000:>10.1f}ms{med['page_raw'] * 1000:>10.1f}ms"
        f"{med['page'] / med['page_raw']:>7.1f}x"
    )
    print(f"{'first page, whole `duban list` process':<44}{med['page_process'] * 1000:>10.0f}ms")
    print(
        f"{'`list --all --json`, whole process':<44}{med['all']:>11.1f}s{med['all_raw']:>11.1f}s"
        f"{med['all'] / med['all_raw']:>7.2f}x"
    )
    print(f"{'  peak resident memory':<44}{peak['all']:>9.0f}MiB{peak['all_raw']:>9.0f}MiB")
    print(
        f"{'  against the shorter raw scan (17 columns)':<44}{'':>12}{med['all_raw_short']:>11.1f}s"
        f"{med['all'] / med['all_raw_short']:>7.2f}x"
    )
    results = {
        "tasks": args.tasks,
        "rounds": args.rounds,
        "load": load,
        "at": datetime.now(UTC).isoformat(),
        "seconds": med,
        "peak_mib": peak,
    }
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "list_bench.json").write_text(json.dumps(results, indent=2))
    app.close()
    raw.close()
    if not args.keep:
        scratch.drop(db)


if __name__ == "__main__":
    main()
