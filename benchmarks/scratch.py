"""Throw-away databases for the benchmarks: a SQLite file in a temporary folder, or a PostgreSQL schema."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

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
