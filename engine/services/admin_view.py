"""The administration pages: the organisation by upload, people and their accounts, workflow diagrams,
settings with secrets masked. Every function checks the admin role itself, so no view can forget it."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..app import App
from ..domain.diagram import workflow_svg
from ..domain.errors import InvalidInput, UnknownWorkflow
from ..domain.evidence_types import safe_name
from ..domain.text import Bilingual, Lang
from ..persistence.read.ledger_page import AccountRow
from ..persistence.repository import ImportCounts
from .ledger_view import PageNotPermitted
from .org import import_org


def require_admin(app: App, person_id: str) -> None:
    with app.uow(write=False) as uow:
        me = uow.web.viewer(person_id)
    if me is None or "admin" not in me.roles:
        raise PageNotPermitted(role=Bilingual("系统管理员", "administrators"))


def people_and_accounts(app: App, person_id: str) -> list[AccountRow]:
    require_admin(app, person_id)
    with app.uow(write=False) as uow:
        return uow.ledger_page.accounts()


def settings_shown(app: App, person_id: str) -> list[tuple[str, str, str]]:
    require_admin(app, person_id)
    return app.settings.shown()


@dataclass(frozen=True)
class Diagram:
    name: str
    label: Bilingual
    svg: str


def diagrams(app: App, person_id: str, lang: Lang) -> list[Diagram]:
    require_admin(app, person_id)
    return [Diagram(s.name, s.label, workflow_svg(s, lang)) for s in app.registry.specs]


def diagram(app: App, person_id: str, name: str, lang: Lang) -> str:
    require_admin(app, person_id)
    spec = app.registry.find(name)
    if spec is None:
        raise UnknownWorkflow(name=name, known=", ".join(s.name for s in app.registry.specs))
    return workflow_svg(spec, lang)


def import_organisation(app: App, person_id: str, filename: str, content: bytes) -> ImportCounts:
    """The organisation file, uploaded: checked and imported by ``org.import_org`` as from the CLI."""
    require_admin(app, person_id)
    name = safe_name(filename or "org.yaml")
    if not name.lower().endswith((".yaml", ".yml")):
        raise InvalidInput(
            what=Bilingual("文件", "file"),
            detail=Bilingual(
                f"'{name}' 不是 YAML 格式的组织架构文件（.yaml）", f"'{name}' is not a YAML organisation file (.yaml)"
            ),
        )
    with tempfile.TemporaryDirectory(prefix="duban-org-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(content)
        return import_org(app, path, person_id)
