"""Lifecycles per second with the sample organisation (31 people) and with a county's (2,000), in one run.

A notified step needs people and units (who is the unit head, who leads, who
supervises); reading all of them per step made the cost grow with the
organisation. The figure is the rate at 2,000 people as a share of the rate
at 31, measured alternately on two SQLite files, medians of seven rounds; and
the same for CPU time per lifecycle (process time), which other engineers'
load on the machine and fsync times disturb far less than wall time.
Goal: at least 90 %.

    python benchmarks/org_bench.py [--lifecycles 200] [--people 2000] [--quick]

Not a test: run it by hand; figures go to benchmarks/README.md and benchmarks/results/org.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.scratch import Scratch  # noqa: E402
from benchmarks.transitions_bench import fresh_app, lifecycles  # noqa: E402

ORG = ROOT / "examples" / "org.yaml"


def county_org(folder: Path, people: int) -> Path:
    """The sample organisation plus townships with their own heads and members, up to ``people`` people."""
    doc = yaml.safe_load(ORG.read_text(encoding="utf-8"))
    have = len(doc["people"])
    township = 0
    while have < people:
        township += 1
        unit = f"第{township}乡镇"
        head = f"t{township}h"
        doc["units"].append({"name": unit, "head": head})
        doc["people"].append(
            {"id": head, "name": f"乡镇{township}负责人", "unit": unit, "roles": ["unit_head", "unit_member"]}
        )
        have += 1
        for m in range(min(19, people - have)):
            doc["people"].append(
                {"id": f"t{township}m{m}", "name": f"乡镇{township}干部{m}", "unit": unit, "roles": ["unit_member"]}
            )
            have += 1
    path = folder / f"org-{people}.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lifecycles", type=int, default=200)
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 30 lifecycles, one round")
    args = parser.parse_args()
    n, rounds = (30, 1) if args.quick else (args.lifecycles, args.rounds)
    scratch = Scratch("", "duban-org-bench-")
    big = county_org(scratch.folder, args.people)
    apps = {name: fresh_app(scratch.sqlite(name), org) for name, org in (("small", ORG), ("large", big))}
    wall: dict[str, list[float]] = {"small": [], "large": []}
    cpu: dict[str, list[float]] = {"small": [], "large": []}
    for _ in range(rounds):  # alternated on the same two files, so a burst of other load hits both alike
        for name, app in apps.items():
            started = time.process_time()
            wall[name].append(lifecycles(app, n))
            cpu[name].append((time.process_time() - started) / n)
    for app in apps.values():
        app.close()
    best = {name: statistics.median(v) for name, v in wall.items()}
    per = {name: statistics.median(v) for name, v in cpu.items()}
    ratio = best["large"] / best["small"]
    cpu_ratio = per["small"] / per["large"]
    print(
        f"lifecycles/s  31 people {best['small']:7.1f}   {args.people} people {best['large']:7.1f}   ratio {ratio:6.1%}"
    )
    print(
        f"CPU per lifecycle  31 people {per['small'] * 1000:6.2f} ms   {args.people} people "
        f"{per['large'] * 1000:6.2f} ms   rate ratio {cpu_ratio:6.1%}"
    )
    results = ROOT / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    out = {
        "when": datetime.now(UTC).isoformat(),
        "lifecycles": n,
        "people": args.people,
        **best,
        "ratio": ratio,
        "cpu_ms_per_lifecycle": {k: v * 1000 for k, v in per.items()},
        "cpu_ratio": cpu_ratio,
    }
    (results / "org.json").write_text(json.dumps(out, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
