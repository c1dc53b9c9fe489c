"""Whole-process start-up: `duban --version`, `duban show` and `duban start` against a bare interpreter, one run.

Every command is a new process, so what it imports is paid each time. Each
command runs alternately with `python -c pass` (bytecode compiled by a warm-up
run first); the figure is the median wall time and its ratio to the bare
interpreter's median. Goals: --version under 5x, show and start under 10x.

    python benchmarks/startup_bench.py [--rounds 15] [--quick]

Not a test: run it by hand; figures go to benchmarks/README.md and benchmarks/results/startup.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DUBAN = [sys.executable, "-c", "from duban.cli.main import run; run()"]


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 3 rounds")
    args = parser.parse_args()
    rounds = 3 if args.quick else args.rounds
    folder = Path(tempfile.mkdtemp(prefix="duban-startup-"))
    db = folder / "w.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8"}
    # PYTHONDONTWRITEBYTECODE would make every run compile every module from source: installed code has its bytecode.
    for name in ("DUBAN_NOW", "DUBAN_USER", "DUBAN_DATABASE_URL", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    setup = [
        ["--db", str(db), "init", "--single-desk", "--org", str(ROOT / "examples" / "org.yaml")],
        ["--db", str(db), "--as", "wangjun", "assign", "--title", "路灯", "--unit", "社会事务科", "--leader", "张伟"],
    ]
    for extra in setup:
        subprocess.run([*DUBAN, *extra], env=env, cwd=folder, check=True, capture_output=True)
    commands = {
        "bare": [sys.executable, "-c", "pass"],
        "version": [*DUBAN, "--version"],
        "show": [*DUBAN, "--db", str(db), "--as", "fenglei", "show", "ZG-2026-0001"],
        # start then reopen… would change state; `fire` of an internal trigger keeps it: remind is a leader's
        "start": [*DUBAN, "--db", str(db), "--as", "fenglei", "start", "ZG-2026-0001"],
    }
    for argv in commands.values():  # compile bytecode, warm the page cache
        timed(argv, env, folder)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, argv in commands.items():
            times[name].append(timed(argv, env, folder))
    medians = {name: statistics.median(values) for name, values in times.items()}
    out: dict[str, object] = {"when": datetime.now(UTC).isoformat(), "rounds": rounds}
    for name in ("version", "show", "start"):
        ratio = medians[name] / medians["bare"]
        out[name] = {"median_s": medians[name], "ratio": ratio}
        print(f"{name:8} {medians[name] * 1000:7.0f} ms   {ratio:5.1f}x bare ({medians['bare'] * 1000:.0f} ms)")
    results = ROOT / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    (results / "startup.json").write_text(json.dumps(out, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
