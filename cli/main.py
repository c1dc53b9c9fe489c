"""Entry point: global options, and one clear line on stderr for every refusal."""

from __future__ import annotations

import importlib
import os
import re
import sqlite3
import sys
from dataclasses import replace

import click

from duban.engine.config.settings import Settings, lang_from_locale
from duban.engine.domain.errors import DubanError
from duban.engine.domain.text import Lang
from duban.engine.domain.textcheck import printable

from . import zh
from .context import Ctx

# `duban --help` in sections: (zh, en) title and the commands in it, in the order a user meets them.
SECTIONS: list[tuple[tuple[str, str], tuple[str, ...]]] = [
    (
        ("日常办理", "Daily work"),
        (
            "assign",
            "start",
            "progress",
            "submit",
            "approve",
            "reject",
            "close",
            "reopen",
            "cancel",
            "fire",
            "list",
            "show",
            "extend",
            "extension",
            "return",
            "reassign",
            "insist",
            "transfer",
            "suspend",
            "resume",
            "verify",
            "co-unit",
            "substitute",
            "split",
            "close-out",
        ),
    ),
    (("台账", "Ledger"), ("import", "export", "campaign", "instruction", "report", "circulars")),
    (
        ("督办", "Supervision"),
        ("remind", "sweep", "notifications", "digest", "score", "accountability", "notices", "worker", "beat"),
    ),
    (("管理", "Administration"), ("init", "org", "workflow", "config", "backup", "restore", "audit", "demo")),
    (("网页工作台", "Web workspace"), ("serve", "account")),
]
EXAMPLES: list[tuple[str, str, str]] = [
    ("duban init --single-desk --org examples/org.yaml", "建库并导入组织", "create the workspace"),
    (
        'duban --as wangjun assign --title "路灯损坏" --unit 社会事务科 --leader 张伟 --deadline 年底前',
        "交办",
        "assign a task",
    ),
    ("duban --as fenglei start ZG-2026-0001", "签收", "the unit starts"),
    ("duban list --overdue", "逾期任务", "overdue tasks"),
    ("duban --lang zh show ZG-2026-0001", "详情与时间线", "details and timeline"),
    ("duban report --period month -o 通报.docx", "月度通报", "the monthly circular"),
]


# Which module of cli/ defines each command: a command's module (and what it imports, SQLAlchemy above all) is
# loaded only when that command runs, so `duban --version` or `duban show` pays for nothing else.
# tests/e2e/test_cli_startup.py checks this table against what the modules register.
COMMAND_MODULES: dict[str, str] = {
    **dict.fromkeys(
        (
            "assign",
            "fire",
            "progress",
            "list",
            "show",
            "start",
            "submit",
            "approve",
            "reject",
            "close",
            "reopen",
            "cancel",
            "suspend",
            "resume",
        ),
        "tasks",
    ),
    **dict.fromkeys(("extend", "extension", "remind"), "deadlines"),
    **dict.fromkeys(("sweep", "notifications"), "outbox"),
    **dict.fromkeys(("report", "circulars"), "report"),
    **dict.fromkeys(("import", "export", "campaign"), "ledger"),
    **dict.fromkeys(("init", "org"), "org"),
    "workflow": "workflow",
    "instruction": "instructions",
    "verify": "verification",
    "co-unit": "co_units",
    "substitute": "substitutes",
    **dict.fromkeys(("split", "close-out"), "splitting"),
    **dict.fromkeys(("return", "reassign", "insist", "transfer"), "transfers"),
    **dict.fromkeys(("worker", "beat"), "worker"),
    "demo": "demo",
    "digest": "digest",
    "config": "config",
    **dict.fromkeys(("backup", "restore"), "backup"),
    "audit": "audit",
    **dict.fromkeys(("score", "accountability", "notices"), "scoring"),
    **dict.fromkeys(("serve", "account"), "web"),
}


class RootGroup(click.Group):
    """The top level: commands loaded when used, listed in sections, then examples, in the chosen language."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(COMMAND_MODULES))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            self.load(COMMAND_MODULES[cmd_name])
        return self.commands.get(cmd_name)

    def load(self, module_name: str) -> None:
        """Register one module's commands, with --lang after them and their help in the chosen language."""
        before = set(self.commands)
        importlib.import_module(f"{__package__}.{module_name}").register(self)
        for name in sorted(set(self.commands) - before):
            _lang_everywhere_on(self.commands[name])
            zh.localize(self.commands[name], zh.current(), name)

    def load_all(self) -> None:
        for module_name in sorted(set(COMMAND_MODULES.values())):
            if not all(n in self.commands for n, m in COMMAND_MODULES.items() if m == module_name):
                self.load(module_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        zh_ = zh.current() == "zh"
        listed: set[str] = set()
        limit = formatter.width - 6 - max((len(n) for n in self.list_commands(ctx)), default=0)
        sections = [*SECTIONS, (("其他", "Other"), tuple(self.list_commands(ctx)))]
        for (title_zh, title_en), names in sections:
            rows = []
            for name in names:
                command = self.get_command(ctx, name)
                if command is None or command.hidden or name in listed:
                    continue
                listed.add(name)
                rows.append((name, command.get_short_help_str(limit)))
            if rows:
                with formatter.section(title_zh if zh_ else title_en):
                    formatter.write_dl(rows)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        zh_ = zh.current() == "zh"
        with formatter.section("示例" if zh_ else "Examples"):
            for command, text_zh, text_en in EXAMPLES:
                formatter.write_text(f"{command}    # {text_zh if zh_ else text_en}")
        super().format_epilog(ctx, formatter)


@click.group(cls=RootGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--db",
    "db",
    metavar="URL|FILE",
    envvar="DUBAN_DATABASE_URL",
    help="Database: a SQLite file (default ./duban.db) or postgresql+psycopg://… [env DUBAN_DATABASE_URL]",
)
@click.option("--as", "actor", metavar="PERSON_ID", envvar="DUBAN_USER", help="Who is acting. [env DUBAN_USER]")
@click.option(
    "--for",
    "absent",
    metavar="PERSON_ID",
    help="Act as the approved substitute (代理) of this person, who is away. See duban substitute.",
)
@click.option("--lang", type=click.Choice(["zh", "en"]), help="Language of the output (default: from the locale).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output with stable keys.")
@click.version_option(package_name="duban")
@click.pass_context
def cli(
    click_ctx: click.Context, db: str | None, actor: str | None, absent: str | None, lang: Lang | None, as_json: bool
) -> None:
    """duban 督办 — rectification and assistance tasks: assign, carry out, review, close."""
    settings = Settings.from_env()
    if db:
        settings = replace(settings, database_url=db)
    ctx = Ctx(
        settings=settings, lang=lang or settings.lang, json=as_json, actor=actor or settings.user, absent=absent or None
    )
    click_ctx.obj = ctx
    click_ctx.call_on_close(ctx.close)


def _set_lang(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        found = ctx.find_object(Ctx)
        if found is not None:
            found.lang = value  # type: ignore[assignment]


def _lang_everywhere_on(command: click.Command) -> None:
    """``--lang`` is accepted after any command, as ``--json`` is (a command with its own --lang keeps it)."""
    if not any(isinstance(p, click.Option) and "--lang" in p.opts for p in command.params):
        command.params.append(
            click.Option(
                ["--lang", "lang_after"],
                type=click.Choice(["zh", "en"]),
                expose_value=False,
                callback=_set_lang,
                help="Language of the output (default: from the locale).",
            )
        )
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _lang_everywhere_on(sub)


zh.install()


def _lang_from_argv(argv: list[str]) -> Lang:
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv) and argv[i + 1] in ("zh", "en"):
            return argv[i + 1]  # type: ignore[return-value]
        if arg in ("--lang=zh", "--lang=en"):
            return arg.split("=", 1)[1]  # type: ignore[return-value]
    return lang_from_locale(os.environ)


def _os_problem(exc: OSError, lang: Lang) -> str:
    """One line for an operating-system refusal: the path, the system's reason, what to check."""
    where = exc.filename if exc.filename is not None else ("（未知路径）" if lang == "zh" else "(unknown path)")
    reason = exc.strerror or type(exc).__name__
    if lang == "zh":
        return f"{where}：系统拒绝访问（{reason}）；请检查该路径及其权限"
    return f"{where}: the system refused it ({reason}); check the path and its permissions"


def _is_database_error(exc: BaseException) -> bool:
    """A driver's or SQLAlchemy's database error; SQLAlchemy is looked up only if a command already loaded it."""
    if isinstance(exc, sqlite3.DatabaseError):
        return True
    sa = sys.modules.get("sqlalchemy.exc")
    return sa is not None and isinstance(exc, sa.DBAPIError)


def _last_line(exc: BaseException, lang: Lang, prefix: str) -> int:
    """What no service foresaw, still as one line and a documented status where there is one."""
    if _is_database_error(exc):  # a database refusal that reached us past the unit of work
        reason = " ".join(str(getattr(exc, "orig", exc)).split()[:40]) or type(exc).__name__
        what = f"数据库出错（{reason}）" if lang == "zh" else f"database problem ({reason})"
        click.echo(prefix + printable(what), err=True)
        return 7
    if isinstance(exc, OSError):  # a file or folder the environment refuses: the path, and bad input's status
        click.echo(prefix + printable(_os_problem(exc, lang)), err=True)
        return 2
    what = ("内部错误" if lang == "zh" else "internal error") + f": {type(exc).__name__}: {exc}"
    click.echo(
        prefix
        + printable(" ".join(what.split()))
        + ("（设置 DUBAN_DEBUG=1 可查看调用栈）" if lang == "zh" else " (DUBAN_DEBUG=1 shows the traceback)"),
        err=True,
    )
    return 70


def run(argv: list[str] | None = None) -> None:
    """Console script: turns every expected failure into one line and an exit status."""
    args = sys.argv[1:] if argv is None else argv
    lang = _lang_from_argv(args)
    zh.localize(cli, lang)
    prefix = "duban：错误：" if lang == "zh" else "duban: error: "
    try:
        code = cli.main(args=args, prog_name="duban", standalone_mode=False)
    except DubanError as exc:
        click.echo(prefix + printable(exc.render(lang)), err=True)
        sys.exit(exc.exit_code)
    except UnicodeEncodeError:
        click.echo(
            prefix + ("参数不是有效的 UTF-8 文本" if lang == "zh" else "an argument is not valid UTF-8 text"), err=True
        )
        sys.exit(2)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc), err=True)
        sys.exit(2)
    except click.ClickException as exc:
        message = " ".join(exc.format_message().split())
        hint = ""
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            hint = (
                f"（参见 '{exc.ctx.command_path} --help'）"
                if lang == "zh"
                else f" (see '{exc.ctx.command_path} --help')"
            )
        if lang == "zh":  # click's sentences end in '.', and join with a space
            message = re.sub(r"\.(\s|$)", "。", message).replace("。 ", "。").rstrip()
        click.echo(prefix + printable(message) + hint, err=True)
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo(prefix + ("已中止" if lang == "zh" else "aborted"), err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback for users
        if os.environ.get("DUBAN_DEBUG"):
            raise
        sys.exit(_last_line(exc, lang, prefix))
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    run()
