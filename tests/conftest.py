"""Shared fixtures: real SQLite files and a real PostgreSQL schema per test.

PostgreSQL tests skip with the reason when the server is unreachable, except
under CI=true, where an unreachable server fails them: CI must exercise both.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, text

from duban.engine.app import App
from duban.engine.config.settings import Settings
from duban.engine.domain.clock import FixedClock
from duban.engine.services.workspace import init_workspace

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
ORG = EXAMPLES / "org.yaml"
PG_URL = os.environ.get("DUBAN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"
START = datetime(2026, 9, 7, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai

# People of examples/org.yaml that the tests lean on.
PRINCIPAL = "wangjun"  # leader
DEPUTY = "zhangwei"  # leader
UNIT = "社会事务科"
UNIT_HEAD = "fenglei"  # head of 社会事务科
OTHER_UNIT_MEMBER = "liuxia"  # head of 阳光社区党支部, not of 社会事务科
SUPERVISOR = "huangtao"


def _pg_problem() -> str | None:
    try:
        engine = create_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001
        return (
            f"PostgreSQL unreachable at {PG_URL}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        )


_PG_PROBLEM: str | None | bool = False


def require_pg() -> None:
    global _PG_PROBLEM
    if _PG_PROBLEM is False:
        _PG_PROBLEM = _pg_problem()
    if _PG_PROBLEM:
        if IN_CI:
            pytest.fail(f"{_PG_PROBLEM} (CI=true: PostgreSQL tests must run, not skip)")
        pytest.skip(str(_PG_PROBLEM))


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh schema on the PostgreSQL server, reached through search_path; dropped afterwards."""
    require_pg()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated database with the sample organisation, copied for each test (migrations run once)."""
    path = tmp_path_factory.mktemp("template") / "duban.db"
    app = App.build(Settings(database_url=str(path)), clock=FixedClock(START))
    init_workspace(app, ORG, single_desk=True)
    app.close()
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    target = tmp_path / "duban.db"
    shutil.copy(sqlite_template, target)
    return str(target)


def _schema_url(schema: str) -> str:
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


def _libpq_url() -> str:
    """PG_URL as libpq (pg_dump, psycopg) spells it: without SQLAlchemy's ``+driver``."""
    scheme, rest = PG_URL.split("://", 1)
    return f"{scheme.split('+')[0]}://{rest}"


@pytest.fixture(scope="session")
def pg_template() -> str | None:
    """The DDL and rows of one migrated schema with the sample organisation, as ``pg_dump`` writes them.

    Migrating a fresh schema costs about a second per test; replaying the dump into a new schema costs a tenth of
    that, so the 160-odd PostgreSQL cases of ``db_url`` migrate once per test worker. Every name in the dump is
    qualified with the template's schema, a token no data holds, so the dump replays under any other name.
    None (the cases then migrate as before) where ``pg_dump`` is missing.
    """
    require_pg()
    if shutil.which("pg_dump") is None:
        return None
    schema = f"dubantpl_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        app = App.build(Settings(database_url=_schema_url(schema)), clock=FixedClock(START))
        init_workspace(app, ORG, single_desk=True)
        app.close()
        dump = subprocess.run(
            ["pg_dump", "--schema", schema, "--no-owner", "--no-privileges", "--inserts", _libpq_url()],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    # psql meta-commands (\restrict, which pg_dump writes since 15.14) are for psql, not the server
    statements = "\n".join(line for line in dump.splitlines() if not line.startswith("\\"))
    return statements.replace(schema, "{schema}")


@pytest.fixture
def pg_workspace(pg_template: str | None) -> Iterator[str]:
    """A migrated schema of its own with the sample organisation; dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    url = _schema_url(schema)
    if pg_template is None:
        admin = create_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        app = App.build(Settings(database_url=url), clock=FixedClock(START))
        init_workspace(app, ORG, single_desk=True)
        app.close()
    else:
        with psycopg.connect(_libpq_url(), autocommit=True) as conn:
            conn.execute(pg_template.replace("{schema}", schema).encode())  # bytes: no placeholders parsed
    try:
        yield url
    finally:
        with psycopg.connect(_libpq_url(), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE'.encode())


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Both databases: the engine's promises hold on each. Each test gets a migrated workspace of its own."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_workspace")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def make_app(tmp_path: Path, clock: FixedClock) -> Iterator[Callable[[str], App]]:
    apps: list[App] = []

    def build(url: str) -> App:
        app = App.build(Settings(database_url=url, evidence_dir=tmp_path / "evidence"), clock=clock)
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.close()


@pytest.fixture
def app(db_url: str, make_app: Callable[[str], App]) -> App:
    return make_app(db_url)


@pytest.fixture
def sqlite_app(sqlite_url: str, make_app: Callable[[str], App]) -> App:
    return make_app(sqlite_url)


class Result:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self):  # type: ignore[no-untyped-def]
        return json.loads(self.out)


@pytest.fixture
def call(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DUBAN_NOW", "2026-09-07T09:00")
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("DUBAN_USER", raising=False)
    monkeypatch.delenv("DUBAN_LANG", raising=False)
    monkeypatch.delenv("LC_ALL", raising=False)

    def invoke(*args: str) -> Result:
        capsys.readouterr()
        from duban.cli.main import run

        with pytest.raises(SystemExit) as exit_info:
            run(list(args))
        captured = capsys.readouterr()
        return Result(int(exit_info.value.code or 0), captured.out, captured.err)

    return invoke
