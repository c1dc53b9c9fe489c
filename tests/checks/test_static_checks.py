"""Lint and type checks run with the suite, so CI enforces them (both tools come with the test extra)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _tool(name: str) -> list[str]:
    exe = Path(sys.executable).with_name(name)
    if exe.exists():
        return [str(exe)]
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]'")
    return [found]


def test_ruff() -> None:
    result = subprocess.run(
        [*_tool("ruff"), "check", "engine", "cli", "web", "tests", "benchmarks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy(tmp_path: Path) -> None:
    """Type-check the package under the name it is installed as (duban.engine, duban.cli, duban.web).

    The folders are mapped to ``duban.*`` at install time, which mypy cannot follow; a tree of links
    ``duban/engine -> engine`` … gives it the installed layout without copying a file.
    """
    tree = tmp_path / "duban"
    tree.mkdir()
    for folder in ("engine", "cli", "web", "workflows"):
        (tree / folder).symlink_to(ROOT / folder, target_is_directory=True)
    command = [*_tool("mypy"), "-p", "duban.engine", "-p", "duban.cli", "-p", "duban.web"]
    env = {**os.environ, "MYPYPATH": str(tmp_path)}
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_sql_is_never_built_from_input() -> None:
    """Every value reaches the database as a bound parameter: SQL text built with f-strings may only splice in
    constants of the code (column lists, placeholders, a dialect's lock clause), never a name or filter a user
    gave; there is no user-chosen sort column, and no LIKE without an escape character."""
    import ast
    import re

    spliced_ok = re.compile(
        r"^(mark|marks|tmarks|emarks|lock|ph|_ABOUT_COLUMNS|table|columns|col|cols|names|placeholders|COLUMNS|"
        r"TASK_COLUMNS|EVENT_COLUMNS|.*_COLUMNS|.*mark.*|.*\.join\(.*\)|len\(.*\)|chunk.*)$"
    )
    offenders: list[str] = []
    for path in sorted((ROOT / "engine").rglob("*.py")) + sorted((ROOT / "cli").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("like", "ilike")
                and not any(k.arg == "escape" for k in node.keywords)
            ):
                offenders.append(f"{path.name}:{node.lineno}: LIKE without escape")
            if isinstance(node, ast.JoinedStr):
                text_parts = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
                if not re.search(r"\b(SELECT|INSERT|UPDATE|DELETE)\b", text_parts):
                    continue
                for v in node.values:
                    if isinstance(v, ast.FormattedValue):
                        spliced = ast.unparse(v.value)
                        if not spliced_ok.match(spliced):
                            offenders.append(f"{path.name}:{node.lineno}: SQL built with {{{spliced}}}")
    assert offenders == []
