"""Workspace and organisation commands: init, org import, org show."""

from __future__ import annotations

from pathlib import Path

import click

from duban.engine.domain.workflow import ROLE_LABELS
from duban.engine.services import org as org_service
from duban.engine.services.workspace import init_workspace

from .context import Ctx, json_option, pass_ctx
from .render import emit_json, say, table

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def register(cli: click.Group) -> None:
    cli.add_command(init)
    cli.add_command(org)


@click.command()
@click.option("--org", "org_file", type=FILE, help="Organisation file (YAML or CSV) to load.")
@click.option(
    "--single-desk/--no-single-desk",
    "single_desk",
    default=None,
    help="One shared desk: people act as typed (--as), not as their accounts. Changing it takes an admin.",
)
@click.option(
    "--allow-fixed-clock/--no-allow-fixed-clock",
    "allow_fixed_clock",
    default=None,
    help="A test workspace: accept DUBAN_NOW and sweep --now although it is not single-desk. Takes an admin.",
)
@click.option(
    "--service-account",
    metavar="ACCOUNT",
    help="Register a server's account (os:NAME or pg:ROLE) that acts for signed-in people: the web workspace. Takes an admin.",
)
@pass_ctx
def init(
    ctx: Ctx,
    org_file: Path | None,
    single_desk: bool | None,
    allow_fixed_clock: bool | None,
    service_account: str | None,
) -> None:
    """Create or upgrade the database schema; optionally load the organisation."""
    app = ctx.app(check=False)
    counts = init_workspace(
        app,
        org_file,
        ctx.actor,
        single_desk=single_desk,
        allow_fixed_clock=allow_fixed_clock,
        service_account=service_account,
    )
    say(ctx.t(f"数据库已就绪：{app.db.display}", f"database ready: {app.db.display}"))
    if counts:
        say(
            ctx.t(
                f"单位：新增 {counts.units_added}，更新 {counts.units_updated}；人员：新增 {counts.people_added}，更新 {counts.people_updated}",
                f"units: {counts.units_added} added, {counts.units_updated} updated; "
                f"people: {counts.people_added} added, {counts.people_updated} updated",
            )
        )


@click.group()
def org() -> None:
    """The organisation: units and people."""


@org.command(name="import")
@click.argument("file", type=FILE)
@pass_ctx
def org_import(ctx: Ctx, file: Path) -> None:
    """Add or update units and people from a YAML or CSV file (admin)."""
    c = org_service.import_org(ctx.app(), file, ctx.actor)
    say(
        ctx.t(
            f"单位：新增 {c.units_added}，更新 {c.units_updated}；人员：新增 {c.people_added}，更新 {c.people_updated}",
            f"units: {c.units_added} added, {c.units_updated} updated; people: {c.people_added} added, {c.people_updated} updated",
        )
    )


@org.command(name="show")
@json_option
@pass_ctx
def org_show(ctx: Ctx) -> None:
    """Units and people."""
    view = org_service.org_view(ctx.app())
    if ctx.json:
        emit_json({"units": view.units, "people": view.people})
        return
    table(
        ctx,
        [("单位", "Unit"), ("上级单位", "Parent"), ("负责人", "Head"), ("人数", "People")],
        [[u.name, u.parent or "", f"{u.head_name} ({u.head})" if u.head else "", str(u.people)] for u in view.units],
        title=ctx.t("单位", "Units"),
    )
    table(
        ctx,
        [("编号", "Id"), ("姓名", "Name"), ("单位", "Unit"), ("角色", "Roles"), ("邮箱", "Email")],
        [
            [p.id, p.name, p.unit or "", ctx.t("、", ", ").join(_role(ctx, r) for r in p.roles), p.email or ""]
            for p in view.people
        ],
        title=ctx.t("人员", "People"),
    )


def _role(ctx: Ctx, role: str) -> str:
    """A role in the chosen language: 单位负责人 under zh, the key under en."""
    label = ROLE_LABELS.get(role)
    return ctx.pick(label) if label else role
