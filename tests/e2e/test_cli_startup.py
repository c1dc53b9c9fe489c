"""Commands are loaded when used: the table that says where each lives is whole, and a quick command does not
pay for SQLAlchemy."""

from __future__ import annotations

import os
import subprocess
import sys

import click

from duban.cli import main
from tests.conftest import ROOT


def test_every_command_is_where_the_table_says() -> None:
    group = main.RootGroup(name="probe")
    group.load_all()
    registered = set(group.commands)
    assert registered == set(main.COMMAND_MODULES), registered ^ set(main.COMMAND_MODULES)
    for name, module in main.COMMAND_MODULES.items():
        probe = main.RootGroup(name="probe")
        probe.load(module)
        assert name in probe.commands, f"{name} is not registered by cli/{module}.py"
        assert isinstance(probe.commands[name], click.Command)


def test_version_and_help_load_no_database_code() -> None:
    code = (
        "import sys\n"
        "from duban.cli.main import run\n"
        "try:\n"
        "    run(['--version'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('sqlalchemy', 'duban.engine.app', 'celery', 'openpyxl') if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout


def test_list_pages_and_streams(call, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`duban list` shows a page and says how to see more; --after is the next page; --all streams every one."""
    import json

    from tests.conftest import DEPUTY, EXAMPLES, PRINCIPAL, UNIT

    db = str(tmp_path / "l.db")
    assert call("--db", db, "init", "--single-desk", "--org", str(EXAMPLES / "org.yaml")).code == 0
    codes = []
    for i in range(7):
        made = call("--db", db, "--as", PRINCIPAL, "assign", "--title", f"问题{i}", "--unit", UNIT, "--leader", DEPUTY)
        codes.append(made.out.strip())
    first = call("--db", db, "list", "--limit", "3", "--json")
    assert [t["code"] for t in first.json()] == codes[:3]
    assert f"--after {codes[2]}" in first.err
    second = call("--db", db, "list", "--limit", "3", "--after", codes[2], "--json")
    assert [t["code"] for t in second.json()] == codes[3:6]
    last = call("--db", db, "list", "--limit", "3", "--after", codes[5], "--json")
    assert [t["code"] for t in last.json()] == codes[6:] and "--after" not in last.err
    every = call("--db", db, "list", "--all", "--json")
    assert [t["code"] for t in json.loads(every.out)] == codes
    assert json.loads(call("--db", db, "list", "--all", "--state", "closed", "--json").out) == []
    bad = call("--db", db, "list", "--all", "--light", "purple", "--json")
    assert bad.code == 2 and bad.out == ""  # refused before anything is printed
    assert call("--db", db, "list", "--limit", "0").code == 2


def test_the_list_page_size_is_the_services_own() -> None:
    from duban.cli.tasks import LIST_PAGE
    from duban.engine.services import queries

    assert LIST_PAGE == queries.LIST_PAGE


def test_show_and_a_step_load_no_sqlalchemy(call, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The commands run all day read and fire on the driver connection: neither imports SQLAlchemy nor the ORM
    models, and a refused step (recorded on the chain) does not either."""
    from tests.conftest import DEPUTY, EXAMPLES, PRINCIPAL, UNIT

    db = str(tmp_path / "s.db")
    assert call("--db", db, "init", "--single-desk", "--org", str(EXAMPLES / "org.yaml")).code == 0
    code = call("--db", db, "--as", PRINCIPAL, "assign", "--title", "路灯", "--unit", UNIT, "--leader", DEPUTY).out
    probe = (
        "import sys\n"
        "from duban.cli.main import run\n"
        "try:\n"
        "    run(sys.argv[1:])\n"
        "except SystemExit as exc:\n"
        "    print('exit', exc.code)\n"
        "print(sorted(m for m in ('sqlalchemy', 'duban.engine.persistence.models') if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    head = "fenglei"  # the unit head of the example organisation's 社会事务科
    for argv, status in (
        (["show", code.strip()], 0),
        (["start", code.strip()], 0),
        (["start", code.strip()], 5),  # refused: already started; the refusal is recorded all the same
        (["show", code.strip(), "--json"], 0),
    ):
        out = subprocess.run(
            [sys.executable, "-c", probe, "--db", db, "--as", head, *argv],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            check=True,
        )
        lines = out.stdout.strip().splitlines()
        assert lines[-2] == f"exit {status}", (argv, out.stdout, out.stderr)
        assert lines[-1] == "[]", (argv, out.stdout)
