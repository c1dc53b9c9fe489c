"""The web workspace from the command line: ``duban serve`` and ``duban account``."""

from __future__ import annotations

import os
import sys
from dataclasses import replace

import click

from duban.engine.domain.text import Bilingual
from duban.engine.services import accounts
from duban.engine.services.workspace import open_workspace

from .context import Ctx, json_option, pass_ctx
from .render import emit_json, say, when

# What a sign-in record says happened, as people read it; --json keeps the keys.
SIGNIN_OUTCOMES = {
    "ok": Bilingual("登录成功", "ok"),
    "failed": Bilingual("登录失败", "failed"),
    "throttled": Bilingual("尝试过多被限制", "throttled"),
    "signed_out": Bilingual("已退出", "signed_out"),
    "password_changed": Bilingual("本人改密码", "password_changed"),
    "password_set": Bilingual("设置密码", "password_set"),
    "token_issued": Bilingual("生成接口令牌", "token_issued"),
}


def register(cli: click.Group) -> None:
    cli.add_command(serve)
    cli.add_command(account)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (a TLS proxy in front).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
@click.option(
    "--threads",
    type=click.IntRange(1, 64),
    help="Views each worker runs at once (default DUBAN_WEB_THREADS, else 2).",
)
@click.option("--db", "db", metavar="URL|FILE", help="The database, as the global --db (which also works here).")
@pass_ctx
def serve(ctx: Ctx, host: str, port: int, workers: int, threads: int | None, db: str | None) -> None:
    """Serve the web workspace (pages and the JSON API under /api/v1) with uvicorn."""
    import uvicorn

    from duban.web.app import VIEW_THREADS, view_threads

    if db:
        ctx.settings = replace(ctx.settings, database_url=db)
    if threads is not None:
        ctx.settings = replace(ctx.settings, extra={**ctx.settings.extra, VIEW_THREADS: str(threads)})
    threads = view_threads(ctx.settings)  # a bad DUBAN_WEB_THREADS is one line here, not a crash in each worker
    app = ctx.app(check=False)  # the server's account is not a person: no check_operator
    open_workspace(app)
    server_account = accounts.check_may_serve(app)
    say(
        ctx.t(
            f"督办网页工作台：http://{host}:{port}/ （服务器账号 {server_account}，数据库 {app.db.display}）",
            f"duban web workspace: http://{host}:{port}/ (server account {server_account}, database {app.db.display})",
        )
    )
    if workers == 1:
        from duban.web.app import create_app

        uvicorn.run(create_app(engine=app), host=host, port=port, proxy_headers=True, log_level="info")
        return
    from duban.web.serving import serve_workers

    os.environ["DUBAN_DATABASE_URL"] = ctx.settings.database_url  # each worker process builds its own engine
    os.environ[VIEW_THREADS] = str(threads)
    app.close()
    serve_workers(host, port, workers)


@click.group()
def account() -> None:
    """Web accounts: passwords, API tokens, sign-in records."""


def _read_password(ctx: Ctx) -> str:
    if sys.stdin.isatty():
        return click.prompt(ctx.t("新密码", "New password"), hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@account.command(name="set-password")
@click.argument("person")
@pass_ctx
def set_password(ctx: Ctx, person: str) -> None:
    """Set PERSON's web password (admin; anyone for themselves). Prompts twice, or reads a line from stdin.

    Set by someone else, the password must be changed at the first sign-in.
    """
    app = ctx.app()
    web_account = accounts.set_password(app, ctx.actor, person, _read_password(ctx))
    say(ctx.t(f"已为 {web_account} 设置密码", f"password set for {web_account}"))


@account.command(name="token")
@click.argument("person")
@pass_ctx
def token(ctx: Ctx, person: str) -> None:
    """Print a new API token for PERSON, once (admin; anyone for themselves). Only its hash is kept."""
    click.echo(accounts.issue_token(ctx.app(), ctx.actor, person))


@account.command(name="tokens")
@click.argument("person", required=False)
@json_option
@pass_ctx
def tokens(ctx: Ctx, person: str | None) -> None:
    """List API tokens: PERSON's (admin; anyone for their own), or everyone's (admin). Never the token itself."""
    app = ctx.app()
    rows = accounts.list_tokens(app, ctx.actor, person)
    if ctx.json:
        emit_json(rows, app.tz)
        return
    if not rows:
        say(ctx.t("没有 API 令牌", "no API tokens"))
    for r in rows:
        state = (
            ctx.t(f"已撤销 {when(r.revoked_at, app.tz)}", f"revoked {when(r.revoked_at, app.tz)}")
            if r.revoked_at
            else ctx.t("有效", "live")
        )
        say(f"{r.id}  {r.account}  {when(r.created_at, app.tz)}  {state}")


@account.command(name="revoke-token")
@click.argument("token_id")
@json_option
@pass_ctx
def revoke_token(ctx: Ctx, token_id: str) -> None:
    """Revoke the API token TOKEN_ID (as `account tokens` lists it): its owner or an admin; on record."""
    app = ctx.app()
    info = accounts.revoke_token(app, ctx.actor, token_id)
    if ctx.json:
        emit_json(info, app.tz)
        return
    say(ctx.t(f"已撤销 {info.account} 的令牌 {info.id}", f"revoked token {info.id} of {info.account}"))


@account.command(name="signins")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000))
@json_option
@pass_ctx
def signins(ctx: Ctx, limit: int) -> None:
    """Recent sign-ins, sign-outs, failures and throttled attempts (records on the chain)."""
    app = ctx.app()
    rows = accounts.signin_log(app, limit)
    if ctx.json:
        emit_json(rows, app.tz)
        return
    for r in rows:
        outcome = ctx.pick(SIGNIN_OUTCOMES[r.outcome]) if r.outcome in SIGNIN_OUTCOMES else r.outcome
        say(f"{when(r.at, app.tz)}  {r.account}  {outcome}  {r.address or ''}  {r.written_by or ''}")
