"""The schema: migrations match the models, and databases of other versions are refused clearly."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from duban.engine.app import App
from duban.engine.config.settings import Settings
from duban.engine.domain.errors import StoreError
from duban.engine.persistence.db import KNOWN_REVISIONS, SCHEMA_HEAD
from duban.engine.persistence.migrate import head_revision
from duban.engine.persistence.models import Base
from duban.engine.services.workspace import init_workspace, open_workspace
from tests.helpers import connection_of


def test_code_knows_the_alembic_head() -> None:
    assert head_revision() == SCHEMA_HEAD
    assert SCHEMA_HEAD in KNOWN_REVISIONS


def test_migrations_build_exactly_the_models(db_url: str, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url)
    with app.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    assert diff == []


def test_sqlite_is_tuned_for_durability(sqlite_app: App) -> None:
    with sqlite_app.uow(write=False) as uow:
        pragmas = {
            p: connection_of(uow).exec_driver_sql(f"PRAGMA {p}").scalar()
            for p in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    assert pragmas == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1, "busy_timeout": 30000}


def test_init_twice_is_harmless(sqlite_app: App) -> None:
    init_workspace(sqlite_app)
    open_workspace(sqlite_app)


def test_newer_schema_is_refused(db_url: str, make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(db_url)
    with app.db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    with pytest.raises(StoreError, match=r"its schema \(revision 0099\) is newer than this duban knows; upgrade duban"):
        open_workspace(app)


def test_empty_database_is_refused(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    app = App.build(Settings(database_url=str(path)))
    with pytest.raises(StoreError, match="not initialised; run 'duban init --org FILE' first"):
        open_workspace(app)
    app.close()


def test_unreachable_postgres_is_one_clear_error() -> None:
    app = App.build(Settings(database_url="postgresql://nobody@127.0.0.1:1/none"))
    with pytest.raises(StoreError) as info:
        open_workspace(app)
    assert info.value.render("en").startswith("database postgresql+psycopg://nobody@127.0.0.1:1/none: cannot open it (")
    app.close()


def test_renaming_the_chain_keeps_every_hash_and_anchor(app: App) -> None:
    """Schema 0012 only renames ledger_seq/ledger_hash/ledger_head to chain_*: down and up again, the history
    still verifies and an anchor taken before still matches."""
    from alembic import command

    from duban.engine.persistence.migrate import alembic_config
    from duban.engine.services.audit import take_anchor, verify
    from tests.helpers import new_task, to_submitted

    app.settings.extra["DUBAN_AUDIT_KEY"] = "k" * 32
    to_submitted(app, new_task(app))
    anchor = take_anchor(app)
    cfg = alembic_config()
    with app.db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0009")  # the revision before the rename
    with app.db.engine.connect() as conn:
        assert (
            conn.execute(text("SELECT COUNT(*) FROM events WHERE ledger_seq IS NOT NULL")).scalar() == 4
        )  # assign, start, progress, submit
        assert conn.execute(text("SELECT seq FROM ledger_head")).scalar() == anchor.chain_seq
    with app.db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, SCHEMA_HEAD)
    verdict = verify(app, anchor=anchor)
    assert verdict.ok, verdict.breaks
