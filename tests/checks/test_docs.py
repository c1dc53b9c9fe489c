"""The reference in docs/ is whole and true: every command and every DUBAN_* setting is documented, and
everything documented exists."""

from __future__ import annotations

import re
from collections.abc import Iterator

import click

from duban.cli.main import cli
from tests.conftest import ROOT

DOCS = ROOT / "docs"
NOT_SETTINGS = {"DUBAN_NAME"}  # the placeholder of "DUBAN_NAME=value" in messages about the config file
SOURCES = ("engine", "cli", "web")


def command_paths(cmd: click.Command = cli, path: tuple[str, ...] = ()) -> Iterator[str]:
    if cmd is cli:
        cli.load_all()  # commands are loaded when used
    if isinstance(cmd, click.Group):
        for name, sub in cmd.commands.items():
            yield from command_paths(sub, (*path, name))
    else:
        yield " ".join(path)


def settings_in_code() -> set[str]:
    found: set[str] = set()
    for folder in SOURCES:
        for path in (ROOT / folder).rglob("*.py"):
            found |= set(re.findall(r"DUBAN_[A-Z0-9_]*[A-Z0-9]", path.read_text(encoding="utf-8")))
    return found - NOT_SETTINGS


def test_every_command_is_documented() -> None:
    text = (DOCS / "commands.md").read_text(encoding="utf-8")
    missing = [p for p in command_paths() if f"`duban {p}" not in text]
    assert missing == [], f"commands missing from docs/commands.md: {missing}"


def test_every_documented_command_exists() -> None:
    text = (DOCS / "commands.md").read_text(encoding="utf-8")
    known = set(command_paths())
    groups = {p.split(" ")[0] for p in known if " " in p}
    wrong = []
    for first, second in re.findall(r"`duban ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?", text):
        path = f"{first} {second}" if first in groups else first
        if path not in known:
            wrong.append(path)
    assert wrong == [], f"docs/commands.md documents commands that do not exist: {wrong}"


def test_every_setting_is_documented_and_exists() -> None:
    text = (DOCS / "settings.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`(DUBAN_[A-Z0-9_]*[A-Z0-9])`", text)) - NOT_SETTINGS
    used = settings_in_code()
    assert sorted(used - documented) == [], "settings missing from docs/settings.md"
    assert sorted(documented - used) == [], "docs/settings.md documents settings nothing reads"


def test_the_readme_is_short_and_its_links_resolve() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.encode("utf-8")) < 12_000
    for target in re.findall(r"\]\((docs/[^)#]+)", text):
        assert (ROOT / target).is_file(), target
