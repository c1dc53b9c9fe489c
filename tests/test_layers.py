"""Dependencies point one way: the domain imports neither click, Celery nor a database library."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_domain_imports_no_framework() -> None:
    modules = sorted(p.stem for p in (ROOT / "engine" / "domain").glob("*.py") if p.stem != "__init__")
    code = (
        "import sys\n"
        + "".join(f"import engine.domain.{m}\n" for m in modules)
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
