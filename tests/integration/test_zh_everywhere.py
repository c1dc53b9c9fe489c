"""Chinese all the way through: under --lang zh, what the commands print has no English words left in it.

A demo workspace (six weeks of work, circulars, notifications) plus two extension requests, one denied;
then a set of everyday commands, and a set of mistakes, each under --lang zh. Every ASCII word in the output
must be a code or a key (task codes, person ids, state and step keys, setting names, file suffixes, channel
names), a path, or what the user typed (quoted back): anything else is an English leftover.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import date
from pathlib import Path

import pytest
import yaml

from duban.cli.main import COMMAND_MODULES
from duban.engine.demo import EXAMPLES, run_demo
from duban.engine.domain.registry import WorkflowRegistry
from duban.engine.services.extensions import decide_extension, request_extension
from duban.engine.services.splitting import NewSubTask, split

# One worker builds the module's demo workspace once, instead of each of the two building its own.
pytestmark = pytest.mark.xdist_group("zh_demo")

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
    "top",
    "all",  # duban report --level top|all
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
    split(app, "liuxia", NewSubTask("ZG-2026-0002", "阳光社区第一网格"))  # 分解: an open sub-task
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
    "substitute list",
    "substitute list --on 2026-10-09",
    "--help",
    "report --help",
    "report --level all",
    "list --top",
    "show ZG-2026-0002",
    "show ZG-2026-0005-2",
    "split --help",
    "close-out --help",
    "import --help",
    "extension --help",
]
MISTAKES = [
    "list --state nope",
    "export -o 台账.pdf",
    "report -o 通报.pdf",
    "report --as-of 2026-13-01",
    "show ZG-2026-9999",
    "--as zhangwei substitute request --substitute zhangwei --from 2026-12-01 --to 2026-12-02 --reason 休假",
    "--as zhangwei substitute request --substitute chenjing --from 2026-12-02 --to 2026-12-01 --reason 休假",
    "--as chenjing --for zhangwei approve ZG-2026-0017",
    "--as zhangwei substitute approve DL-2026-0001",
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
    "--as liuxia split ZG-2026-0002 --unit 阳光社区第二网格 --deadline 2026-12-31",
    "--as liuxia split ZG-2026-0002 --unit 没有的网格",
    "--as liuxia split ZG-2026-0002 --unit 社会事务科",
    "--as liuxia split ZG-2026-0002 --unit 阳光社区党支部",
    "--as wangjun split ZG-2026-0003 --unit 和平社区第一网格",
    "--as fenglei split ZG-2026-0002 --unit 阳光社区第二网格",
    "--as liuxia submit ZG-2026-0002",
    "--as wangjun close-out ZG-2026-0002 -m 不需要",
    "--as liuxia close-out ZG-2026-0002-1 -m 不需要",
    "--as wangjun close-out ZG-2026-0002-1",
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


# Keys as they are written in the organisation, calendar and circular-schedule files; a message names them to say where.
FILE_KEYS = {
    "units", "people", "name", "parent", "head", "channels", "aliases", "id", "unit", "roles", "accounts",
    "email", "phone", "wecom", "dingtalk", "leader", "leaders", "unit_head", "unit_member", "supervisor",
    "supervisors", "unit_heads", "admin", "recorder", "holidays", "workdays", "circulars", "every", "day", "at",
    "campaign", "formats", "chart", "lang", "recipients", "issuer", "signature", "cc", "monday", "sunday",
    "true", "false", "pending", "sending", "sent", "failed", "dead", "digest", "notify", "daily", "none", "each",
}  # fmt: skip

# (file name, content, command): each an organisation file with one mistake, imported by the administrator.
ORG_MISTAKES = [
    ("乱码.yaml", b"\xff\xfe\x81\x81units: []", "org import"),
    ("空字符.yaml", b"units: []\x00", "org import"),
    ("组织.txt", "units: []\n", "org import"),
    ("列表.yaml", "- 县委办\n", "org import"),
    ("多键.yaml", "teams: []\n", "org import"),
    ("非列表.yaml", "units: 5\n", "org import"),
    ("单位非映射.yaml", "units: [县委办]\n", "org import"),
    ("人员非映射.yaml", "people: [张三]\n", "org import"),
    ("未知键.yaml", "units:\n  - {name: 县委办, boss: 张三}\n", "org import"),
    ("非文字.yaml", "units:\n  - {name: [1, 2]}\n", "org import"),
    ("缺名称.yaml", "units:\n  - {parent: 县委办}\n", "org import"),
    ("非名称列表.yaml", "units:\n  - {name: 县委办, channels: {a: 1}}\n", "org import"),
    ("控制字符.yaml", 'units:\n  - {name: "县委\\u0007办"}\n', "org import"),
    ("单位重复.yaml", "units:\n  - {name: 县委办}\n  - {name: 县委办}\n", "org import"),
    ("简称撞名.yaml", "units:\n  - {name: 县委办}\n  - {name: 县政府办, aliases: [县委办]}\n", "org import"),
    ("简称两用.yaml", "units:\n  - {name: 甲局, aliases: [局]}\n  - {name: 乙局, aliases: [局]}\n", "org import"),
    ("编号重复.yaml", "people:\n  - {id: zs, name: 张三}\n  - {id: zs, name: 张山}\n", "org import"),
    ("无此单位.yaml", "people:\n  - {id: zs, name: 张三, unit: 社会事务}\n", "org import"),
    ("无此角色.yaml", "people:\n  - {id: zs, name: 张三, roles: [boss]}\n", "org import"),
    ("账号格式.yaml", "people:\n  - {id: zs, name: 张三, accounts: [zhangsan]}\n", "org import"),
    (
        "账号两用.yaml",
        "people:\n  - {id: zs, name: 张三, accounts: ['os:zs']}\n  - {id: ls, name: 李四, accounts: ['os:zs']}\n",
        "org import",
    ),
    ("通知方式.yaml", "people:\n  - {id: zs, name: 张三, channels: [pigeon]}\n", "org import"),
    ("上级单位.yaml", "units:\n  - {name: 县委办, parent: 县委员会}\n", "org import"),
    ("负责人.yaml", "units:\n  - {name: 县委办, head: nobody}\n", "org import"),
    ("成环.yaml", "units:\n  - {name: 甲局, parent: 乙局}\n  - {name: 乙局, parent: 甲局}\n", "org import"),
    ("语法.yaml", "units:\n  - name: 县委办: 一科\n", "org import"),
    ("键重复.yaml", "units: []\nunits: []\n", "org import"),
    ("别名.yaml", "units:\n  - &u {name: 甲局}\n  - *u\n", "org import"),
    ("制表符.yaml", "units:\n\t- {name: 甲局}\n", "org import"),
    ("空表.csv", "", "org import"),
    ("未知列.csv", "编号,姓名,爱好\n", "org import"),
    ("列重复.csv", "编号,姓名,姓名\n", "org import"),
    ("缺编号.csv", "姓名,单位\n张三,县委办\n", "org import"),
    ("无可识别列.csv", "上级单位\n县委\n", "org import"),
    ("单位表多列.csv", "单位,系统账号\n县委办,os:x\n", "org import"),
    ("格数.csv", "编号,姓名\nzs,张三,多余\n", "org import"),
    ("缺姓名.csv", "编号,姓名\nzs,\n", "org import"),
    ("缺单位名.csv", "单位,上级单位\n,县委\n", "org import"),
]


@pytest.fixture(scope="module")
def files_db(demo_db: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A copy of the demo workspace: refusals recorded here do not change what the everyday commands show."""
    folder = tmp_path_factory.mktemp("zh-files")
    target = folder / "duban.db"
    src, dst = sqlite3.connect(demo_db), sqlite3.connect(target)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    for name, content, _command in ORG_MISTAKES:
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        (folder / name).write_bytes(data)
    (folder / "不是数据库.db").write_bytes(b"not a database at all" * 100)
    other = sqlite3.connect(folder / "别的库.db")
    other.execute("CREATE TABLE notes (x)")
    other.commit()
    other.close()
    newer = sqlite3.connect(folder / "新版本.db")
    newer.executescript(
        "CREATE TABLE alembic_version (version_num TEXT); INSERT INTO alembic_version VALUES ('9999');"
        "CREATE TABLE tasks (id INTEGER); CREATE TABLE events (id INTEGER);"
    )
    newer.commit()
    newer.close()
    (folder / "已有.db").write_bytes(b"")
    (folder / "配置" / ".git").mkdir(parents=True)
    (folder / "配置" / "duban.env").write_text("DUBAN_TZ=Asia/Shanghai\n", encoding="utf-8")
    (folder / "坏行.env").write_text("# 设置\nTZ=Asia/Shanghai\n", encoding="utf-8")
    secret = folder / "公开.env"
    secret.write_text("DUBAN_SMTP_PASSWORD=hunter22\n", encoding="utf-8")
    secret.chmod(0o644)
    (folder / "乱码.env").write_bytes(b"DUBAN_TZ=\xff\xfe\x81\n")
    (folder / "节假日.yaml").write_text("holidays: [2026-13-01]\n", encoding="utf-8")
    (folder / "节假日键.yaml").write_text("vacations: []\n", encoding="utf-8")
    (folder / "节假日非列表.yaml").write_text("workdays: 2026-10-10\n", encoding="utf-8")
    return str(target)


@pytest.mark.parametrize(("name", "command"), [(n, c) for n, _content, c in ORG_MISTAKES])
def test_a_bad_organisation_file_is_refused_in_chinese(  # type: ignore[no-untyped-def]
    name: str, command: str, files_db: str, people: set[str], call, monkeypatch
) -> None:
    monkeypatch.setenv("DUBAN_NOW", NOW)
    path = str(Path(files_db).parent / name)
    result = call("--db", files_db, "--lang", "zh", "--as", "zhouqiang", *command.split(), path)
    assert result.code == 2 and result.err.startswith("duban：错误："), result.err
    assert english_words(result.err, people | FILE_KEYS) == [], result.err
    english = call("--db", files_db, "--lang", "en", "--as", "zhouqiang", *command.split(), path)
    assert english.code == 2 and english.err.startswith("duban: error: "), english.err
    assert english_words(english.err, people | FILE_KEYS), english.err  # English stays English


def test_a_folder_is_not_an_organisation_file(files_db: str, people: set[str], call, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DUBAN_NOW", NOW)
    result = call("--db", files_db, "--lang", "zh", "--as", "zhouqiang", "org", "import", str(Path(files_db).parent))
    assert result.code == 2 and result.err.startswith("duban：错误："), result.err
    assert english_words(result.err, people) == [], result.err


BACKUP_MISTAKES = [
    "restore {dir}/不是数据库.db",
    "restore {dir}/别的库.db",
    "restore {dir}/新版本.db",
    "restore {db}",
    "backup {dir}/已有.db",
    "backup {dir}/没有的文件夹/备份.db",
]


@pytest.mark.parametrize("command", BACKUP_MISTAKES)
def test_a_bad_backup_is_refused_in_chinese(  # type: ignore[no-untyped-def]
    command: str, files_db: str, people: set[str], call, monkeypatch
) -> None:
    monkeypatch.setenv("DUBAN_NOW", NOW)
    args = command.replace("{dir}", str(Path(files_db).parent)).replace("{db}", files_db).split()
    result = call("--db", files_db, "--lang", "zh", *args)
    assert result.code == 2 and result.err.startswith("duban：错误："), result.err
    assert english_words(result.err, people) == [], result.err


def test_backup_on_postgresql_points_to_its_tools_in_chinese(people: set[str], call, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from duban.engine.domain.errors import InvalidInput
    from duban.engine.services.backup import PG_GUIDANCE

    message = InvalidInput(what="备份", detail=PG_GUIDANCE).render("zh")
    assert "pg_dump" in message and english_words(message, people | {"pg_restore"}) == [], message


# (environment variable, file in the test folder, what is wrong with it)
SETTINGS_MISTAKES = [
    ("DUBAN_CONFIG", "没有.env"),
    ("DUBAN_CONFIG", "配置/duban.env"),
    ("DUBAN_CONFIG", "坏行.env"),
    ("DUBAN_CONFIG", "公开.env"),
    ("DUBAN_CONFIG", "乱码.env"),
    ("DUBAN_CALENDAR", "节假日.yaml"),
    ("DUBAN_CALENDAR", "节假日键.yaml"),
    ("DUBAN_CALENDAR", "节假日非列表.yaml"),
    ("DUBAN_CALENDAR", "没有.yaml"),
    ("DUBAN_TZ", "Mars/Olympus"),
]


@pytest.mark.parametrize(("variable", "value"), SETTINGS_MISTAKES)
def test_bad_settings_are_refused_in_chinese(  # type: ignore[no-untyped-def]
    variable: str, value: str, files_db: str, people: set[str], call, monkeypatch
) -> None:
    monkeypatch.setenv("DUBAN_NOW", NOW)
    monkeypatch.setenv(variable, value if variable == "DUBAN_TZ" else str(Path(files_db).parent / value))
    result = call("--db", files_db, "--lang", "zh", "list")
    assert result.code == 2 and result.err.startswith("duban：错误："), result.err
    assert english_words(result.err, people | FILE_KEYS) == [], result.err


SCHEDULE = "circulars:\n  - {name: weekly, every: week, day: monday, at: '09:00'}\n"
POLICY = "scoring:\n  - name: 考核\n    version: 1\n    bands: [{name: 合格}]\n"
# (setting, file name, content, command): a settings file with one mistake, and a command that reads it.
SETTINGS_FILE_MISTAKES = [
    ("DUBAN_CIRCULARS", "通报1.yaml", "weekly: {}\n", "circulars issue"),
    ("DUBAN_CIRCULARS", "通报2.yaml", "circulars: [weekly]\n", "circulars issue"),
    ("DUBAN_CIRCULARS", "通报3.yaml", SCHEDULE.replace("at:", "when:"), "circulars issue"),
    ("DUBAN_CIRCULARS", "通报4.yaml", SCHEDULE.replace("weekly", "Weekly!"), "circulars issue"),
    ("DUBAN_CIRCULARS", "通报5.yaml", SCHEDULE + SCHEDULE.removeprefix("circulars:\n"), "circulars issue"),
    ("DUBAN_CIRCULARS", "通报6.yaml", SCHEDULE.replace("every: week", "every: daily"), "circulars issue"),
    ("DUBAN_CIRCULARS", "通报7.yaml", SCHEDULE.replace("monday", "someday"), "circulars issue"),
    (
        "DUBAN_CIRCULARS",
        "通报8.yaml",
        SCHEDULE.replace("every: week, day: monday", "every: month, day: 31"),
        "circulars issue",
    ),
    ("DUBAN_CIRCULARS", "通报9.yaml", SCHEDULE.replace("'09:00'", "'25:00'"), "circulars issue"),
    ("DUBAN_CIRCULARS", "通报10.yaml", SCHEDULE.replace("}", ", issuer: [1]}"), "circulars issue"),
    ("DUBAN_CIRCULARS", "通报11.yaml", SCHEDULE.replace("}", ", chart: maybe}"), "circulars issue"),
    ("DUBAN_CIRCULARS", "通报12.yaml", SCHEDULE.replace("}", ", lang: fr}"), "circulars issue"),
    ("DUBAN_CIRCULARS", "通报13.yaml", SCHEDULE.replace("}", ", formats: [pdf]}"), "circulars issue"),
    ("DUBAN_CIRCULARS", "通报14.yaml", SCHEDULE.replace("}", ", formats: {a: 1}}"), "circulars issue"),
    ("DUBAN_CIRCULARS", "通报15.yaml", SCHEDULE.replace("}", ", cc: {a: 1}}"), "circulars issue"),
    ("DUBAN_CIRCULARS", "通报16.yaml", SCHEDULE.replace("}", ", recipients: {a: 1}}"), "circulars issue"),
    ("DUBAN_SCORING", "评分1.yaml", "scoring: []\n", "score"),
    ("DUBAN_SCORING", "评分2.yaml", POLICY + "extra: 1\n", "score"),
    ("DUBAN_SCORING", "评分3.yaml", POLICY.replace("    version: 1\n", ""), "score"),
    ("DUBAN_SCORING", "评分4.yaml", POLICY + "    base: 很多\n", "score"),
    ("DUBAN_SCORING", "评分5.yaml", POLICY + "    weights: [1]\n", "score"),
    ("DUBAN_SCORING", "评分6.yaml", POLICY + "    rules: {overdue_working_day: {}}\n", "score"),
    ("DUBAN_SCORING", "评分7.yaml", POLICY + "    rules: {escalation: {levels: {0: 1}}}\n", "score"),
    ("DUBAN_SCORING", "评分8.yaml", POLICY + "    floor: 100\n    ceiling: 50\n", "score"),
    (
        "DUBAN_SCORING",
        "评分9.yaml",
        POLICY.replace("[{name: 合格}]", "[{name: 优, from: 90}, {name: 差, below: 80}]"),
        "score",
    ),
    (
        "DUBAN_SCORING",
        "评分10.yaml",
        POLICY.replace("[{name: 合格}]", "[{name: 优, from: 80}, {name: 差, below: 90}]"),
        "score",
    ),
    ("DUBAN_SCORING", "评分11.yaml", POLICY.replace("[{name: 合格}]", "[{name: 优, from: 80}]"), "score"),
    ("DUBAN_SCORING", "评分12.yaml", POLICY + POLICY.removeprefix("scoring:\n"), "score"),
    ("DUBAN_SCORING", "没有的评分.yaml", None, "score"),
    (
        "DUBAN_ACCOUNTABILITY",
        "问责1.yaml",
        "accountability: []\n",
        "accountability open ZG-2026-0017 --kind 约谈 --person 张三 --decision 约谈",
    ),
    (
        "DUBAN_ACCOUNTABILITY",
        "问责2.yaml",
        "accountability: {kinds: [约谈, 约谈], open: [supervisor], close: [supervisor]}\n",
        "accountability open ZG-2026-0017 --kind 约谈 --person 张三 --decision 约谈",
    ),
    (
        "DUBAN_ACCOUNTABILITY",
        "问责3.yaml",
        "accountability: {kinds: [约谈], open: [boss], close: [supervisor]}\n",
        "accountability open ZG-2026-0017 --kind 约谈 --person 张三 --decision 约谈",
    ),
    (
        "DUBAN_ACCOUNTABILITY",
        "问责4.yaml",
        "accountability: {kinds: [约谈], owner: x}\n",
        "accountability open ZG-2026-0017 --kind 约谈 --person 张三 --decision 约谈",
    ),
    (
        "DUBAN_ACCOUNTABILITY",
        "没有的问责.yaml",
        None,
        "accountability open ZG-2026-0017 --kind 约谈 --person 张三 --decision 约谈",
    ),
]


@pytest.mark.parametrize(("variable", "name", "content", "command"), SETTINGS_FILE_MISTAKES)
def test_a_bad_settings_file_is_refused_in_chinese(  # type: ignore[no-untyped-def]
    variable: str, name: str, content: str | None, command: str, files_db: str, people: set[str], call, monkeypatch
) -> None:
    monkeypatch.setenv("DUBAN_NOW", NOW)
    path = Path(files_db).parent / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    monkeypatch.setenv(variable, str(path))
    result = call("--db", files_db, "--lang", "zh", "--as", "fenglei", *command.split())
    assert result.code != 0 and result.err.startswith("duban：错误："), result.err
    assert english_words(result.err, people | FILE_KEYS | SCORING_KEYS) == [], result.err


SCORING_KEYS = {
    "scoring", "version", "base", "floor", "ceiling", "weights", "rules", "bands", "from", "below", "overdue",
    "escalation", "levels", "points", "cap", "workflows", "accountability", "kinds", "open", "close", "extra",
    "when", "reject", "overdue_working_day", "closed_on_time", "late_progress", "late_reply", "sent_back",
}  # fmt: skip

MORE_MISTAKES = [
    "--as fenglei accountability open ZG-2026-0017 --kind 罚款 --person 张三 --decision 约谈",
    "--as fenglei accountability open ZG-2026-0017 --kind 约谈 --person 张三 --decision 约谈 --on 2027-01-01",
    "audit verify --anchor {dir}/乱码.json",
    "export -o {dir}",
    "notices show 第三号",
    "notices show 2026-1 -o {dir}/督办单.txt",
    "campaign list --nope",
]


@pytest.mark.parametrize("command", MORE_MISTAKES)
def test_more_mistakes_are_refused_in_chinese(  # type: ignore[no-untyped-def]
    command: str, files_db: str, people: set[str], call, monkeypatch
) -> None:
    monkeypatch.setenv("DUBAN_NOW", NOW)
    monkeypatch.setenv("DUBAN_AUDIT_KEY", "k" * 40)
    folder = Path(files_db).parent
    (folder / "乱码.json").write_text("{not json", encoding="utf-8")
    result = call("--db", files_db, "--lang", "zh", *command.replace("{dir}", str(folder)).split())
    assert result.code != 0 and result.err.startswith("duban：错误："), result.err
    assert english_words(result.err, people) == [], result.err


def test_a_changed_history_is_named_in_chinese(files_db: str, people: set[str], call, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """audit verify on an edited copy, and a restore of it, say where the history breaks in Chinese."""
    monkeypatch.setenv("DUBAN_NOW", NOW)
    edited = Path(files_db).parent / "改过.db"
    src, dst = sqlite3.connect(files_db), sqlite3.connect(edited)
    with dst:
        src.backup(dst)
    src.close()
    with dst:
        dst.execute("DROP TRIGGER events_append_only_update")  # the owner of the file takes the guard off
        dst.execute("UPDATE events SET comment = '改过' WHERE id = (SELECT min(id) FROM events)")
        dst.execute("UPDATE people SET name = '改名' WHERE id = 'fenglei'")
    dst.close()
    verify = call("--db", str(edited), "--lang", "zh", "audit", "verify")
    assert verify.code == 8 and "被改动过" in verify.err, verify.err
    assert english_words(verify.out + verify.err, people) == [], verify.err
    restore = call("--db", files_db, "--lang", "zh", "restore", str(edited))
    assert restore.code == 8 and "历史记录校验不通过" in restore.err, restore.err
    assert english_words(restore.err, people) == [], restore.err
    english = call("--db", str(edited), "--lang", "en", "audit", "verify")
    assert "does not match its hash (edited)" in english.err  # English keeps its words
