"""One beat at a time: a file lock on one machine, an advisory lock on PostgreSQL.

A second beat (started by mistake, or a standby) waits for the lock instead of
ticking; should two tick anyway, the outbox dedup keys keep every
notification single. The lock lives as long as the process holds it.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from ..app import App

ADVISORY_KEY = 0x64756261  # "duba"


@contextmanager
def beat_lock(app: App) -> Iterator[bool]:
    """Yields True while this process holds the lock, False if another does."""
    if app.db.dialect == "postgresql":
        with app.db.engine.connect() as conn:
            held = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar())
            conn.commit()
            try:
                yield held
            finally:
                if held:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                    conn.commit()
        return
    folder = app.db.path.parent if app.db.path is not None else Path.cwd()
    path = folder / "duban-beat.lock"
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
