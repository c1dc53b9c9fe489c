"""Opening and initialising a workspace (its database and the definitions in force)."""

from __future__ import annotations

import re
from pathlib import Path

from ..app import App
from ..domain.audit import SERVICE_ACCOUNTS
from ..domain.errors import DefinitionError, InvalidInput, StoreError
from ..domain.org import load_org_file
from ..domain.text import Bilingual
from ..persistence.db import KNOWN_REVISIONS
from ..persistence.repository import ImportCounts
from .identity import FIXED_CLOCK, SINGLE_DESK, acting, set_setting
from .org import import_org, require_admin


def init_workspace(
    app: App,
    org_file: Path | None = None,
    actor_id: str | None = None,
    *,
    single_desk: bool | None = None,
    allow_fixed_clock: bool | None = None,
    service_account: str | None = None,
) -> ImportCounts | None:
    """Create or upgrade the schema, then load the organisation if given (the first load needs no actor).

    ``single_desk`` marks the workspace as one shared desk, where people act as typed (``--as``);
    None leaves the mark as it is (a new workspace is not single-desk).
    """
    from ..persistence import migrate  # Alembic costs a quarter second to import: only init pays it

    if org_file is not None and app.db.schema_revision_if_any() is None:
        load_org_file(org_file)  # a bad file is refused before a new database is created
    app.db.prepare_file()  # refuses a folder, a path through a file, a folder that cannot be made
    revision = app.db.schema_revision_if_any()
    if revision is not None and revision not in KNOWN_REVISIONS:
        app.db.check_schema()  # refuses: a newer schema than this code knows
    if revision is None and app.db.exists():
        foreign = app.db.foreign_tables()
        if foreign:
            raise StoreError(
                db=app.db.display,
                detail=Bilingual(
                    f"已有其他程序的数据表（{'、'.join(foreign[:3])}），不是 duban 数据库；请另选文件",
                    f"holds another application's tables ({', '.join(foreign[:3])}), not a duban database; "
                    "choose another file",
                ),
            )
    migrate.upgrade(app.db)
    check_definitions(app)
    switches = {SINGLE_DESK: single_desk, FIXED_CLOCK: allow_fixed_clock}
    if service_account is not None and not re.fullmatch(r"(os|pg):[A-Za-z0-9._@-]{1,64}", service_account):
        raise InvalidInput(
            what=Bilingual("服务账号", "service account"),
            detail=Bilingual(
                f"'{service_account}' 应写作 os:系统账号 或 pg:数据库角色",
                f"'{service_account}' is not os:ACCOUNT or pg:ROLE",
            ),
        )
    if any(v is not None for v in switches.values()) or service_account is not None:
        with app.uow(write=True) as uow:
            people = uow.org.people()
            who = None
            if people:  # relaxing who may act, or letting the clock be set, is an admin's decision
                who = acting(app, uow, actor_id)
                require_admin(who.actor_id, people)
            for key, on in switches.items():
                if on is not None:
                    set_setting(app, uow, key, "true" if on else "false", who)
            if service_account is not None:  # a server that acts for signed-in people (the web workspace)
                known = [a for a in (uow.settings.get(SERVICE_ACCOUNTS) or "").split(",") if a.strip()]
                if service_account not in known:
                    set_setting(app, uow, SERVICE_ACCOUNTS, ",".join([*known, service_account]), who)
            uow.commit()
    return import_org(app, org_file, actor_id) if org_file is not None else None


def open_workspace(app: App) -> None:
    """Refuse to work on a database this code cannot serve, before anything is read or written."""
    app.db.check_schema()
    check_definitions(app)


def check_definitions(app: App) -> None:
    """A changed definition must still have every state that stored tasks are in.

    Checked once per new definition version (the versions seen are recorded),
    so the GROUP BY over tasks is not paid on every command.
    """
    with app.uow(write=False) as uow:
        seen = uow.definitions.seen()
    new = [s for s in app.registry.specs if (s.name, s.version) not in seen]
    if not new:
        return
    with app.uow(write=True) as uow:  # two commands seeing the same new version at once both get here
        for spec in new:
            for state, count in uow.definitions.state_counts(spec.name):
                if state not in spec.states:
                    raise DefinitionError(
                        spec.source,
                        f"state '{state}' was removed, but {count} stored task(s) of workflow "
                        f"'{spec.name}' are in it; keep the state, or move those tasks out first",
                        key="states",
                    )
            uow.definitions.register(spec.name, spec.version, app.clock.now())
        uow.commit()
