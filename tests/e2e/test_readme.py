"""The README is true: its tour runs as written, command by command, and the reference it points to is whole."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def walkthrough() -> list[list[str]]:
    """The commands of the ```sh block under "## A five-minute tour", continuation lines joined, comments dropped."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## A five-minute tour", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "no ```sh block under '## A five-minute tour'"
    joined = re.sub(r"\\\n", " ", block.group(1))
    commands = [shlex.split(line, comments=True) for line in joined.splitlines()]
    return [c for c in commands if c]


def test_the_walkthrough_is_the_one_parsed() -> None:
    commands = walkthrough()
    assert commands[0][:2] == ["duban", "init"] and any(c[0] == "export" for c in commands)
    assert sum(c[0] == "duban" for c in commands) >= 10


def test_the_using_it_walkthrough_runs_as_written(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    env = {**os.environ, "LANG": "C.UTF-8", "PYTHONPATH": str(ROOT)}
    for name in ("DUBAN_USER", "DUBAN_NOW", "DUBAN_DATABASE_URL", "DUBAN_LANG", "DUBAN_CONFIG", "LC_ALL"):
        env.pop(name, None)
    for command in walkthrough():
        if command[0] == "export":
            key, _, value = command[1].partition("=")
            env[key] = value
            continue
        assert command[0] == "duban", command
        for arg in command:  # the files the walkthrough attaches are the reader's own: make them
            if arg.endswith((".jpg", ".pdf", ".png")) and not (tmp_path / arg).exists():
                (tmp_path / arg).write_bytes(b"evidence")
        done = subprocess.run(
            [sys.executable, "-c", "from duban.cli.main import run; run()", *command[1:]],
            env=env,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=120,
        )
        assert done.returncode == 0, f"{shlex.join(command)} exited {done.returncode}: {done.stderr}"
        assert "Traceback" not in done.stderr
    assert (tmp_path / "duban.db").exists()
    assert "时间线" in done.stdout and "已销号" in done.stdout, done.stdout  # the last command: show, in Chinese
