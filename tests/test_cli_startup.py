"""Commands are loaded when used: the table that says where each lives is whole, and a quick command does not
pay for SQLAlchemy."""

from __future__ import annotations

import os
import subprocess
import sys

import click

from cli import main

from .conftest import ROOT


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
        "from cli.main import run\n"
        "try:\n"
        "    run(['--version'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('sqlalchemy', 'engine.app', 'celery', 'openpyxl') if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout
