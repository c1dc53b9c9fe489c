"""Chinese all the way through: with --lang zh, click's own errors, the deadline parser, `show`, the
notification list and every --help speak Chinese; --lang is taken after any command."""

from __future__ import annotations

import re

import click
import pytest

from duban.cli.main import cli
from duban.cli.zh import _walk
from tests.conftest import DEPUTY, PRINCIPAL, UNIT, UNIT_HEAD

CJK = re.compile(r"[\u4e00-\u9fff]")
# three English words in a row, outside quotes, option names, metavars and choices
ENGLISH = re.compile(r"\b[A-Za-z]{2,}[a-z]*(?:[ ,]+[A-Za-z]{2,}){2,}")


def english_sentences(text: str) -> list[str]:
    found = []
    for line in text.splitlines():
        bare = re.sub(r"'[^']*'|\"[^\"]*\"|\[[^\]]*\]|--?[\w-]+|\b[A-Z][A-Z_|]+\b|\S*[/.@]\S*", " ", line)
        if ENGLISH.search(bare) and not CJK.search(line):
            found.append(line)
    return found


def test_the_english_detector_detects() -> None:
    assert english_sentences("  -h, --help  Show this message and exit.")
    assert english_sentences("duban: error: No such option '--stat'")
    assert not english_sentences("  --state TEXT  仅此状态的任务；可重复。")
    assert not english_sentences("用法： duban list [OPTIONS]")


cli.load_all()  # commands are loaded when used; every one is checked here
COMMANDS = sorted(path for path, _ in _walk(cli))


@pytest.mark.parametrize("path", COMMANDS, ids=[p or "duban" for p in COMMANDS])
def test_every_help_is_chinese(call, path: str) -> None:  # type: ignore[no-untyped-def]
    args = path.split()
    result = call("--lang", "zh", *args, "--help")
    assert result.code == 0, result.err
    assert result.out.startswith("用法：") and "选项" in result.out
    assert english_sentences(result.out) == [], result.out
    command: click.Command = cli
    for name in args:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    assert command.help and CJK.search(command.help), path
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help and CJK.search(param.help), f"{path} {param.opts}"
    # and the English help is English again afterwards
    english = call(*args, "--help")
    assert english.out.startswith("Usage:") and "Show this message and exit." in " ".join(english.out.split())


def test_help_after_the_command_takes_lang_too(call) -> None:  # type: ignore[no-untyped-def]
    result = call("list", "--help", "--lang", "zh")
    assert result.code == 0 and "仅逾期任务" in result.out and "显示本帮助并退出" in result.out


def test_the_top_help_is_in_sections_with_examples(call) -> None:  # type: ignore[no-untyped-def]
    zh = call("--lang", "zh", "--help").out
    positions = [zh.index(s) for s in ("日常办理:", "台账:", "督办:", "管理:", "示例:")]
    assert positions == sorted(positions)
    daily = zh[positions[0] : positions[1]]
    assert "assign" in daily and "approve" in daily and "import" not in daily
    assert "sweep" in zh[positions[2] : positions[3]] and "init" in zh[positions[3] : positions[4]]
    assert "duban --as fenglei start ZG-2026-0001" in zh
    en = call("--help").out
    assert all(s in en for s in ("Daily work:", "Ledger:", "Supervision:", "Administration:", "Examples:"))
    assert "Other:" not in en  # every command has its section


CLICK_ERRORS = [
    (["list", "--staet", "x"], 2, "没有选项 '--staet'。是否要用 '--state'？"),
    (["list", "--state"], 2, "选项 '--state' 需要一个值"),
    (["show"], 2, "缺少参数 'CODE'"),
    (["list", "--light", "blue"], 2, "'--light' 的值无效：'blue' 不在可选值"),
    (["aprove", "X"], 2, "没有命令 'aprove'。是否要用 'approve'？"),
    (["progress", "X", "--percent", "200", "--note", "x"], 2, "200 不在范围"),
    (["sweep", "extra"], 2, "多余的参数（extra）"),
    (["export", "--as-of", "2026-13-01", "-o", "x.csv"], 2, "'2026-13-01' 不是 2000–2100 年间的日期"),
    (["notifications", "retry"], 2, "请给出通知编号"),
    (["assign", "--title", "x"], 2, "缺少选项 '--unit'"),
    (
        ["--as", PRINCIPAL, "assign", "--title", "x", "--unit", UNIT, "--leader", DEPUTY, "--deadline", "下周吧"],
        2,
        "整改时限 无效：无法识别 '下周吧'；请按以下任一形式填写：2026-06-30、",
    ),
    (
        [
            "--as",
            PRINCIPAL,
            "assign",
            "--title",
            "x",
            "--unit",
            UNIT,
            "--leader",
            DEPUTY,
            "--deadline",
            "2226年6月底前",
        ],
        2,
        "落在 2226 年；整改时限须在 2000 至 2100 年之间",
    ),
    (
        ["--as", PRINCIPAL, "assign", "--title", "x", "--unit", UNIT, "--leader", DEPUTY, "--field", "k"],
        2,
        "应写作 键=值",
    ),
]


CASES = [
    (args, status, phrase, where)
    for args, status, phrase in CLICK_ERRORS
    for where in ("before", "after")
    # an option still waiting for its value would take a trailing --lang as that value: only "before" there
    if not (where == "after" and args[-1].startswith("--"))
]


@pytest.mark.parametrize(
    ("args", "status", "phrase", "where"), CASES, ids=[f"{' '.join(a[:2])}-{w}" for a, _s, _p, w in CASES]
)
def test_bad_input_is_one_chinese_line(call, sqlite_url: str, args, status, phrase, where) -> None:  # type: ignore[no-untyped-def]
    argv = (
        ["--db", sqlite_url, "--lang", "zh", *args]
        if where == "before"
        else ["--db", sqlite_url, *args, "--lang", "zh"]
    )
    result = call(*argv)
    assert result.code == status, result.err
    assert result.err.startswith("duban：错误：") and result.err.count("\n") == 1, result.err
    assert phrase in result.err, result.err
    assert english_sentences(result.err) == [], result.err
    assert "Traceback" not in result.err and result.out == ""


def test_show_names_the_next_steps_in_chinese(call, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    made = call("--db", sqlite_url, "--as", PRINCIPAL, "assign", "--title", "路灯", "--unit", UNIT, "--leader", DEPUTY)
    code = made.out.strip()
    shown = call("--db", sqlite_url, "--as", PRINCIPAL, "show", code, "--lang", "zh")  # --lang after the command
    assert shown.code == 0 and "时间线" in shown.out
    steps = next(line for line in shown.out.splitlines() if line.startswith("您可执行："))
    assert "撤销" in steps and "催办" in steps and not re.search(r"[a-z]", steps), steps
    english = call("--db", sqlite_url, "--as", PRINCIPAL, "show", code)
    assert "You may: cancel, remind" in english.out
    listed = call("--db", sqlite_url, "list", "--lang", "zh")
    assert "编号" in listed.out and "共 1 项" in listed.out
    assert call("--db", sqlite_url, "--as", UNIT_HEAD, "start", code, "--lang", "zh").out.startswith(f"{code}：签收")
