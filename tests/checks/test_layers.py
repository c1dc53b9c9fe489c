"""Dependencies point one way: the domain imports neither click, Celery nor a database library."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_domain_imports_no_framework() -> None:
    modules = sorted(p.stem for p in (ROOT / "engine" / "domain").glob("*.py") if p.stem != "__init__")
    code = (
        "import sys\n"
        + "".join(f"import duban.engine.domain.{m}\n" for m in modules)
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'click', 'celery', 'kombu', 'sqlalchemy', 'psycopg', 'rich'})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == ""
    assert len(modules) >= 8


def test_engine_does_not_import_the_cli() -> None:
    for path in (ROOT / "engine").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "import cli" not in text and "from cli" not in text, path
        assert "import click" not in text, path


FOLDERS = ("engine", "cli", "web", "workflows")


def test_the_package_installs_under_one_import_name(tmp_path: Path) -> None:
    """Run from outside the checkout, every entry point loads as duban.* and no top-level engine/cli/web/workflows.

    Another project's module named ``engine`` or ``cli`` in site-packages can then neither break duban nor be broken.
    """
    code = (
        "import sys\n"
        "import duban.cli.main as m\n"
        "m.cli.load_all()\n"
        "import duban.web.app, duban.engine.worker, duban.engine.demo, duban.workflows\n"
        f"bad = sorted(n for n in sys.modules if n.split('.')[0] in {FOLDERS!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert out.stdout.strip() == ""


def test_no_source_imports_a_folder_by_its_bare_name() -> None:
    """Inside the checkout ``import engine`` would still work (the folder is on the path), so a test keeps it out."""
    bare = re.compile(r"^\s*(?:from|import)\s+(?:" + "|".join(FOLDERS) + r")(?:\.|\s|$)", re.M)
    offenders = [
        str(path.relative_to(ROOT))
        for folder in (*FOLDERS, "tests", "benchmarks", "examples")
        if (ROOT / folder).exists()
        for path in (ROOT / folder).rglob("*.py")
        if bare.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


SERVICES = ROOT / "engine" / "services"
_CONNECTION = {"conn", "_conn"}  # a connection, on whatever object: services never hold one
_UOW_PRIVATE = {"session", "_session", "_orm"}  # the unit of work's ORM session


def persistence_leaks(source: str) -> list[str]:
    """Where a module reaches past the repository seam: an SQLAlchemy import, or the unit of work's connection."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"{node.lineno}: import {a.name}" for a in node.names if a.name.split(".")[0] == "sqlalchemy"]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy" and not node.level:
            found.append(f"{node.lineno}: from {node.module} import")
        elif isinstance(node, ast.Attribute) and (
            node.attr in _CONNECTION
            or (node.attr in _UOW_PRIVATE and isinstance(node.value, ast.Name) and node.value.id == "uow")
        ):
            found.append(f"{node.lineno}: .{node.attr}")
    return found


def test_services_reach_the_database_only_through_persistence() -> None:
    """SQL lives in engine/persistence (repositories and read models reached through the unit of work)."""
    offenders = {
        str(path.relative_to(ROOT)): leaks
        for path in sorted(SERVICES.glob("*.py"))
        if (leaks := persistence_leaks(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_the_persistence_check_catches_a_leak() -> None:
    assert persistence_leaks("from sqlalchemy import select\n") == ["1: from sqlalchemy import"]
    assert persistence_leaks("import sqlalchemy.orm\n") == ["1: import sqlalchemy.orm"]
    assert persistence_leaks("def f(uow):\n    return uow.conn.execute(x)\n") == ["2: .conn"]
    assert persistence_leaks("def f(uow):\n    return uow.session.execute(x)\n") == ["2: .session"]
    assert persistence_leaks("def f(uow):\n    return Repo(uow._conn)\n") == ["2: ._conn"]
    assert persistence_leaks("def f(uow, request):\n    return uow.web.viewer(request.session)\n") == []


def test_the_unit_of_work_keeps_its_connection_private() -> None:
    from duban.engine.persistence.uow import UnitOfWork

    public = {name for name in (*dir(UnitOfWork), *UnitOfWork.__annotations__) if not name.startswith("_")}
    assert not public & {"conn", "session", "connection"}
