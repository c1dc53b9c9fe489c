"""Entry point: global options, and one clear line on stderr for every refusal."""

from __future__ import annotations

import os
import sys
from dataclasses import replace

import click

from engine.domain.errors import DubanError
from engine.domain.text import Lang
from engine.domain.textcheck import printable
from engine.settings import Settings, lang_from_locale

from . import audit, backup, config, deadlines, demo, ledger, org, outbox, report, tasks, web, worker, workflow
from .context import Ctx


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--db",
    "db",
    metavar="URL|FILE",
    envvar="DUBAN_DATABASE_URL",
    help="Database: a SQLite file (default ./duban.db) or postgresql+psycopg://… [env DUBAN_DATABASE_URL]",
)
@click.option("--as", "actor", metavar="PERSON_ID", envvar="DUBAN_USER", help="Who is acting. [env DUBAN_USER]")
@click.option("--lang", type=click.Choice(["zh", "en"]), help="Language of the output (default: from the locale).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output with stable keys.")
@click.version_option(package_name="duban")
@click.pass_context
def cli(click_ctx: click.Context, db: str | None, actor: str | None, lang: Lang | None, as_json: bool) -> None:
    """duban 督办 — rectification and assistance tasks: assign, carry out, review, close."""
    settings = Settings.from_env()
    if db:
        settings = replace(settings, database_url=db)
    ctx = Ctx(settings=settings, lang=lang or settings.lang, json=as_json, actor=actor or settings.user)
    click_ctx.obj = ctx
    click_ctx.call_on_close(ctx.close)


for module in (tasks, deadlines, outbox, report, ledger, org, workflow, worker, demo, config, backup, audit, web):
    module.register(cli)


def _lang_from_argv(argv: list[str]) -> Lang:
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv) and argv[i + 1] in ("zh", "en"):
            return argv[i + 1]  # type: ignore[return-value]
        if arg in ("--lang=zh", "--lang=en"):
            return arg.split("=", 1)[1]  # type: ignore[return-value]
    return lang_from_locale(os.environ)


def run(argv: list[str] | None = None) -> None:
    """Console script: turns every expected failure into one line and an exit status."""
    args = sys.argv[1:] if argv is None else argv
    lang = _lang_from_argv(args)
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
        hint = ""
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            hint = f" ({'参见' if lang == 'zh' else 'see'} '{exc.ctx.command_path} --help')"
        click.echo(prefix + printable(" ".join(exc.format_message().split())) + hint, err=True)
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo(prefix + ("已中止" if lang == "zh" else "aborted"), err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback for users
        if os.environ.get("DUBAN_DEBUG"):
            raise
        what = ("内部错误" if lang == "zh" else "internal error") + f": {type(exc).__name__}: {exc}"
        click.echo(prefix + printable(" ".join(what.split())) + " (DUBAN_DEBUG=1 shows the traceback)", err=True)
        sys.exit(70)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    run()
