"""Throw-away databases for the benchmarks: a SQLite file in a temporary folder, or a PostgreSQL schema."""

from __future__ import annotations

import argparse
import json
import tempfile
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text


class Scratch:
    """Each benchmark measures on fresh databases it makes here and drops after, so runs never see each other."""

    def __init__(self, pg: str, prefix: str) -> None:
        self.pg = pg
        self.folder = Path(tempfile.mkdtemp(prefix=prefix))
        self._admin: Engine | None = None

    def sqlite(self, tag: str = "bench") -> str:
        return str(self.folder / f"{tag}-{uuid.uuid4().hex[:8]}.db")

    def postgres(self, tag: str = "bench") -> str:
        if self._admin is None:
            self._admin = create_engine(self.pg)
        schema = f"bench_{tag}_{uuid.uuid4().hex[:8]}"
        with self._admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        return f"{self.pg}?options=-csearch_path%3D{schema}"

    def drop(self, url: str) -> None:
        if "%3D" in url and self._admin is not None:
            with self._admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{url.rsplit("%3D", 1)[1]}" CASCADE'))
            return
        for suffix in ("", "-wal", "-shm"):
            Path(url + suffix).unlink(missing_ok=True)

    def close(self) -> None:
        if self._admin is not None:
            self._admin.dispose()


Run = Callable[[str, Callable[[], str], Callable[[str], None], list[int]], dict[str, Any]]


def sizes_main(description: str, prefix: str, run: Run, result_name: str) -> None:
    """The command line of a benchmark run at several sizes on SQLite and PostgreSQL; results in benchmarks/results/."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    results: dict[str, Any] = {"when": datetime.now(UTC).isoformat()}
    scratch = Scratch(args.pg, prefix)
    if not args.no_sqlite:
        results["sqlite"] = run("sqlite", scratch.sqlite, scratch.drop, args.sizes)
    if not args.no_pg:
        results["postgres"] = run("postgres", scratch.postgres, scratch.drop, args.sizes)
    scratch.close()
    folder = Path(__file__).resolve().parent / "results"
    folder.mkdir(exist_ok=True)
    (folder / result_name).write_text(json.dumps(results, indent=2), encoding="utf-8")
