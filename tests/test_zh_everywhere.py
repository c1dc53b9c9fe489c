"""Chinese all the way through: under --lang zh, what the commands print has no English words left in it.

A demo workspace (six weeks of work, circulars, notifications) plus two extension requests, one denied;
then a set of everyday commands, and a set of mistakes, each under --lang zh. Every ASCII word in the output
must be a code or a key (task codes, person ids, state and step keys, setting names, file suffixes, channel
names), a path, or what the user typed (quoted back): anything else is an English leftover.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from cli.main import COMMAND_MODULES
from engine.demo import EXAMPLES, run_demo
from engine.registry import WorkflowRegistry
from engine.services.extensions import decide_extension, request_extension

NOW = "2026-10-26T10:00"
_SPECS = WorkflowRegistry.from_dirs([]).specs

# Codes and keys a Chinese reader meets as they are: typed in commands, written in files, or chosen by the office.
ALLOWED = {
    "ZG",
    "BF",  # task code prefixes
    "duban",  # the command itself, in hints such as 用 'duban list' 查看
    "example",
    "gov",
    "cn",  # e-mail addresses of the sample organisation
    *(spec.name for spec in _SPECS),  # workflow names
    *(key for spec in _SPECS for key in spec.states),  # state keys (workflow show)
    *(key for spec in _SPECS for key in spec.triggers),  # step keys, as `duban fire CODE STEP` takes them
    "assigned",
    "in_progress",
    "submitted",
    "reviewed",
    "closed",
    "cancelled",  # state keys (workflow show)
    "assign",
    "start",
    "progress",
    "submit",
    "approve",
    "reject",
    "close",
    "reopen",
    "cancel",
    "remind",
    "extend",
    "grant_extension",
    "deny_extension",  # step keys, as `duban fire CODE STEP` takes them
    "file",
    "console",
    "email",
    "webhook",
    "sms",  # channel names (DUBAN_CHANNELS)
    "docx",
    "xlsx",
    "svg",
    "html",
    "csv",
    "json",
    "txt",
    "png",
    "markdown",
    "pdf",
    "yaml",
    "yml",  # file suffixes
    "weekly",
    "monthly",  # the schedule names in examples/circulars.yaml
    "web",
    "os",
    "pg",
    "root",  # account prefixes (web:NAME, os:NAME) and the demo's operating-system account
    "zh",
    "en",
    "Asia",
    "Shanghai",  # setting values
    "Excel",
    "WPS",
    "XLSX",
    "CSV",
    "YAML",
    "DOCX",
    "HTML",
    "SVG",
    "PNG",
    "PDF",
    "JSON",
    "SQLite",
    "PostgreSQL",
    "Celery",
    "Redis",
    "RabbitMQ",
    "TLS",
    "URL",
    "FILE",
    "DATE",
    "CODE",
    "ID",
    "PERSON_ID",
    "OPTIONS",
    "ARGS",
    "COMMAND",
    "TEXT",
    "INTEGER",
    "Mermaid",
    "Graphviz",
    "DOT",
    "mermaid",
    "dot",
    "uvicorn",
    "api",
    "pg_dump",
    "KB",
    "MB",
    "GB",
    "postgresql",
    "psycopg",
    "week",
    "month",
    "quarter",
    "year",  # choices, as typed
    "table",
    "list",
    "show",
    "issue",
    "check",
    "graph",
    "anchor",
    "log",
    "verify",
    "retry",
    "token",
    "signins",
    "set",
    "password",
    "add",
    "import",
    "deny",  # subcommand names, as typed
    *COMMAND_MODULES,  # command names, as typed
}
METAVAR = re.compile(r"^[A-Z][A-Z_]+$")  # click's placeholders in --help: FILE, DATE, INTEGER RANGE
WORD = re.compile(r"(?<![\w\-.@:/])[A-Za-z][A-Za-z_]+(?![\w\-@/])")
QUOTED = re.compile(r"'[^']*'|“[^”]*”|\"[^\"]*\"")  # what the user typed, quoted back; hints like 'duban list'
CHOICES = re.compile(r"\[[\w|]+\]")  # click's choices in --help: [week|month|quarter|year]
PATHISH = re.compile(r"\S*[/\\]\S*|\S+@\S+|DUBAN_\w+|--[\w-]+|\b[0-9a-f]{6,}\b|\b\w+=")  # \w+=: a key to type


def english_words(text: str, people: set[str]) -> list[str]:
    stripped = PATHISH.sub(" ", QUOTED.sub(" ", CHOICES.sub(" ", text)))
    return sorted({w for w in WORD.findall(stripped) if w not in ALLOWED and w not in people and not METAVAR.match(w)})


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("zh") / "demo"
    result = run_demo(folder)
    app = result.app
    app.clock.set(app.clock.now().replace(hour=10))  # type: ignore[attr-defined]
    request_extension(app, "zhaomin", "ZG-2026-0017", date(2026, 11, 30), "资金未到位")
    second = request_extension(app, "songjie", "ZG-2026-0005", date(2026, 11, 30), "需协调")
    decide_extension(app, "zhangwei", second, False, "理由不充分")
    app.close()
    (folder / "少列.csv").write_text("序号,问题\n1,路灯损坏\n", encoding="utf-8")
    (folder / "台账.yaml").write_text("tasks: []\n", encoding="utf-8")
    (folder / "旧版.xls").write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504))  # an OLE (.xls) header
    (folder / "乱码.csv").write_bytes(b"\xff\xfe\x00\xd8garbled\x81\x81\x81")
    return str(folder / "duban.db")


@pytest.fixture(scope="module")
def people() -> set[str]:
    org = yaml.safe_load((EXAMPLES / "org.yaml").read_text(encoding="utf-8"))
    return {p["id"] for p in org["people"]}


EVERYDAY = [
    "list",
    "list --overdue",
    "show ZG-2026-0017",
    "show ZG-2026-0005",
    "show BF-2026-0001",
    "workflow show rectification",
    "workflow show assistance",
    "notifications list",
    "org show",
    "config show",
    "circulars list",
    "campaign list",
    "audit verify",
    "audit log --limit 60",
    "extension list",
    "report",
    "report --format markdown",
    "sweep --dry-run",
    "account signins",
    "--help",
    "report --help",
    "import --help",
    "extension --help",
]
MISTAKES = [
    "list --state nope",
    "export -o 台账.pdf",
    "report -o 通报.pdf",
    "report --as-of 2026-13-01",
    "show ZG-2026-9999",
    "--as fenglei fire ZG-2026-0017 bogus",
    "--as fenglei approve ZG-2026-0017",
    "--as zhangwei reopen ZG-2026-0003",
    "--as fenglei remind ZG-2026-0017",
    "--as zhaomin extend ZG-2026-0017 --to 明年 --reason 再议",
    "workflow show nope",
    "report --period decade",
    "sweep --now 2030-01-01",
    "list --nope",
    "--as wangjun import {dir}/少列.csv --dry-run",
    "--as wangjun import {dir}/台账.yaml",
    "report --from 2026-10-10 --to 2026-10-01",
    "report --as-of 2030-01-01",
    "list --limit 0",
    "circulars show abc",
    "audit verify --anchor {dir}/没有.json",
    "campaign add 新专项 --feedback-date 2026-09-01 --start 2026-08-01",
    "--as zhaomin extend ZG-2026-0016 --to 2026-01-01 --reason 再议",
    "restore {dir}/没有.db",
    "--as wangjun import {dir}/旧版.xls",
    "--as wangjun import {dir}/乱码.csv",
    "--as wangjun import {dir}/少列.csv --sheet 第一页",
    "--as wangjun import {dir}",
    "report --format pdf",
    "report --format xlsx",
    "report --format table -o {dir}/通报.txt",
    "report -o {dir}/没有的文件夹/通报.docx",
    "--as wangjun assign --title ​ --unit 社会事务科 --leader 张伟 --deadline 年底前",
    "--as wangjun assign --title 测试 --unit 社会事务科 --leader fenglei --deadline 年底前",
    "--as zhaomin progress ZG-2026-0017 --percent 50 --note ​",
    "--as wangjun assign --workflow assistance --title 帮扶 --unit 东城社区党支部 --leader 陈静 --deadline 年底前",
]


@pytest.mark.parametrize("command", EVERYDAY + MISTAKES)
def test_every_word_is_chinese_under_lang_zh(  # type: ignore[no-untyped-def]
    command: str, demo_db: str, people: set[str], call, monkeypatch
) -> None:
    monkeypatch.setenv("DUBAN_NOW", NOW)
    folder = str(Path(demo_db).parent)
    result = call("--db", demo_db, "--lang", "zh", *command.replace("{dir}", folder).split())
    if command in MISTAKES:
        assert result.code != 0 and result.err.startswith("duban：错误："), result.err
    else:
        assert result.code == 0, result.err
    assert english_words(result.out + result.err, people) == [], result.out + result.err


def test_the_checker_finds_english(people: set[str]) -> None:
    """The check itself: an English sentence is caught, codes and paths are not."""
    assert english_words("duban：错误：state 无效：'nope' is not a state", people) == ["is", "not", "state"]
    assert english_words("状态 pending", people) == ["pending"]  # a status must be shown in Chinese
    assert english_words("ZG-2026-0017 zhangwei /tmp/demo/duban.db 5fbcc594372e DUBAN_TZ 'typed words'", people) == []


def test_steps_states_rules_and_statuses_are_named_in_chinese(  # type: ignore[no-untyped-def]
    demo_db: str, call, monkeypatch
) -> None:
    """Where a key column stands beside its name, the other columns still speak Chinese."""
    monkeypatch.setenv("DUBAN_NOW", NOW)

    def out(*args: str) -> str:
        result = call("--db", demo_db, "--lang", "zh", *" ".join(args).split())
        assert result.code == 0, result.err
        return result.out

    shown = out("workflow show rectification")
    assert re.search(r"│ start +│ 签收 +│ 已交办 +│ 整改中 +│", shown)  # from and to by their names
    assert "须说明理由" in shown and "须先报送进展" in shown and "延期申请（新时限）" in shown
    assert "待审批" in out("extension list") and "不同意" in out("extension list")
    assert "单位负责人" in out("org show") and "默认" in out("config show")
    log = out("audit log", "--limit", "5")
    assert "不同意延期" in log and "申请延期" in log
    assert "设置密码" in out("account signins")
    en = call("--db", demo_db, "--lang", "en", "extension", "list")
    assert "pending" in en.out and "denied" in en.out  # English keeps the words it had
